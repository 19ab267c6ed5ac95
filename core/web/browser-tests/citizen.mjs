// What a citizen does on the public pages, step by step, for the tests that need a booking.
import assert from "node:assert/strict";
import { assertAccessible } from "./browser.mjs";

/** Opens the first day with free places, moving to the next month when this one has none left. */
export async function pickFirstDay(page) {
  for (let months = 0; months < 3 && (await page.locator("table.month a.free").count()) === 0; months++) {
    await page.click('a[rel="next"]');
  }
  await page.click("table.month a.free >> nth=0");
}

/** The demo notice and its holder's fiscal code, which the consortium checks before the calendar. */
export const DEMO_NOTICE = { number: "3020 0000 0001 2345 59", fiscalCode: "RSSMRA85T10A562S" };

/** Service → (its checked answers) → office and mode → first free day and time → details page. */
export async function toDetails(page, base, { tenant, service, choice, lang }) {
  await page.goto(`${base}/t/${tenant}/?lang=${lang}`);
  assert.equal(await page.getAttribute("html", "lang"), lang);
  await assertAccessible(page, "services");
  await page.click(`a[href^="/t/${tenant}/s/${service}"]`);
  if (page.url().endsWith("/check")) {
    await assertAccessible(page, "check");
    await page.fill("#f-answers-notice_number", DEMO_NOTICE.number);
    await page.fill("#f-fiscal_code", DEMO_NOTICE.fiscalCode);
    await page.click("form button[type=submit]");
  }
  // A service with one office and one mode skips step 2.
  const [office, mode] = choice.split(":");
  if (!page.url().includes(`/o/${office}/m/${mode}`)) {
    await assertAccessible(page, "offices");
    await page.check(`input[value="${choice}"]`);
    await page.click("form#offices button[type=submit]");
  }
  assert.ok(page.url().includes(`/o/${office}/m/${mode}`), page.url());
  await assertAccessible(page, "calendar");
  await pickFirstDay(page);
  await assertAccessible(page, "times");
  await page.check('#times input[name="start"] >> nth=0');
  await page.click("form#times button[type=submit]");
  assert.match(page.url(), /\/details\//);
  await assertAccessible(page, "details");
}

export async function fillCitizen(page) {
  await page.fill("#f-first_name", "Giulia");
  await page.fill("#f-last_name", "Neri");
  await page.fill("#f-email", "giulia.neri@example.it");
  await page.fill("#f-phone", "347 111 2222");
}
