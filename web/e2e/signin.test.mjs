// Signing in through a real OpenID Connect provider's own login and consent
// pages (tests/oidc), in headless Chromium, before uploading; a session that
// ends mid-visit sends the person to sign in and back to the same page.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launch, openPage, screenshot } from "./browser.mjs";
import { mixedCsv } from "./data.mjs";
import { OidcProvider } from "./provider.mjs";
import { Loupe } from "./server.mjs";

/** Sessions last this long, so the test can watch one end. */
const SESSION_SECS = 25;

async function signInAtProvider(page, login) {
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
}

describe("signing in", () => {
  let provider;
  let server;
  let browser;
  let page;
  let signedInAt;

  before(async () => {
    provider = await OidcProvider.start();
    server = await Loupe.start(["--session-max-secs", String(SESSION_SECS)], provider.loupeEnv());
    browser = await launch();
    ({ page } = await openPage(browser));
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    provider?.stop();
  });

  it("signs in through the provider's login page, then uploads", { timeout: 120_000 }, async () => {
    await page.goto(`${server.url}/jobs`);
    await page.getByRole("heading", { name: "Sign in to Loupe" }).waitFor();
    assert.equal(await page.title(), "Sign in · Loupe");
    await screenshot(page, "sign-in-light");

    await page.getByRole("link", { name: "Sign in with Test" }).click();
    await page.waitForURL((url) => url.href.startsWith(provider.issuer));
    await signInAtProvider(page, "alice");
    await page.waitForURL(`${server.url}/jobs`);
    signedInAt = Date.now();
    assert.equal(await page.getByTestId("viewer-login").innerText(), "alice");

    await page.getByRole("link", { name: "Upload", exact: true }).click();
    await page.getByRole("heading", { name: "Profile a data file" }).waitFor();
    await page.setInputFiles("[data-testid=file-input]", mixedCsv("signed-in.csv", 200));
    const done = page.locator("[data-testid=upload-row][data-phase=done]", { hasText: "signed-in.csv" });
    await done.waitFor({ timeout: 60_000 });
    await screenshot(page, "signed-in-upload-light");
  });

  it("sends a person whose session ended to sign in, then back", { timeout: 120_000 }, async () => {
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.getByText("signed-in.csv").first().waitFor();
    const left = signedInAt + SESSION_SECS * 1000 + 1000 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, left)));

    await page.getByRole("link", { name: "Upload", exact: true }).click();
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.getByText("Your session has ended").waitFor();
    await page.getByRole("link", { name: "Sign in with Test" }).click();
    // The provider remembers the person; its login page may or may not show.
    await page.waitForURL((url) => !url.href.startsWith(provider.issuer) || url.pathname.includes("interaction"));
    if (page.url().startsWith(provider.issuer)) await signInAtProvider(page, "alice");
    await page.waitForURL(`${server.url}/jobs`);
    await page.getByText("signed-in.csv").first().waitFor();
    assert.equal(await page.getByTestId("viewer-login").innerText(), "alice");
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Loupe" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Sign in to Loupe" }).waitFor();
  });
});
