// The counter queue in a real browser, on a server that pretends to be a Wednesday morning (the
// demo office is open whatever the hour of the run): a walk-in booked at the desk checks in and
// gets a ticket, the operator calls the next one, and the display board — another page, by
// server push — shows the call within a second. axe-core on the agenda's queue and the board.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertAccessible, desktop, openPage, serverAndBrowser, tablet } from "./browser.mjs";

// Next year's first Wednesday of March, 09:00 in Rome: the registry office is open, no holiday.
const env = serverAndBrowser(["--pretend-now", "2027-03-03T09:00:00+01:00"]);

test("a walk-in gets a ticket, is called, and the board shows the call within a second", async () => {
  const operator = env.server.staff["operatore@comune-esempio.example"];
  const page = await openPage(env.browser, env.server.base, tablet);
  await page.goto(`${env.server.base}/admin/login?lang=it`);
  await page.fill("#f-email", operator.email);
  await page.fill("#f-password", operator.password);
  await page.click("form button[type=submit]");
  await page.goto(`${env.server.base}/admin/t/comune-esempio/desk/anagrafe/new?service=certificati-anagrafici&mode=in_person&channel=counter`);
  assert.ok(await page.isChecked('input[value="now"]'), "a walk-in is served now");
  await page.fill("#f-first_name", "Giovanni");
  await page.fill("#f-last_name", "Esposito");
  await page.fill("#f-phone", "333 765 4321");
  await page.selectOption("#f-reason", "residenza");
  await page.check("#f-privacy_accepted");
  await page.click('button:has-text("Prenota")');
  assert.match(await page.textContent("main"), /Allo sportello/);
  await page.click('button:has-text("Arrivato")');
  assert.match(await page.textContent(".desk-ticket"), /A001/);
  assert.ok(await page.isVisible(".desk-ticket .qr-code svg"), "a QR code for the citizen's phone");
  await assertAccessible(page, "the booking with its ticket");

  // The citizen's phone, from the QR code: the ticket's page.
  const phone = await openPage(env.browser, env.server.base, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(`${await page.getAttribute(".desk-ticket a", "href")}?lang=it`);
  assert.match(await phone.textContent(".ticket-code"), /A001/);
  assert.match(await phone.textContent(".ticket-state"), /Sei il prossimo/);
  await assertAccessible(phone, "the citizen's ticket");

  // The board on the waiting room's screen (another browser, no session).
  const board = await openPage(env.browser, env.server.base, desktop);
  await board.goto(`${env.server.base}/t/comune-esempio/board/anagrafe?lang=it`);
  assert.match(await board.textContent(".board-now"), /Nessuna chiamata/);
  await assertAccessible(board, "the board before any call");

  await page.goto(`${env.server.base}/admin/t/comune-esempio/desk/anagrafe`);
  await assertAccessible(page, "the agenda with its queue");
  assert.match(await page.textContent(".queue-box"), /Un cittadino è in attesa/);
  await page.fill("#q-desk", "Sportello 3");
  const pressed = Date.now();
  await page.click('button:has-text("Chiama il prossimo")');
  await board.waitForSelector('.board-now .board-ticket:has-text("A001")', { timeout: 1000 });
  const took = Date.now() - pressed;
  assert.ok(took < 1000, `the board showed the call after ${took} ms`);
  assert.match(await board.textContent(".board-now"), /Sportello 3/);
  await phone.waitForSelector('.ticket-state:has-text("Tocca a te: vai a Sportello 3")', { timeout: 2000 });
  phone.assertSameOrigin();
  await assertAccessible(board, "the board with a call");
  assert.match(await page.textContent(".queue-called"), /A001 → Sportello 3/);
  // The browser remembers the desk for the next call.
  assert.equal(await page.inputValue("#q-desk"), "Sportello 3");
  await assertAccessible(page, "the agenda after a call");
  page.assertSameOrigin();
  board.assertSameOrigin();
});
