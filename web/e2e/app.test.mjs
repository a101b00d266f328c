// The web app in real headless Chromium against a real Loupe on the
// embedded defaults. Screenshots of every main screen land in
// test-results/screenshots (light, dark, phone) for a person to look at.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { axeViolations, foreignRequests, launch, openPage, screenshot, throttle } from "./browser.mjs";
import { mixedCsv, unclosedQuoteCsv, wideCsv } from "./data.mjs";
import { Loupe } from "./server.mjs";

const PHONE = { width: 375, height: 812 };

/** Waits until `check` returns a truthy value, polling. */
async function until(check, what, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const row = (page, name) => page.locator("[data-testid=upload-row]", { hasText: name });

async function phaseOf(page, name) {
  return row(page, name)
    .getAttribute("data-phase", { timeout: 1_000 })
    .catch(() => null);
}

/** Opens a page and waits for its content: a result, or the jobs table. */
async function visit(page, server, path) {
  await page.goto(`${server.url}${path}`);
  const content = path.startsWith("/jobs/") ? "[data-testid=result-ready]" : "[data-testid=jobs-table]";
  await page.locator(content).first().waitFor();
}

async function noHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
}

function assertSameOrigin(pages, server) {
  for (const { requests } of pages) {
    assert.deepEqual(foreignRequests(requests, server.url), [], "every request stays on the server's origin");
  }
}

async function assertAccessible(page, where) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe-core on ${where}: ${JSON.stringify(violations, null, 2)}`);
}

describe("the web app", () => {
  let server;
  let browser;
  const pages = [];

  before(async () => {
    server = await Loupe.start();
    browser = await launch();
  });

  after(async () => {
    assertSameOrigin(pages, server);
    await browser?.close();
    await server?.dispose();
  });

  async function open(options) {
    const opened = await openPage(browser, options);
    pages.push(opened);
    return opened;
  }

  let resultUrl;

  it("uploads a file with live progress and shows its profile", { timeout: 180_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { name: "Profile a data file" }).waitFor();
    await assertAccessible(page, "the empty home page");
    await screenshot(page, "home-empty-light");

    // ~1.6 MB at 400 KB/s: several seconds of visible progress.
    const path = mixedCsv("prices.csv", 40_000);
    await throttle(page, 400 * 1024);
    await page.setInputFiles("[data-testid=file-input]", path);

    const values = new Set();
    let detail = "";
    await until(async () => {
      const bar = row(page, "prices.csv").locator("[data-testid=upload-progress]");
      const value = await bar.getAttribute("aria-valuenow", { timeout: 200 }).catch(() => null);
      if (value !== null) values.add(Number(value));
      const text = await row(page, "prices.csv")
        .locator("[data-testid=upload-detail]")
        .innerText({ timeout: 200 })
        .catch(() => "");
      if (/\/s/.test(text) && /left/.test(text)) detail = text;
      if (values.size === 3) await screenshot(page, "home-uploading-light");
      return ["queued", "processing", "done"].includes(await phaseOf(page, "prices.csv"));
    }, "the upload to finish");
    const intermediate = [...values].filter((v) => v > 0 && v < 100);
    assert.ok(intermediate.length >= 2, `progress passed through intermediate values: ${[...values].join(", ")}`);
    assert.match(detail, /of .* · .*\/s · .* left/, "bytes, speed and time left are shown");

    await until(async () => (await phaseOf(page, "prices.csv")) === "done", "the job to finish without a reload");
    await page.getByRole("table").getByText("prices.csv").first().waitFor();
    await screenshot(page, "home-done-light");

    await row(page, "prices.csv").getByRole("link", { name: "View profile" }).click();
    await page.locator("[data-testid=result-ready]").waitFor({ timeout: 30_000 });
    resultUrl = page.url();
    assert.match(resultUrl, /\/jobs\/[0-9a-f-]{36}$/);
    const card = (name) =>
      page.locator("[data-testid=column-card]").filter({ has: page.getByRole("heading", { name, exact: true }) });
    // Charts are drawn as their card nears the viewport.
    await card("price").scrollIntoViewIfNeeded();
    await card("price").locator("[data-testid=histogram]").waitFor();
    assert.equal(
      await card("price").locator("[data-testid=histogram]").count(),
      1,
      "a histogram for the numeric column",
    );
    assert.ok((await card("price").locator("[data-testid=histogram] rect").count()) > 3, "the histogram has bars");
    await card("city").scrollIntoViewIfNeeded();
    const top = await card("city").locator("[data-testid=top-values]").innerText();
    assert.match(top, /Lisbon/, "top values of the text column");
    await screenshot(page, "result-light");
    await assertAccessible(page, "the result page");
  });

  it("shows why a malformed file failed", { timeout: 60_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/`);
    await page.setInputFiles("[data-testid=file-input]", unclosedQuoteCsv("broken.csv"));
    await until(async () => (await phaseOf(page, "broken.csv")) === "failed", "the job to fail");
    const detail = await row(page, "broken.csv").locator("[data-testid=upload-detail]").innerText();
    assert.match(detail, /quote/i, `the reason is shown: ${detail}`);
    await screenshot(page, "home-failed-light");
  });

  it("cancels an upload in flight", { timeout: 60_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/`);
    await throttle(page, 64 * 1024);
    await page.setInputFiles("[data-testid=file-input]", mixedCsv("slow.csv", 20_000));
    await until(async () => {
      const value = await row(page, "slow.csv")
        .locator("[data-testid=upload-progress]")
        .getAttribute("aria-valuenow", { timeout: 200 })
        .catch(() => null);
      return Number(value) > 0;
    }, "the upload to start");
    await row(page, "slow.csv").getByRole("button", { name: "Cancel slow.csv" }).click();
    await until(async () => (await phaseOf(page, "slow.csv")) === "cancelled", "the cancellation");
    assert.equal(
      await row(page, "slow.csv").getByRole("button", { name: "Retry" }).count(),
      1,
      "a cancelled upload can be retried",
    );
    const jobs = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ jobs(first: 100) { nodes { upload { filename } } } }" }),
    }).then((r) => r.json());
    assert.ok(!jobs.data.jobs.nodes.some((j) => j.upload.filename === "slow.csv"), "a cancelled upload starts no job");
  });

  it("refuses a file over the server's limit before uploading it", { timeout: 60_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/`);
    await page.getByText(/Up to .* per file/).waitFor();
    await page.setInputFiles("[data-testid=file-input]", {
      name: "empty.csv",
      mimeType: "text/csv",
      buffer: Buffer.alloc(0),
    });
    await until(async () => (await phaseOf(page, "empty.csv")) === "refused", "the refusal");
    assert.match(await row(page, "empty.csv").innerText(), /empty/i);
  });

  it("can be used with the keyboard alone", { timeout: 30_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { name: "Profile a data file" }).waitFor();
    let focused = "";
    for (let i = 0; i < 8 && focused !== "Choose files…"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
    }
    assert.equal(focused, "Choose files…", "the file picker is reachable with Tab");
    // Playwright starts intercepting file dialogs when first asked to, and
    // a dialog opened before that is lost: press again until one is seen.
    let chooser = null;
    for (let attempt = 0; attempt < 5 && !chooser; attempt++) {
      const opened = page.waitForEvent("filechooser", { timeout: 2_000 }).catch(() => null);
      await page.keyboard.press("Enter");
      chooser = await opened;
    }
    assert.ok(chooser, "Enter on the focused button opens the file picker");
    await chooser.setFiles(mixedCsv("keyboard.csv", 100));
    await until(async () => (await phaseOf(page, "keyboard.csv")) === "done", "the keyboard upload");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none", "focus is visible");
  });

  it("renders a 500-column profile quickly", { timeout: 180_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/`);
    await page.setInputFiles("[data-testid=file-input]", wideCsv("wide.csv", 500, 400));
    await until(async () => (await phaseOf(page, "wide.csv")) === "done", "the wide job", 120_000);
    const href = await row(page, "wide.csv").getByRole("link", { name: "View profile" }).getAttribute("href");

    // First render: the page shows the profile; complete: all 500 cards
    // exist (later cards are built in batches, one per frame).
    const first = [];
    const complete = [];
    for (let run = 0; run < 5; run++) {
      await page.goto(`${server.url}${href}`);
      await page.locator("[data-testid=result-ready]").waitFor({ timeout: 60_000 });
      first.push(await page.evaluate(() => performance.now()));
      complete.push(
        await page.evaluate(async () => {
          while (document.querySelectorAll("[data-testid=column-card]").length < 500) {
            await new Promise((resolve) => requestAnimationFrame(resolve));
          }
          return performance.now();
        }),
      );
    }
    const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)].toFixed(0);
    console.log(
      `500-column result page, ms after navigation (median of 5): first render ${median(first)}, all cards ${median(complete)}`,
    );

    const scroll = await page.evaluate(async () => {
      const frames = [];
      let last = performance.now();
      const step = document.documentElement.scrollHeight / 60;
      for (let i = 0; i < 60; i++) {
        scrollBy(0, step);
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const now = performance.now();
        frames.push(now - last);
        last = now;
      }
      frames.sort((a, b) => a - b);
      return { median: frames[30], worst: frames[59] };
    });
    console.log(
      `500-column result page: scrolling frame time median ${scroll.median.toFixed(1)} ms, worst ${scroll.worst.toFixed(1)} ms`,
    );
    await screenshot(page, "result-500-columns-light", { fullPage: false });
  });

  it("lists jobs with live badges and passes axe-core", { timeout: 60_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/jobs`);
    await page.locator("[data-testid=job-row]").first().waitFor();
    assert.ok((await page.locator("[data-testid=job-row]").count()) >= 3);
    await screenshot(page, "jobs-light");
    await assertAccessible(page, "the jobs list");
  });

  it("follows the system's dark theme", { timeout: 60_000 }, async () => {
    const { page } = await open({ colorScheme: "dark" });
    for (const [name, path] of [
      ["home-dark", "/"],
      ["jobs-dark", "/jobs"],
      ["result-dark", new URL(resultUrl).pathname],
    ]) {
      await visit(page, server, path);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(background, "rgb(247, 248, 250)", "dark background");
      await screenshot(page, name);
      await assertAccessible(page, `${path} in the dark theme`);
    }
  });

  it("fits a phone's width", { timeout: 60_000 }, async () => {
    const { page } = await open({ viewport: PHONE });
    for (const [name, path] of [
      ["home-phone", "/"],
      ["jobs-phone", "/jobs"],
      ["result-phone", new URL(resultUrl).pathname],
    ]) {
      await visit(page, server, path);
      assert.ok(await noHorizontalScroll(page), `no horizontal scroll on ${path} at ${PHONE.width}px`);
      await screenshot(page, name);
    }
  });

  it("deletes an upload with its job and profile", { timeout: 60_000 }, async () => {
    const { page } = await open();
    await visit(page, server, "/jobs");
    await page.getByRole("link", { name: "broken.csv" }).click();
    await page.getByRole("heading", { name: "Profiling failed" }).waitFor();
    page.once("dialog", (dialog) => dialog.accept());
    await page.getByRole("button", { name: "Delete upload" }).click();
    await page.waitForURL(`${server.url}/jobs`);
    await page.locator("[data-testid=jobs-table]").waitFor();
    assert.equal(await page.getByRole("link", { name: "broken.csv" }).count(), 0, "the deleted upload is gone");
  });

  it("serves GraphiQL from the server itself", { timeout: 90_000 }, async () => {
    const { page } = await open();
    await page.goto(`${server.url}/graphql`);
    const editor = page.locator(".graphiql-query-editor .monaco-editor").first();
    await editor.waitFor({ timeout: 60_000 });
    await editor.click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText("{ viewer { id } }");
    await page.getByRole("button", { name: /Execute query/ }).click();
    const viewer = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ viewer { id } }" }),
    }).then((r) => r.json());
    const response = page.locator(".graphiql-response");
    await until(async () => (await response.innerText()).includes(viewer.data.viewer.id), "the answer", 30_000);
    await screenshot(page, "graphiql-light");
  });
});

describe("when the connection or the server goes away", () => {
  let server;
  let browser;
  const pages = [];

  before(async () => {
    // No worker at first: the job waits, so the restart lands mid-job.
    server = await Loupe.start(["--worker-concurrency", "0"]);
    browser = await launch();
  });

  after(async () => {
    assertSameOrigin(pages, server);
    await browser?.close();
    await server?.dispose();
  });

  it("the page reconnects after a restart mid-job and still shows the end", { timeout: 120_000 }, async () => {
    const opened = await openPage(browser);
    pages.push(opened);
    const { page } = opened;
    await page.goto(`${server.url}/`);
    await page.setInputFiles("[data-testid=file-input]", mixedCsv("restart.csv", 2_000));
    await until(async () => (await phaseOf(page, "restart.csv")) === "queued", "the job to be queued");
    await until(
      async () => (await page.locator("[data-testid=connection-banner]").getAttribute("data-state")) === "connected",
      "the live connection",
    );

    await server.stop("SIGKILL");
    await until(
      async () => (await page.locator("[data-testid=connection-banner]").getAttribute("data-state")) === "reconnecting",
      "the page to notice",
    );
    assert.match(await page.locator("[data-testid=connection-banner]").innerText(), /reconnecting/i);
    await screenshot(page, "home-reconnecting-light");

    await server.start(["--worker-concurrency", "2"]);
    await until(async () => (await phaseOf(page, "restart.csv")) === "done", "the end after the restart", 60_000);
    await until(
      async () => (await page.locator("[data-testid=connection-banner]").getAttribute("data-state")) !== "reconnecting",
      "the banner to clear",
    );
  });

  it(
    "an upload cut by a lost connection resumes by itself when the browser is back online",
    { timeout: 120_000 },
    async () => {
      const opened = await openPage(browser);
      pages.push(opened);
      const { page, context } = opened;
      await page.goto(`${server.url}/`);
      await throttle(page, 64 * 1024);
      await page.setInputFiles("[data-testid=file-input]", mixedCsv("offline.csv", 8_000));
      await until(async () => {
        const bar = row(page, "offline.csv").locator("[data-testid=upload-progress]");
        return Number(await bar.getAttribute("aria-valuenow", { timeout: 200 }).catch(() => 0)) > 0;
      }, "the upload to start");
      // The network drops: the browser goes offline and the transfer in
      // flight dies with its connection.
      await context.setOffline(true);
      await server.stop("SIGKILL");
      await until(async () => (await phaseOf(page, "offline.csv")) === "failed", "the transfer to fail");
      assert.match(await row(page, "offline.csv").innerText(), /connection/i);
      assert.equal(await page.locator("[data-testid=connection-banner]").getAttribute("data-state"), "offline");
      await screenshot(page, "home-offline-light");

      await server.start();
      await throttle(page, -1);
      await context.setOffline(false);
      await until(
        async () => (await phaseOf(page, "offline.csv")) === "done",
        "the upload to resume and finish",
        60_000,
      );
    },
  );
});
