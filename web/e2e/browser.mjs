// Debian's Chromium driven by playwright-core (no browser download), with a
// record of every request a page makes so tests can prove nothing leaves
// the server's origin.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(import.meta.dirname, "..", "test-results", "screenshots");
mkdirSync(SCREENSHOTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A page whose requests (HTTP and websockets) are all recorded in `requests`. */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? "light",
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("websocket", (socket) => requests.push(socket.url()));
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  return { context, page, requests };
}

/** Origins other than the server's (and data:/blob: URLs) that a page asked for. */
export function foreignRequests(requests, origin) {
  const wsOrigin = origin.replace(/^http/, "ws");
  return requests.filter((url) => {
    if (url.startsWith("data:") || url.startsWith("blob:")) return false;
    const { origin: o } = new URL(url);
    return o !== origin && o !== wsOrigin;
  });
}

/** `fullPage: false` for pages too tall to be worth a picture of all of them. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  // Cards off screen skip painting (content-visibility: auto); a full-page
  // picture for people to review should show them all.
  if (fullPage) await page.addStyleTag({ content: "* { content-visibility: visible !important; }" });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's critical and serious findings on the page as it is now. */
export async function axeViolations(page) {
  // Evaluated through DevTools, not a <script>: the app's CSP refuses inline scripts.
  await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
    }));
  });
  return results.filter((v) => v.impact === "critical" || v.impact === "serious");
}

/** Throttles the page's network through the DevTools protocol (bytes per second). */
export async function throttle(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 20,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return cdp;
}
