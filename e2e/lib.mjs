// What every journey shares: Chromium as the issue asks for it, people to sign in as, axe,
// screenshots at desktop and phone widths.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const BASE = process.env.KEYPORT_URL;
export const PASSWORD = "correct horse battery staple";
const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

/// Headless Chromium that never reaches for the internet, with a fresh profile.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/// A new browser profile: JavaScript on or off, clipboard allowed, desktop size.
export async function context(browser, { js }) {
  const ctx = await browser.newContext({
    baseURL: BASE,
    javaScriptEnabled: js,
    viewport: { width: 1280, height: 900 },
  });
  if (js) {
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  }
  return ctx;
}

/// A new person, made with the command line as an operator would; returns their email.
export function createUser(role, name) {
  const email = `${name.toLowerCase().replace(/\W+/g, ".")}.${randomBytes(3).toString("hex")}@e2e.example`;
  execFileSync(
    process.env.KEYPORT_BIN,
    ["user", "create", "--email", email, "--name", name, "--role", role, "--password-stdin"],
    { input: `${PASSWORD}\n`, env: { ...process.env, KEYPORT_LOG: "warn" } },
  );
  return email;
}

export async function signIn(page, email, password = PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

/// axe-core in the page: no serious or critical violations.
export async function checkAccessibility(page, label) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined").catch(() => false))) {
    await page.addScriptTag({ path: AXE });
  }
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = results.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `accessibility of ${label}`,
  );
}

/// Screenshots of the page as it is, at desktop width and at a phone's 360 px.
export async function screenshots(page, name) {
  const dir = process.env.E2E_SCREENSHOTS;
  const size = page.viewportSize();
  await page.screenshot({ path: path.join(dir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  await page.screenshot({ path: path.join(dir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}

/// A call to the API with a key, as a program makes it.
export async function apiStatus(key, pathname = "/api/v1/me") {
  const response = await fetch(`${BASE}${pathname}`, { headers: { "X-Api-Key": key } });
  return response.status;
}
