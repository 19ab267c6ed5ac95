// The citizen's flow in a real browser: phone and desktop, Italian and English, with and without
// JavaScript, keyboard only; axe-core on every step; no request leaves the server's origin.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertAccessible, desktop, openPage, phone, serverAndBrowser } from "./browser.mjs";
import { DEMO_NOTICE, fillCitizen, pickFirstDay, toDetails } from "./citizen.mjs";

const env = serverAndBrowser();

test("books at a phone viewport in Italian, with errors shown and fixed", async () => {
  const page = await openPage(env.browser, env.server.base, phone);
  await toDetails(page, env.server.base, { tenant: "comune-esempio", service: "certificati-anagrafici", choice: "anagrafe:in_person", lang: "it" });
  // Submitting empty: the summary takes the focus and links to each field.
  await page.click("form button[type=submit]");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "error-summary");
  assert.ok(await page.isVisible('a[href="#f-first_name"]'));
  await assertAccessible(page, "details with errors");
  await fillCitizen(page);
  await page.selectOption("#f-reason", "residenza");
  await page.check("#f-privacy");
  await page.click("form button[type=submit]");
  await assertAccessible(page, "review");
  await page.click("text=Conferma la prenotazione");
  assert.match(await page.textContent("h1"), /Appuntamento confermato/);
  assert.match(await page.textContent("#booking-code"), /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  // A receipt: success said, where the e-mail goes (masked), the code as a QR code, printable.
  assert.match(await page.textContent(".success-banner"), /g…@example\.it/);
  assert.ok(await page.isVisible(".qr-code svg"));
  assert.ok(await page.isVisible("button[data-print]"));
  for (const box of await page.locator(".calendar-buttons .btn").evaluateAll((links) => links.map((l) => l.getBoundingClientRect()))) {
    assert.ok(box.height >= 44, `a calendar button of ${box.height} px`);
  }
  await assertAccessible(page, "confirmation");
  page.assertSameOrigin();
});

test("the privacy notice opens from the details step, in the citizen's language", async () => {
  const page = await openPage(env.browser, env.server.base, phone);
  await toDetails(page, env.server.base, { tenant: "comune-esempio", service: "certificati-anagrafici", choice: "anagrafe:in_person", lang: "en" });
  await page.click("fieldset.privacy a");
  await page.waitForURL(/\/t\/comune-esempio\/privacy$/);
  assert.match(await page.textContent("h1"), /Privacy notice/);
  assert.match(await page.textContent(".meta"), /Version 2026-12/);
  assert.match(await page.textContent(".notice-text"), /Controller: Comune di Esempio/);
  assert.ok((await page.locator(".notice-text p").count()) >= 5, "one paragraph per block of the text");
  await assertAccessible(page, "privacy notice (en)");
  page.assertSameOrigin();
});

test("the home page leads to each public body, in both languages", async () => {
  const page = await openPage(env.browser, env.server.base, phone);
  await page.goto(`${env.server.base}/?lang=it`);
  assert.equal(await page.getAttribute("html", "lang"), "it");
  await assertAccessible(page, "home");
  await page.goto(`${env.server.base}/?lang=en`);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await assertAccessible(page, "home (en)");
  await page.click("text=Comune di Esempio");
  await page.waitForURL(/\/t\/comune-esempio\/$/);
  page.assertSameOrigin();
});

test("books a WhatsApp call at a desktop viewport in English", async () => {
  const page = await openPage(env.browser, env.server.base, desktop);
  await toDetails(page, env.server.base, { tenant: "cbtoscananord", service: "avvisi-pagamento", choice: "sede-viareggio:whatsapp", lang: "en" });
  await fillCitizen(page);
  await page.fill("#f-fiscal_code", "RSSMRA85T10A562S");
  // The phone is the WhatsApp number unless the citizen says otherwise.
  assert.ok(await page.isChecked("#f-whatsapp_same"));
  assert.equal(await page.isVisible("#f-contact"), false);
  // The notice is checked when the citizen leaves the field (the rule's lookup hook).
  await page.fill("#f-answers-notice_number", "3020 0000 0001 2345 58");
  await page.press("#f-answers-notice_number", "Tab");
  await page.waitForSelector("#f-answers-notice_number-lookup .field-error");
  assert.match(await page.textContent("#f-answers-notice_number-lookup"), /check digits/);
  await page.fill("#f-answers-notice_number", "3020 0000 0001 2345 59");
  await page.press("#f-answers-notice_number", "Tab");
  await page.waitForFunction(() => /Irrigation fee 2026/.test(document.querySelector("#f-answers-notice_number-lookup").textContent));
  assert.match(await page.textContent("#f-answers-notice_number-lookup"), /Amount: €123\.45/);
  assert.equal(await page.locator("#f-answers-notice_number-lookup .field-error").count(), 0);
  await assertAccessible(page, "details with a notice looked up (en)");
  await page.selectOption("#f-reason", "rateizzazione");
  await page.check("#f-privacy");
  await page.click("form button[type=submit]");
  await assertAccessible(page, "review (en)");
  // The consortium's pagoPA rule (plugins/pagopa-notice) found the notice and summarised it.
  assert.match(await page.textContent("main"), /Irrigation fee 2026/);
  assert.match(await page.textContent("main"), /€123\.45/);
  await page.click("text=Confirm the booking");
  assert.match(await page.textContent("h1"), /Appointment confirmed/);
  assert.match(await page.textContent("main"), /WhatsApp/);
  await assertAccessible(page, "confirmation (en)");
  page.assertSameOrigin();
});

// A service that checks answers first: the notice and its holder before the calendar, the notice's
// details only to its holder, and the details form starting with what passed.
for (const [lang, js] of [["it", false], ["en", true]]) {
  test(`the pagoPA notice is checked before the calendar (${lang}, ${js ? "with" : "without"} JavaScript)`, async () => {
    const page = await openPage(env.browser, env.server.base, { ...phone, javaScriptEnabled: js });
    await page.goto(`${env.server.base}/t/cbtoscananord/s/avvisi-pagamento/o/sede-viareggio/m/in_person?lang=${lang}`);
    assert.match(page.url(), /\/s\/avvisi-pagamento\/check$/, "no calendar before the check");
    await page.fill("#f-answers-notice_number", DEMO_NOTICE.number);
    await page.fill("#f-fiscal_code", "BNCGNN80A01H501T");
    await page.click("form button[type=submit]");
    assert.ok(await page.isVisible("#f-answers-notice_number-error"));
    assert.doesNotMatch(await page.textContent("main"), /123[.,]45/, "nothing of someone else's notice");
    await assertAccessible(page, `check refused (${lang})`);
    await page.fill("#f-fiscal_code", DEMO_NOTICE.fiscalCode);
    await page.click("form button[type=submit]");
    assert.match(page.url(), /\/s\/avvisi-pagamento$/);
    assert.match(await page.textContent(".checked"), /123[.,]45/);
    await assertAccessible(page, `offices after the check (${lang})`);
    await page.check('input[value="sede-viareggio:in_person"]');
    await page.click("form#offices button[type=submit]");
    await pickFirstDay(page);
    await page.check('#times input[name="start"] >> nth=0');
    await page.click("form#times button[type=submit]");
    assert.equal(await page.inputValue("#f-answers-notice_number"), "302000000001234559");
    assert.equal(await page.inputValue("#f-fiscal_code"), DEMO_NOTICE.fiscalCode);
    page.assertSameOrigin();
  });
}

test("books with JavaScript disabled", async () => {
  const page = await openPage(env.browser, env.server.base, { ...phone, javaScriptEnabled: false });
  await toDetails(page, env.server.base, { tenant: "comune-esempio", service: "carta-identita", choice: "anagrafe:in_person", lang: "it" });
  await fillCitizen(page);
  await page.fill("#f-fiscal_code", "RSSMRA85T10A562S");
  await page.check("#f-privacy");
  await page.click("form button[type=submit]");
  // The town's fiscal-code rule (plugins/fiscal-code) shows the date of birth it read.
  assert.match(await page.textContent("main"), /10\/12\/1985/);
  await page.click("text=Conferma la prenotazione");
  assert.match(await page.textContent("h1"), /Appuntamento confermato/);
  page.assertSameOrigin();
});

// Step 3 on a phone: a month grid with the first free time on top; tapping a day brings its times
// into view, with or without JavaScript.
for (const [lang, js] of [["it", true], ["en", false], ["en", true], ["it", false]]) {
  test(`the month grid puts a day's times in view on a phone (${lang}, ${js ? "with" : "without"} JavaScript)`, async () => {
    const page = await openPage(env.browser, env.server.base, { ...phone, javaScriptEnabled: js });
    await page.goto(`${env.server.base}/t/comune-esempio/s/certificati-anagrafici/o/anagrafe/m/in_person?lang=${lang}`);
    assert.equal(await page.locator("table.month thead th").count(), 7);
    assert.ok(await page.isVisible("form.first-free button"), "the first free time is offered");
    await assertAccessible(page, `month grid (${lang})`);
    // Every free day is a target of at least 44 × 44 px.
    for (const box of await page.locator("table.month a.free").evaluateAll((days) => days.map((d) => d.getBoundingClientRect()))) {
      assert.ok(box.width >= 44 && box.height >= 44, `a day of ${box.width}×${box.height} px`);
    }
    // With the script the times come in place: the page is not loaded again, and the focus is on them.
    await page.evaluate(() => { window.notReloaded = true; });
    await page.click("table.month a.free >> nth=1");
    await page.waitForURL(/day=/);
    await page.waitForSelector("form#times");
    if (js) {
      assert.equal(await page.evaluate(() => window.notReloaded), true, "the times came in place");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "times");
      assert.equal(await page.locator("table.month a[aria-current=date]").count(), 1, "the grid marks the day");
    }
    // The browser scrolls to #times once the page has loaded; give it that moment, no more.
    await page.waitForFunction(() => {
      const button = document.querySelector("form#times button[type=submit]")?.getBoundingClientRect();
      return button && button.top >= 0 && button.bottom <= innerHeight;
    }, null, { timeout: 2000 }).catch(() => {});
    const [first, button] = await page.evaluate(() => [
      document.querySelector('#times input[name="start"]').closest(".time").getBoundingClientRect(),
      document.querySelector("form#times button[type=submit]").getBoundingClientRect(),
    ].map((r) => ({ top: r.top, bottom: r.bottom, height: r.height })));
    const viewport = phone.viewport.height;
    assert.ok(first.top >= 0 && first.bottom <= viewport, `the first time is in view: ${JSON.stringify(first)}`);
    assert.ok(first.height >= 44, `a time is a 44 px target: ${first.height}`);
    assert.ok(button.top >= 0 && button.bottom <= viewport, `the button is in view too: ${JSON.stringify(button)}`);
    console.log(`${lang}${js ? "" : " without JavaScript"}: first time at ${Math.round(first.top)} px, the button at ${Math.round(button.top)} px of ${viewport}`);
    await assertAccessible(page, `a day's times (${lang})`);
    // Back returns to the month (in place too); the first free time books in one tap from there.
    await page.goBack();
    await page.waitForSelector("form#times", { state: "detached" });
    await page.click("form.first-free button");
    assert.match(page.url(), /\/details\//);
    page.assertSameOrigin();
  });
}

// The details form on a phone: one number for phone and WhatsApp (another only if the tick is
// removed), a live count of the free text, a hint for a mistyped e-mail provider.
for (const [lang, js] of [["it", true], ["en", false]]) {
  test(`the details form: phone and WhatsApp, the counter, the e-mail hint (${lang}, ${js ? "with" : "without"} JavaScript)`, async () => {
    const page = await openPage(env.browser, env.server.base, { ...phone, javaScriptEnabled: js });
    await toDetails(page, env.server.base, { tenant: "cbtoscananord", service: "avvisi-pagamento", choice: "sede-viareggio:whatsapp", lang });
    assert.ok(await page.isChecked("#f-whatsapp_same"), "ticked at first");
    assert.equal(await page.isVisible("#f-contact"), !js, "the other number is needed only without the tick");
    if (js) {
      await page.uncheck("#f-whatsapp_same");
      assert.ok(await page.isVisible("#f-contact"));
      await page.check("#f-whatsapp_same");
      assert.equal(await page.isVisible("#f-contact"), false);
      await page.fill("#f-details", "x".repeat(190));
      assert.match(await page.textContent("#f-details-count"), /190/);
      await page.fill("#f-details", "x".repeat(205));
      assert.match(await page.textContent("#f-details-count"), /205/);
      assert.ok(await page.evaluate(() => document.querySelector("#f-details-count").classList.contains("field-error")));
      await assertAccessible(page, `details with the counter over (${lang})`);
      await page.fill("#f-details", "");
    }
    await fillCitizen(page);
    await page.fill("#f-email", "giulia.neri@gmial.con");
    await page.fill("#f-phone", "0584 123456");
    await page.fill("#f-fiscal_code", "RSSMRA85T10A562S");
    await page.fill("#f-answers-notice_number", "302000000001234559");
    await page.selectOption("#f-reason", "rateizzazione");
    await page.check("#f-privacy");
    await page.click("form button[type=submit]");
    // A landline cannot take a WhatsApp call: said on the phone field.
    assert.ok(await page.isVisible("#f-phone-error"));
    await assertAccessible(page, `details: a landline for WhatsApp (${lang})`);
    await page.fill("#f-phone", "347 111 2222");
    await page.click("form button[type=submit]");
    assert.match(await page.textContent(".email-hint"), /gmail\.com/);
    await assertAccessible(page, `details: the e-mail hint (${lang})`);
    await page.click(".email-hint button");
    assert.match(page.url(), /\/review\//);
    assert.match(await page.textContent("main"), /giulia\.neri@gmail\.com/);
    page.assertSameOrigin();
  });
}

// A citizen who changes their mind twice still books, holding one place at a time; once booked, Back
// and reload show the receipt instead of "Confirm form resubmission".
for (const [lang, js] of [["it", true], ["en", false]]) {
  test(`Back twice, a third time books, Back after booking shows the receipt (${lang}, ${js ? "with" : "without"} JavaScript)`, async () => {
    const page = await openPage(env.browser, env.server.base, { ...phone, javaScriptEnabled: js });
    await toDetails(page, env.server.base, { tenant: "comune-esempio", service: "certificati-anagrafici", choice: "anagrafe:in_person", lang });
    const firstDetails = page.url();
    await fillCitizen(page);
    await page.selectOption("#f-reason", "residenza");
    await page.check("#f-privacy");
    await page.click("form button[type=submit]");
    assert.match(page.url(), /\/review\//);
    for (const nth of [1, 2]) {
      await page.waitForLoadState("load");
      await page.goBack();
      if (/\/details\//.test(page.url())) await page.goBack();
      assert.match(page.url(), /day=/);
      // Another day (the last free one: earlier tests took times of the first days).
      await page.click("table.month a.free >> nth=-1");
      await page.waitForURL(/day=/);
      await page.check(`#times input[name="start"] >> nth=${nth}`);
      await page.click("form#times button[type=submit]");
      assert.match(page.url(), /\/details\//);
      assert.notEqual(page.url(), firstDetails);
      // What was typed follows the new time.
      assert.equal(await page.inputValue("#f-email"), "giulia.neri@example.it");
    }
    await assertAccessible(page, `details after two changes (${lang})`);
    await page.click("form button[type=submit]");
    await assertAccessible(page, `review (${lang})`);
    await page.click('form[action*="/confirm/"] button');
    assert.match(page.url(), /\/booked\//);
    const code = (await page.textContent("#booking-code")).trim();
    // Going back while a navigation is still settling detaches Playwright from the page.
    await page.waitForLoadState("load");
    await page.goBack();
    assert.match(page.url(), /\/booked\//, "Back from the receipt lands on the receipt again");
    assert.equal((await page.textContent("#booking-code")).trim(), code);
    await page.reload();
    assert.equal((await page.textContent("#booking-code")).trim(), code);
    await assertAccessible(page, `receipt after Back (${lang})`);
    page.assertSameOrigin();
  });
}

/** Presses Tab until `selector` has the focus. */
async function tabTo(page, selector, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

test("the whole flow works with the keyboard alone", async () => {
  const page = await openPage(env.browser, env.server.base, desktop);
  await page.goto(`${env.server.base}/t/comune-esempio/?lang=en`);
  await tabTo(page, 'a[href="/t/comune-esempio/s/certificati-anagrafici"]');
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/s\/certificati-anagrafici/);
  // One office and one mode: step 2 is skipped; otherwise it is a radio and a button.
  if (!/\/m\/in_person/.test(page.url())) {
    await tabTo(page, 'input[name="choice"]');
    await page.keyboard.press("Space");
    await tabTo(page, "form#offices button");
    await page.keyboard.press("Enter");
  }
  await page.waitForURL(/\/m\/in_person/);
  if ((await page.locator("table.month a.free").count()) === 0) {
    await tabTo(page, 'a[rel="next"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/month=/);
  }
  await tabTo(page, "table.month a.free");
  await page.keyboard.press("Enter");
  await page.waitForURL(/day=/);
  await tabTo(page, '#times input[name="start"]');
  await page.keyboard.press("Space");
  await tabTo(page, "form#times button");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/details\//);
  for (const [id, text] of [["#f-first_name", "Ada"], ["#f-last_name", "Bassi"], ["#f-email", "ada.bassi@example.it"], ["#f-phone", "333 444 5555"]]) {
    await tabTo(page, id);
    await page.keyboard.type(text);
  }
  await tabTo(page, "#f-reason");
  await page.keyboard.press("ArrowDown");
  await tabTo(page, "#f-privacy");
  await page.keyboard.press("Space");
  await tabTo(page, "form button[type=submit]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Review your details");
  await tabTo(page, 'form[action*="/confirm/"] button');
  await page.keyboard.press("Enter");
  await page.waitForSelector("#booking-code");
});

/** Finds a booking by code and e-mail, moves it, then cancels it, checking every page with axe. */
async function manageFlow(page, lang, words) {
  await toDetails(page, env.server.base, { tenant: "comune-esempio", service: "certificati-anagrafici", choice: "anagrafe:in_person", lang });
  await fillCitizen(page);
  const email = `manage.${lang}@example.it`;
  await page.fill("#f-email", email);
  await page.fill("#f-phone", lang === "it" ? "333 999 8888" : "333 999 7777");
  await page.selectOption("#f-reason", "nascita");
  await page.check("#f-privacy");
  await page.click("form button[type=submit]");
  await page.click(`text=${words.confirm}`);
  const code = (await page.textContent("#booking-code")).trim();

  await page.goto(`${env.server.base}/t/comune-esempio/booking?lang=${lang}`);
  await assertAccessible(page, `manage (${lang})`);
  await page.fill("#f-code", code.toLowerCase());
  await page.fill("#f-email", email.toUpperCase());
  await page.click("form button[type=submit]");
  await assertAccessible(page, `booking (${lang})`);
  await page.click(`text=${words.move}`);
  await assertAccessible(page, `reschedule: the month (${lang})`);
  // The same month view as step 3: a day first (the next month if this one is over), then a time.
  if ((await page.locator('table.month button[name="day"]').count()) === 0) {
    await page.click('nav button[name="month"] >> nth=-1');
  }
  await page.click('table.month button[name="day"] >> nth=0');
  await assertAccessible(page, `reschedule: the day's times (${lang})`);
  const times = page.locator('#times input[name="start"]');
  await page.check(`#times input[name="start"] >> nth=${(await times.count()) > 1 ? 1 : 0}`);
  await page.click("form#times button[type=submit]");
  // The move is shown before it is made.
  await assertAccessible(page, `move review (${lang})`);
  await page.click(`text=${words.moveYes}`);
  assert.match(await page.textContent("h1"), words.moved);
  await assertAccessible(page, `moved (${lang})`);

  await page.goto(`${env.server.base}/t/comune-esempio/booking`);
  await page.fill("#f-code", code);
  await page.fill("#f-email", email);
  await page.click("form button[type=submit]");
  await page.click(`text=${words.cancel}`);
  await assertAccessible(page, `cancel question (${lang})`);
  await page.click(`text=${words.yes}`);
  assert.match(await page.textContent("h1"), words.cancelled);
  await assertAccessible(page, `cancelled (${lang})`);

  // The citizen's own data: erasure asks first, then says it is done.
  await page.goto(`${env.server.base}/t/comune-esempio/booking`);
  await page.fill("#f-code", code);
  await page.fill("#f-email", email);
  await page.click("form button[type=submit]");
  await page.click(`text=${words.erase}`);
  await assertAccessible(page, `erase question (${lang})`);
  await page.click(`text=${words.eraseYes}`);
  assert.match(await page.textContent(".notice"), words.erased);
  await assertAccessible(page, `erased (${lang})`);
  page.assertSameOrigin();
}

const italian = { confirm: "Conferma la prenotazione", move: "Sposta l'appuntamento", moveYes: "Sì, sposta l'appuntamento", moved: /Appuntamento spostato/, cancel: "Annulla l'appuntamento", yes: "Sì, annulla", cancelled: /Appuntamento annullato/, erase: "Cancella i miei dati", eraseYes: "Sì, cancella i miei dati", erased: /dati personali sono stati cancellati/ };
const english = { confirm: "Confirm the booking", move: "Move the appointment", moveYes: "Yes, move the appointment", moved: /Appointment moved/, cancel: "Cancel the appointment", yes: "Yes, cancel it", cancelled: /Appointment cancelled/, erase: "Erase my data", eraseYes: "Yes, erase my data", erased: /personal data were erased/ };

test("manages, moves and cancels a booking on a phone, in Italian", async () => {
  await manageFlow(await openPage(env.browser, env.server.base, phone), "it", italian);
});

test("manages, moves and cancels a booking on a desktop, in English", async () => {
  await manageFlow(await openPage(env.browser, env.server.base, desktop), "en", english);
});

/** Bytes actually transferred for the page now shown: HTML, CSS, JS, fonts (0 when cached). */
async function weigh(page) {
  return page.evaluate(() => {
    const sizes = { html: 0, css: 0, js: 0, font: 0 };
    for (const entry of [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]) {
      const url = entry.name;
      const kind = entry.entryType === "navigation" ? "html" : url.endsWith(".css") ? "css" : url.endsWith(".js") ? "js" : url.endsWith(".woff2") ? "font" : null;
      if (kind) sizes[kind] += entry.transferSize;
    }
    return sizes;
  });
}

test("each step stays light; footer shows the body's contacts and statements", async () => {
  const page = await openPage(env.browser, env.server.base, phone);
  const weights = {};
  await page.goto(`${env.server.base}/t/cbtoscananord/?lang=it`);
  weights["1 servizi (first visit)"] = await weigh(page);
  assert.match(await page.textContent("footer"), /Contatti: Numero verde/);
  assert.ok(await page.isVisible('footer a:has-text("Dichiarazione di accessibilità")'));
  await page.click('a[href="/t/cbtoscananord/s/irrigazione"]');
  weights["2 ufficio e modalità"] = await weigh(page);
  await page.check('input[value="sede-viareggio:in_person"]');
  await page.click("form#offices button[type=submit]");
  weights["3 data"] = await weigh(page);
  await pickFirstDay(page);
  weights["3 orario"] = await weigh(page);
  await page.check('#times input[name="start"] >> nth=0');
  await page.click("form#times button[type=submit]");
  weights["4 dati"] = await weigh(page);
  console.log("bytes transferred per step (phone, gzip):");
  console.table(weights);
  const first = weights["1 servizi (first visit)"];
  assert.ok(first.html + first.css + first.js + first.font < 100_000, "a first visit, fonts included, stays under 100 KB");
  for (const [step, w] of Object.entries(weights).slice(1)) {
    assert.equal(w.css + w.js + w.font, 0, `${step}: assets come from the cache`);
    assert.ok(w.html < 15_000, `${step}: ${w.html} bytes of HTML`);
  }
});

// The walk a citizen takes on a phone, measured: taps and typed fields from the body's page to the
// receipt (a service without extra fields, the first free time), bytes and first paint per step,
// and a screenshot of each step for reviewers (core/web/screenshots, kept out of git).
test("the walk from the services to the receipt, measured on a phone", async () => {
  const shots = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "screenshots");
  fs.mkdirSync(shots, { recursive: true });
  const page = await openPage(env.browser, env.server.base, phone);
  const steps = [];
  let taps = 0;
  const tap = async (selector) => { taps += 1; await page.click(selector); };
  const check = async (selector) => { taps += 1; await page.check(selector); };
  const record = async (name) => {
    await page.waitForLoadState("load");
    const paint = await page.evaluate(() => new Promise((resolve) => {
      new PerformanceObserver((list) => {
        const entry = list.getEntriesByName("first-contentful-paint")[0];
        if (entry) resolve(entry.startTime);
      }).observe({ type: "paint", buffered: true });
      setTimeout(() => resolve(null), 2000);
    }));
    const bytes = await weigh(page);
    steps.push({ step: name, "first paint (ms)": paint === null ? null : Math.round(paint), "bytes": bytes.html + bytes.css + bytes.js + bytes.font });
    await page.screenshot({ path: path.join(shots, `${String(steps.length).padStart(2, "0")}-${name}.png`), fullPage: true });
    await assertAccessible(page, name);
  };
  await page.goto(`${env.server.base}/t/cbtoscananord/?lang=it`);
  await record("servizi");
  await tap('a[href="/t/cbtoscananord/s/irrigazione"]');
  await record("ufficio-e-modalita");
  // Every choice on a phone is a 44 px target: the back link and each office's modes.
  for (const box of await page.locator(".back-link, .office .radio").evaluateAll((all) => all.map((e) => e.getBoundingClientRect()))) {
    assert.ok(box.height >= 44, `a target of ${box.height} px`);
  }
  await check('input[value="sede-viareggio:in_person"]');
  await tap("form#offices button[type=submit]");
  await record("data-e-ora");
  await tap("form.first-free button");
  await record("dati");
  const typed = ["#f-first_name", "#f-last_name", "#f-email", "#f-phone"];
  const required = await page.locator("form[action*='/details/'] [required]").count();
  for (const [selector, value] of typed.map((s, i) => [s, ["Ada", "Bassi", "ada.bassi@example.it", "347 123 4567"][i]])) {
    await page.fill(selector, value);
  }
  await check("#f-privacy");
  await tap("form[action*='/details/'] button[type=submit]");
  await record("riepilogo");
  await tap('form[action*="/confirm/"] button');
  await record("ricevuta");
  assert.match(await page.textContent("h1"), /Appuntamento confermato/);
  console.log(`the walk: ${taps} taps, ${typed.length} typed fields (${required} required inputs on the form)`);
  console.table(steps);
  assert.ok(taps <= 7, `${taps} taps from the services to the receipt`);
  assert.equal(required, typed.length, "the typed fields are all the form requires");
  page.assertSameOrigin();
});
