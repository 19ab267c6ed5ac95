// The demo's bookings as a body's staff first meet them, on a server that pretends to be a
// Wednesday morning: four weeks of history drawn as charts on the statistics page (with their
// tables, in both languages), today's agenda with the citizens already checked in, and the
// display board showing the demo operator's call. axe-core on the statistics page.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertAccessible, desktop, openPage, serverAndBrowser } from "./browser.mjs";

const env = serverAndBrowser(["--pretend-now", "2027-03-03T09:00:00+01:00", "--demo-bookings"]);

test("the statistics show the demo's weeks as charts with their tables, and the board its call", async () => {
  const admin = env.server.staff["admin@comune-esempio.example"];
  const page = await openPage(env.browser, env.server.base, desktop);
  await page.goto(`${env.server.base}/admin/login?lang=it`);
  await page.fill("#f-email", admin.email);
  await page.fill("#f-password", admin.password);
  await page.click("form button[type=submit]");
  await page.goto(`${env.server.base}/admin/t/comune-esempio/`);
  await page.click('a:has-text("Statistiche")');
  assert.match(await page.textContent("h1"), /Statistiche/);
  const made = Number(await page.textContent(".stats-tile:first-child dd"));
  assert.ok(made > 40, `the demo's history is counted: ${made}`);
  assert.equal(await page.locator("svg.chart").count(), 6, "a chart per figure");
  assert.ok((await page.locator("#chart-bookings-heading + svg rect, .stats-figure svg rect").count()) > 20, "bars drawn");
  await page.click('summary:has-text("Mostra i dati in tabella") >> nth=0');
  assert.ok(await page.isVisible(".stats-data table"), "the first chart's numbers as a table");
  await assertAccessible(page, "the statistics");

  // One office, one service, a shorter period: the form keeps what was chosen.
  await page.selectOption("#s-office", "anagrafe");
  await page.fill("#s-from", "2027-02-15");
  await page.click('button:has-text("Mostra")');
  assert.equal(await page.inputValue("#s-from"), "2027-02-15");
  assert.equal(await page.inputValue("#s-office"), "anagrafe");
  const download = page.waitForEvent("download");
  await page.click('a:has-text("Scarica i dati (CSV)") >> nth=0');
  assert.match((await download).suggestedFilename(), /^comune-esempio-anagrafe-over-time-2027-02-15-2027-03-03\.csv$/);

  await page.goto(`${env.server.base}/admin/t/comune-esempio/statistics?lang=en`);
  assert.match(await page.textContent("main"), /How far ahead people book/);
  await assertAccessible(page, "the statistics in English");

  // Today: the demo operator received three citizens and called one; the board shows the call.
  await page.goto(`${env.server.base}/admin/t/comune-esempio/desk/anagrafe?lang=it`);
  assert.equal(await page.locator(".desk-agenda .ticket").count(), 3, "three tickets given");
  const board = await openPage(env.browser, env.server.base, desktop);
  await board.goto(`${env.server.base}/t/comune-esempio/board/anagrafe?lang=it`);
  assert.match(await board.textContent("main"), /Sportello 1/);
});
