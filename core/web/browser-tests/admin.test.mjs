// The staff pages in a real browser: sign-in (and its refusal), the dashboard, a tenant, its staff,
// an invitation accepted in another browser, the audit log and the password page, at tablet and
// desktop sizes, in Italian and English; axe-core on every page; nothing leaves the origin.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { assertAccessible, desktop, openPage, serverAndBrowser, tablet } from "./browser.mjs";
import { fillCitizen, toDetails } from "./citizen.mjs";

const env = serverAndBrowser();

async function signIn(page, email, password, lang = "it") {
  await page.goto(`${env.server.base}/admin/?lang=${lang}`);
  assert.match(page.url(), /\/admin\/login/);
  await assertAccessible(page, "login");
  await page.fill("#f-email", email);
  await page.fill("#f-password", password);
  await page.click("form button[type=submit]");
}

test("a platform admin signs in, sees every body, invites an operator who joins", async () => {
  const platform = env.server.staff["platform@sportello.example"];
  assert.ok(platform, "the demo prints a platform admin");
  const page = await openPage(env.browser, env.server.base, desktop);

  await signIn(page, platform.email, "not the password");
  assert.match(await page.textContent(".error-summary"), /non sono corretti/);
  await assertAccessible(page, "login refused");
  await page.fill("#f-password", platform.password);
  await page.click("form button[type=submit]");
  assert.equal(new URL(page.url()).pathname, "/admin/");
  await assertAccessible(page, "dashboard");
  assert.match(await page.textContent("main"), /Comune di Esempio/);

  await page.click('a[href="/admin/t/comune-esempio/"]');
  await assertAccessible(page, "tenant");
  await page.click('a[href="/admin/t/comune-esempio/staff"]');
  await assertAccessible(page, "staff");
  await page.fill("#f-email", "nuova.collega@example.it");
  await page.check("#f-role-operator");
  await page.check('input[name="offices"] >> nth=0');
  await page.click("main form button[type=submit]");
  await assertAccessible(page, "invitation made");
  const link = await page.inputValue("#invitation-link");
  assert.match(link, /^\/admin\/invitation\/[0-9a-f]{64}$/);
  await page.click('main table a:has-text("Modifica") >> nth=0');
  await assertAccessible(page, "member");
  assert.match(await page.textContent("main"), /Salva il ruolo/);
  await page.click('main a[href="/admin/t/comune-esempio/staff"]');

  await page.click('a[href="/admin/t/comune-esempio/"]');
  await page.click('a[href="/admin/t/comune-esempio/audit"]');
  await assertAccessible(page, "audit");
  assert.match(await page.textContent("main table"), /staff\.invited/);
  // The filter updates the list in place as it is typed (htmx): the page is not reloaded, the
  // address follows it (a link or a reload shows the same), and screen readers hear the count.
  await page.evaluate(() => { window.stillHere = true; });
  await page.fill("#f-action", "login");
  await page.waitForURL(/action=login/);
  await page.waitForFunction(() => [...document.querySelectorAll("main tbody code:first-child")].every((c) => c.textContent.startsWith("login")));
  assert.equal(await page.evaluate(() => window.stillHere), true, "filtered in place");
  assert.match(await page.textContent("#audit-results [role=status]"), /voc[ei] mostrat[ae]/);
  assert.doesNotMatch(await page.textContent("main table"), /staff\.invited/);
  await assertAccessible(page, "audit filtered in place");
  await page.click('a[href="/admin/audit"]');
  await assertAccessible(page, "platform audit");
  page.assertSameOrigin();

  // The invited person, in their own browser, on a tablet, in English.
  const invited = await openPage(env.browser, env.server.base, tablet);
  await invited.goto(`${env.server.base}${link}?lang=en`);
  await assertAccessible(invited, "invitation");
  // Long enough for the browser's own check, but on every list of common passwords.
  await invited.fill("#f-password", "123456789012");
  await invited.fill("#f-password_confirmation", "123456789012");
  await invited.click("main form button[type=submit]");
  assert.match(await invited.textContent(".error-summary"), /among the most used/);
  await assertAccessible(invited, "invitation with errors");
  await invited.fill("#f-password", "the old mill by the canal");
  await invited.fill("#f-password_confirmation", "the old mill by the canal");
  await invited.click("main form button[type=submit]");
  assert.equal(new URL(invited.url()).pathname, "/admin/");
  await assertAccessible(invited, "operator dashboard");
  await invited.click('a[href="/admin/t/comune-esempio/"] >> nth=0');
  await assertAccessible(invited, "operator's tenant");
  assert.doesNotMatch(await invited.textContent("main"), /Staff|Activity log/, "an operator sees no admin links");
  await invited.goto(`${env.server.base}/admin/account/password`);
  await assertAccessible(invited, "password");

  // The link worked once.
  await invited.goto(`${env.server.base}${link}`);
  assert.match(await invited.textContent("main"), /not valid/);
  invited.assertSameOrigin();

  await page.click("nav.admin-nav form button[type=submit]");
  assert.match(page.url(), /\/admin\/login$/);
  await page.goto(`${env.server.base}/admin/`);
  assert.match(page.url(), /\/admin\/login/, "signed out");
});

test("a tenant admin changes the hours in the week grid, sees the history, and rolls back", async () => {
  const admin = env.server.staff["admin@comune-esempio.example"];
  const page = await openPage(env.browser, env.server.base, desktop);
  await signIn(page, admin.email, admin.password, "en");
  await page.click('a[href="/admin/t/comune-esempio/"] >> nth=0');
  await page.click('a[href="/admin/t/comune-esempio/processing"]');
  assert.match(await page.textContent("h1"), /Record of processing/);
  await assertAccessible(page, "record of processing");
  await page.click('a[href="/admin/t/comune-esempio/"] >> nth=0');
  await page.click('a[href="/admin/t/comune-esempio/configuration"]');
  await assertAccessible(page, "configuration");
  assert.match(await page.inputValue("#f-pack"), /mon = \[\{ from = "08:30"/, "the whole text is there too");
  await page.click('a[href="/admin/t/comune-esempio/offices/anagrafe"]');
  await assertAccessible(page, "office");
  assert.equal(await page.inputValue("#f-hours_mon_from_0"), "08:30");

  // A mistake is named on its day's row, and what was typed stays.
  await page.fill("#f-hours_mon_to_0", "07:00");
  await page.fill("#f-name", "Ufficio anagrafe centrale");
  await page.click('main form button:has-text("Save a new version")');
  assert.match(await page.textContent(".error-summary"), /end after it starts/);
  assert.match(await page.textContent("#f-hours_mon"), /end after it starts/);
  assert.equal(await page.inputValue("#f-name"), "Ufficio anagrafe centrale");
  await assertAccessible(page, "office with errors");

  await page.fill("#f-hours_mon_from_0", "09:30");
  await page.fill("#f-hours_mon_to_0", "12:30");
  await page.click('main form button:has-text("Save a new version")');
  assert.equal(new URL(page.url()).pathname, "/admin/t/comune-esempio/configuration");
  assert.match(await page.textContent("[role=status]"), /version 2 is now in force/);
  assert.match(await page.textContent("#history-table"), /office anagrafe changed: name, hours/);
  await assertAccessible(page, "configuration saved");

  await page.click('button:has-text("Restore 1")');
  assert.match(await page.textContent("[role=status]"), /version 3 is now in force/);
  assert.match(await page.textContent("#history-table"), /admin@comune-esempio\.example/);
  await page.click('a[href="/admin/t/comune-esempio/offices/anagrafe"]');
  assert.equal(await page.inputValue("#f-hours_mon_from_0"), "08:30", "the old hours are back");

  // The logo: an SVG with a script is refused with the reason; a plain one is taken and shown.
  await page.goto(`${env.server.base}/admin/t/comune-esempio/settings`);
  await assertAccessible(page, "settings");
  const svg = (inner) => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">${inner}</svg>`);
  await page.setInputFiles("#f-logo", { name: "logo.svg", mimeType: "image/svg+xml", buffer: svg("<script>alert(1)</script>") });
  await page.click('button:has-text("Upload the logo")');
  assert.match(await page.textContent("#f-logo-error"), /script/);
  await assertAccessible(page, "logo refused");
  await page.setInputFiles("#f-logo", { name: "logo.svg", mimeType: "image/svg+xml", buffer: svg('<rect width="10" height="10" fill="#2e7d32"/>') });
  await page.click('button:has-text("Upload the logo")');
  assert.match(await page.textContent("[role=status]"), /version 4 is now in force/);
  await page.goto(`${env.server.base}/admin/t/comune-esempio/settings`);
  assert.ok(await page.isVisible("img.logo-preview"), "the new logo is shown");

  await page.goto(`${env.server.base}/admin/t/comune-esempio/api-keys`);
  await assertAccessible(page, "API keys");
  await page.fill("#f-name", "Protocollo");
  await page.click('button:has-text("Make the key")');
  assert.match(await page.textContent(".error-summary"), /at least one office/, "an operator's key needs offices");
  await assertAccessible(page, "API key refused");
  await page.check("#f-role-admin");
  await page.click('button:has-text("Make the key")');
  assert.match(await page.inputValue("#new-key"), /^sportello_key_[0-9a-f]{64}$/);
  await assertAccessible(page, "API key made");

  // Webhooks: an address on a private network is refused; a public one is added, its secret shown once.
  await page.goto(`${env.server.base}/admin/t/comune-esempio/webhooks`);
  await assertAccessible(page, "webhooks");
  await page.fill("#f-url", "http://169.254.169.254/latest/meta-data/");
  await page.click('button:has-text("Add the webhook")');
  assert.match(await page.textContent(".error-summary"), /private or reserved network/);
  await assertAccessible(page, "webhook refused");
  await page.fill("#f-url", "https://crm.comune-esempio.example/hooks");
  await page.click('button:has-text("Add the webhook")');
  assert.match(await page.inputValue("#new-secret"), /^whsec_/);
  await assertAccessible(page, "webhook added");
  await page.click('a:has-text("Delivery log")');
  await assertAccessible(page, "delivery log");

  // An office's calendar feed: a secret address, shown once, that serves the calendar.
  await page.goto(`${env.server.base}/admin/t/comune-esempio/feeds`);
  await assertAccessible(page, "calendar feeds");
  await page.click('button:has-text("Make an address") >> nth=0');
  const feedUrl = await page.inputValue("#new-feed");
  assert.match(feedUrl, /\/t\/comune-esempio\/feeds\/[a-z0-9-]+\/[0-9a-f]{64}\.ics$/);
  await assertAccessible(page, "feed made");
  const feedResponse = await page.request.get(feedUrl);
  assert.equal(feedResponse.status(), 200);
  assert.match(await feedResponse.text(), /^BEGIN:VCALENDAR/);

  // The whole body as one file: downloaded, and imported back unchanged.
  await page.goto(`${env.server.base}/admin/t/comune-esempio/configuration`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('a:has-text("Download the pack")')]);
  assert.match(download.suggestedFilename(), /^comune-esempio-v\d+\.tar\.gz$/);
  await page.setInputFiles("#f-archive", await download.path());
  await page.click('button:has-text("Import as a new version")');
  assert.match(await page.textContent("[role=status]"), /Nothing changed/);
  page.assertSameOrigin();
});

test("a platform admin onboards a body; its admin configures it; a citizen books; the admin sees it", async () => {
  const platform = env.server.staff["platform@sportello.example"];
  const page = await openPage(env.browser, env.server.base, desktop);
  await signIn(page, platform.email, platform.password, "it");
  await page.fill("#f-name", "Consorzio Nuovo");
  await page.fill("#f-slug", "Consorzio Nuovo");
  await page.fill("#f-admin_email", "capo@nuovo.example");
  await page.click('form[action="/admin/tenants"] button[type=submit]');
  assert.match(await page.textContent(".error-summary"), /lettere minuscole/);
  assert.equal(await page.inputValue("#f-name"), "Consorzio Nuovo", "what was typed stays");
  await assertAccessible(page, "new body with errors");
  await page.fill("#f-slug", "consorzio-nuovo");
  await page.click('form[action="/admin/tenants"] button[type=submit]');
  await assertAccessible(page, "new body made");
  const link = await page.inputValue("#invitation-link");

  const admin = await openPage(env.browser, env.server.base, tablet);
  await admin.goto(`${env.server.base}${link}?lang=it`);
  await admin.fill("#f-password", "la bonifica del padule");
  await admin.fill("#f-password_confirmation", "la bonifica del padule");
  await admin.click("main form button[type=submit]");
  await admin.click('a[href="/admin/t/consorzio-nuovo/"] >> nth=0');
  await admin.click('a[href="/admin/t/consorzio-nuovo/configuration"]');
  await assertAccessible(admin, "empty configuration");
  await admin.click('a[href="/admin/t/consorzio-nuovo/new-service"]');
  await assertAccessible(admin, "new service");
  await admin.fill("#f-slug", "segnalazioni");
  await admin.fill("#f-name_it", "Segnalazioni sui canali");
  await admin.fill("#f-name_en", "Reports on the canals");
  await admin.fill("#f-description_it", "Un problema su un corso d'acqua");
  await admin.fill("#f-duration_minutes", "30");
  await admin.fill("#f-min_notice_hours", "0");
  await admin.click('main form button:has-text("Salva una nuova versione")');
  assert.match(await admin.textContent("[role=status]"), /versione 2/);

  await admin.click('a[href="/admin/t/consorzio-nuovo/new-office"]');
  await assertAccessible(admin, "new office");
  await admin.fill("#f-slug", "sede");
  await admin.fill("#f-name", "Sede del consorzio");
  await admin.fill("#f-address", "Via del Fosso 1, Pisa");
  await admin.check("#f-service-segnalazioni");
  for (const day of ["mon", "tue", "wed", "thu", "fri"]) {
    await admin.fill(`#f-hours_${day}_from_0`, "08:30");
    await admin.fill(`#f-hours_${day}_to_0`, "12:30");
    await admin.fill(`#f-hours_${day}_desks_0`, "2");
  }
  await admin.click('main form button:has-text("Salva una nuova versione")');
  assert.match(await admin.textContent("[role=status]"), /versione 3/);
  const history = await admin.textContent("#history-table");
  assert.match(history, /service segnalazioni added/);
  assert.match(history, /office sede added/);
  assert.match(history, /tenant created/);
  await assertAccessible(admin, "configured");

  const citizen = await openPage(env.browser, env.server.base, desktop);
  await toDetails(citizen, env.server.base, { tenant: "consorzio-nuovo", service: "segnalazioni", choice: "sede:in_person", lang: "it" });
  await fillCitizen(citizen);
  await citizen.check("#f-privacy");
  await citizen.click("form button[type=submit]");
  await citizen.click("text=Conferma la prenotazione");
  assert.match(await citizen.textContent("h1"), /Appuntamento confermato/);

  await admin.goto(`${env.server.base}/admin/t/consorzio-nuovo/`);
  assert.match(await admin.textContent("main table tbody"), /Sede del consorzio\s*1/);
  await assertAccessible(admin, "tenant with a booking");
  admin.assertSameOrigin();
  citizen.assertSameOrigin();
});

/** The code an authenticator app shows now for a base32 secret (RFC 6238, SHA-1, 6 digits). */
function totp(secret) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/\s|=/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

test("an admin turns on the second factor, keeps the recovery codes, and signs in with a code", async () => {
  const admin = env.server.staff["admin@cbtoscananord.example"];
  const page = await openPage(env.browser, env.server.base, tablet);
  await signIn(page, admin.email, admin.password, "en");
  await page.goto(`${env.server.base}/admin/account/two-factor`);
  await assertAccessible(page, "second factor");
  assert.ok(await page.isVisible(".qr-code svg"), "a QR code to scan");
  const secret = await page.textContent("#totp-secret");
  await page.fill("#f-code", totp(secret));
  await page.click('button:has-text("Turn on the second factor")');
  assert.equal(await page.locator(".recovery-codes li").count(), 10);
  await assertAccessible(page, "recovery codes");
  const recovery = (await page.textContent(".recovery-codes li >> nth=0")).trim();

  await page.click("nav.admin-nav form button[type=submit]");
  await signIn(page, admin.email, admin.password, "en");
  assert.match(new URL(page.url()).pathname, /^\/admin\/login\/code$/);
  await assertAccessible(page, "code step");
  // A code from the authenticator was spent by the enrolment; a recovery code works as well.
  await page.fill("#f-code", recovery);
  await page.click("main form button[type=submit]");
  assert.equal(new URL(page.url()).pathname, "/admin/");
  page.assertSameOrigin();
});

test("an operator finds a citizen's booking at the desk, notes it, and cancels it with a reason", async () => {
  // A citizen books (one browser) ...
  const citizen = await openPage(env.browser, env.server.base, desktop);
  await toDetails(citizen, env.server.base, { tenant: "comune-esempio", service: "certificati-anagrafici", choice: "anagrafe:in_person", lang: "it" });
  await fillCitizen(citizen);
  await citizen.selectOption("#f-reason", "residenza");
  await citizen.check("#f-privacy");
  await citizen.click("form button[type=submit]");
  await citizen.click("text=Conferma la prenotazione");
  const code = (await citizen.textContent("#booking-code")).trim();

  // ... and the office's operator (another) receives it.
  const operator = env.server.staff["operatore@comune-esempio.example"];
  const page = await openPage(env.browser, env.server.base, tablet);
  await signIn(page, operator.email, operator.password);
  await page.click('a[href="/admin/t/comune-esempio/"] >> nth=0');
  await page.click('main a[href="/admin/t/comune-esempio/desk/anagrafe"]');
  await assertAccessible(page, "agenda");
  assert.match(await page.textContent("h1"), /Agenda/);
  await page.click('a[rel="next"]');
  assert.match(page.url(), /date=\d{4}-\d{2}-\d{2}/);
  await page.fill("#f-q", code);
  await page.click("form.desk-filters button[type=submit]");
  assert.match(await page.textContent(".desk-count"), /Trovata dal codice/);
  assert.match(await page.textContent("table.desk-agenda"), /Giulia Neri/);
  await assertAccessible(page, "agenda found by code");
  await page.click(`table.desk-agenda a:has-text("${code}")`);
  assert.match(await page.textContent("main"), /giulia\.neri@example\.it/);
  await assertAccessible(page, "booking at the desk");

  await page.fill("#f-note", "Porta il vecchio documento");
  await page.click('button:has-text("Salva la nota")');
  assert.equal(await page.inputValue("#f-note"), "Porta il vecchio documento");
  // A cancellation needs its reason, which the citizen will read.
  await page.click('button:has-text("Annulla e avvisa il cittadino")');
  assert.ok(await page.isVisible("#f-reason-error"));
  await assertAccessible(page, "cancellation without a reason");
  await page.fill("#f-reason", "Ufficio chiuso per un guasto");
  await page.click('button:has-text("Annulla e avvisa il cittadino")');
  assert.match(await page.textContent(".status-badge"), /Annullata/);
  await assertAccessible(page, "booking cancelled at the desk");
  page.assertSameOrigin();
});

test("an operator books a citizen who phoned, from the agenda", async () => {
  const operator = env.server.staff["operatore@comune-esempio.example"];
  const page = await openPage(env.browser, env.server.base, tablet);
  await signIn(page, operator.email, operator.password);
  await page.goto(`${env.server.base}/admin/t/comune-esempio/desk/anagrafe`);
  await page.click('a:has-text("Prenota per un cittadino")');
  await assertAccessible(page, "booking for a citizen: the choice");
  await page.selectOption("#c-service", "certificati-anagrafici");
  await page.check("#c-channel-phone");
  // The first open day from the office's tomorrow on (weekends and holidays have no free
  // time). Tomorrow in Rome, not in UTC: late in the UTC evening they differ.
  const romeToday = new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Rome" });
  let day = new Date(`${romeToday}T12:00:00Z`);
  for (let tries = 0; tries < 14; tries += 1) {
    day = new Date(day.getTime() + 24 * 3600 * 1000);
    await page.fill("#c-date", day.toISOString().slice(0, 10));
    await page.click('form.walk-in-choice button[type=submit]');
    if (await page.isVisible("#f-when-0")) break;
  }
  assert.ok(await page.isVisible("#f-when-0"), "a day with free times");
  assert.equal(await page.isVisible('input[value="now"]'), false, "no 'now' on another day");
  await assertAccessible(page, "booking for a citizen: times and details");
  await page.click('button:has-text("Prenota")');
  assert.ok(await page.isVisible("#error-summary"));
  assert.match(await page.textContent("#error-summary"), /telefono/);
  await assertAccessible(page, "booking for a citizen: errors");
  await page.fill("#f-first_name", "Giovanni");
  await page.fill("#f-last_name", "Esposito");
  await page.fill("#f-phone", "333 765 4321");
  await page.selectOption("#f-reason", "residenza");
  await page.check("#f-privacy_accepted");
  await page.click('button:has-text("Prenota")');
  assert.match(await page.textContent("main"), /Giovanni Esposito/);
  assert.match(await page.textContent("main"), /Al telefono/);
  await assertAccessible(page, "the booking made by phone");
  page.assertSameOrigin();
});

test("a body's accessibility statement reads well in both languages, and its admin form is accessible", async () => {
  const page = await openPage(env.browser, env.server.base, tablet);
  await page.goto(`${env.server.base}/t/comune-esempio/?lang=it`);
  await page.click('footer a:has-text("Dichiarazione di accessibilità")');
  assert.match(await page.textContent("main"), /parzialmente conformi/);
  assert.match(await page.textContent("main"), /Difensore civico per il digitale/);
  await assertAccessible(page, "accessibility statement, Italian");
  await page.goto(`${env.server.base}/t/comune-esempio/accessibility?lang=en`);
  assert.match(await page.textContent("main"), /partially comply/);
  await assertAccessible(page, "accessibility statement, English");

  const admin = env.server.staff["admin@comune-esempio.example"];
  await signIn(page, admin.email, admin.password);
  await page.goto(`${env.server.base}/admin/t/comune-esempio/accessibility`);
  assert.equal(await page.isChecked("#f-conformance-partial"), true);
  assert.equal(await page.inputValue("#f-prepared_on"), "2026-09-30");
  await assertAccessible(page, "accessibility statement, the admin's form");
  page.assertSameOrigin();
});
