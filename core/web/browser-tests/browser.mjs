// Debian's Chromium driven by playwright-core, with axe-core injected from npm.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before } from "node:test";
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { startServer } from "./server.mjs";

const require = createRequire(import.meta.url);
// Evaluated through the debugging protocol, which the pages' Content-Security-Policy does not
// govern: an injected <script> would be refused, as it should be.
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

export const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
export const tablet = { viewport: { width: 820, height: 1180 }, isMobile: true, hasTouch: true };
export const desktop = { viewport: { width: 1280, height: 800 } };

/** A test file's server (the real binary in demo mode) and browser, started before its tests and
 * stopped after them: `env.server.base`, `env.server.staff`, `env.browser`. */
export function serverAndBrowser(serverArgs = []) {
  const env = {};
  before(async () => {
    env.server = await startServer(serverArgs);
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    env.server?.stop();
  });
  return env;
}

let citizens = 0;

/** A page that records every request, to prove that nothing leaves the server's origin. Each page
 * is another citizen (its own address through X-Forwarded-For), as the anti-hoarding limits expect. */
export async function openPage(browser, base, options = {}) {
  citizens += 1;
  const context = await browser.newContext({ ...options, extraHTTPHeaders: { "X-Forwarded-For": `198.51.100.${citizens}` } });
  const page = await context.newPage();
  page.javaScript = options.javaScriptEnabled !== false;
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  page.assertSameOrigin = () => {
    const foreign = requests.filter((url) => !url.startsWith(base) && !url.startsWith("data:"));
    assert.deepEqual(foreign, [], "every request goes to the server's own origin");
  };
  // Whatever the pages' Content-Security-Policy refuses is a defect of the page: Chromium reports
  // each refusal on the console.
  const refused = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(`${page.url()}: ${message.text()}`);
  });
  page.assertNothingRefused = () => assert.deepEqual(refused, [], "nothing the pages' policy refuses");
  return page;
}

/** WCAG 2.1 A and AA checks of the current page: there must be none violated. */
export async function assertAccessible(page, label) {
  // axe runs inside the page: with JavaScript off there is nothing to run it with.
  if (!page.javaScript) return;
  page.assertNothingRefused?.();
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  const violations = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  assert.deepEqual(violations, [], `axe on ${label} (${page.url()})`);
}
