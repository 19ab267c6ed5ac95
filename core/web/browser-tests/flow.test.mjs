// The citizen's flow in a real browser: phone and desktop, Italian and English, with and without
// JavaScript, keyboard only; axe-core on every step; no request leaves the server's origin.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertAccessible, launch, openPage } from "./browser.mjs";
import { startServer } from "./server.mjs";

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const desktop = { viewport: { width: 1280, height: 800 } };

/** Service → office and mode → first free day and time → details page. */
async function toDetails(page, { tenant, service, choice, lang }) {
  await page.goto(`${server.base}/t/${tenant}/?lang=${lang}`);
  assert.equal(await page.getAttribute("html", "lang"), lang);
  await assertAccessible(page, "services");
  await page.click(`a[href="/t/${tenant}/s/${service}"]`);
  await assertAccessible(page, "offices");
  await page.check(`input[value="${choice}"]`);
  await page.click("form#offices button[type=submit]");
  await assertAccessible(page, "calendar");
  await page.click("ul.days a >> nth=0");
  await assertAccessible(page, "times");
  await page.check('input[name="start"] >> nth=0');
  await page.click("form#times button[type=submit]");
  assert.match(page.url(), /\/details\//);
  await assertAccessible(page, "details");
}

async function fillCitizen(page) {
  await page.fill("#f-first_name", "Giulia");
  await page.fill("#f-last_name", "Neri");
  await page.fill("#f-email", "giulia.neri@example.it");
  await page.fill("#f-phone", "347 111 2222");
}

test("books at a phone viewport in Italian, with errors shown and fixed", async () => {
  const page = await openPage(browser, server.base, phone);
  await toDetails(page, { tenant: "comune-esempio", service: "certificati-anagrafici", choice: "anagrafe:in_person", lang: "it" });
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
  await assertAccessible(page, "confirmation");
  page.assertSameOrigin();
});

test("books a WhatsApp call at a desktop viewport in English", async () => {
  const page = await openPage(browser, server.base, desktop);
  await toDetails(page, { tenant: "cbtoscananord", service: "avvisi-pagamento", choice: "sede-viareggio:whatsapp", lang: "en" });
  await fillCitizen(page);
  await page.fill("#f-fiscal_code", "RSSMRA85T10A562S");
  await page.fill("#f-contact", "+39 347 111 2222");
  await page.fill("#f-answers-notice_number", "3020 0000 0001 2345 59");
  await page.selectOption("#f-reason", "rateizzazione");
  await page.check("#f-privacy");
  await page.click("form button[type=submit]");
  await assertAccessible(page, "review (en)");
  await page.click("text=Confirm the booking");
  assert.match(await page.textContent("h1"), /Appointment confirmed/);
  assert.match(await page.textContent("main"), /WhatsApp/);
  await assertAccessible(page, "confirmation (en)");
  page.assertSameOrigin();
});

test("books with JavaScript disabled", async () => {
  const page = await openPage(browser, server.base, { ...phone, javaScriptEnabled: false });
  await toDetails(page, { tenant: "comune-esempio", service: "carta-identita", choice: "anagrafe:in_person", lang: "it" });
  await fillCitizen(page);
  await page.fill("#f-fiscal_code", "RSSMRA85T10A562S");
  await page.check("#f-privacy");
  await page.click("form button[type=submit]");
  await page.click("text=Conferma la prenotazione");
  assert.match(await page.textContent("h1"), /Appuntamento confermato/);
  page.assertSameOrigin();
});

/** Presses Tab until `selector` has the focus. */
async function tabTo(page, selector, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

test("the whole flow works with the keyboard alone", async () => {
  const page = await openPage(browser, server.base, desktop);
  await page.goto(`${server.base}/t/comune-esempio/?lang=en`);
  await tabTo(page, 'a[href="/t/comune-esempio/s/certificati-anagrafici"]');
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/s\/certificati-anagrafici$/);
  await tabTo(page, 'input[name="choice"]');
  await page.keyboard.press("Space");
  await tabTo(page, "form#offices button");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/m\/in_person/);
  await tabTo(page, "ul.days a");
  await page.keyboard.press("Enter");
  await page.waitForURL(/day=/);
  await tabTo(page, 'input[name="start"]');
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

test("manages a booking: find, reschedule, cancel", async () => {
  const page = await openPage(browser, server.base, phone);
  await toDetails(page, { tenant: "comune-esempio", service: "certificati-anagrafici", choice: "anagrafe:in_person", lang: "it" });
  await fillCitizen(page);
  await page.fill("#f-email", "manage.me@example.it");
  await page.fill("#f-phone", "333 999 8888");
  await page.selectOption("#f-reason", "nascita");
  await page.check("#f-privacy");
  await page.click("form button[type=submit]");
  await page.click("text=Conferma la prenotazione");
  const code = (await page.textContent("#booking-code")).trim();

  await page.goto(`${server.base}/t/comune-esempio/booking`);
  await assertAccessible(page, "manage");
  await page.fill("#f-code", code);
  await page.fill("#f-email", "manage.me@example.it");
  await page.click("form button[type=submit]");
  await assertAccessible(page, "booking");
  await page.click("text=Sposta l'appuntamento");
  await assertAccessible(page, "reschedule");
  await page.check('input[name="start"] >> nth=1');
  await page.click("form#times button[type=submit]");
  assert.match(await page.textContent("h1"), /Appuntamento spostato/);

  await page.goto(`${server.base}/t/comune-esempio/booking?lang=en`);
  await page.fill("#f-code", code.toLowerCase());
  await page.fill("#f-email", "MANAGE.ME@example.it");
  await page.click("form button[type=submit]");
  await page.click("text=Cancel the appointment");
  await assertAccessible(page, "cancel question (en)");
  await page.click("text=Yes, cancel it");
  assert.match(await page.textContent("h1"), /Appointment cancelled/);
  await assertAccessible(page, "cancelled (en)");
  page.assertSameOrigin();
});
