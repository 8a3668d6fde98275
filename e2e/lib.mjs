// What every journey shares: Chromium as the issue asks for it, people to sign in as, axe,
// screenshots at desktop and phone widths.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const BASE = process.env.KEYPORT_URL;
export const PASSWORD = "correct horse battery staple";
const require = createRequire(import.meta.url);
// Run through the DevTools protocol, which the page's Content-Security-Policy does not govern
// (an injected <script> would be refused, as it should be).
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

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

/// Requests a page made to anything but the keyport under test; `finish` fails if there are any.
const outside = [];

/// Script errors and anything the Content-Security-Policy refused, page by page.
const problems = [];

/// Closes the browser, failing if any page asked for something off this machine, broke the
/// Content-Security-Policy or threw.
export async function finish(browser) {
  await browser.close();
  assert.deepEqual(outside, [], "pages reached beyond the keyport under test");
  assert.deepEqual(problems, [], "script errors or Content-Security-Policy violations");
}

/// A new browser profile: JavaScript on or off, clipboard allowed, desktop size (or as asked).
export async function context(browser, { js, ...options }) {
  const ctx = await browser.newContext({
    baseURL: BASE,
    javaScriptEnabled: js,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  ctx.on("page", (page) => {
    page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy|Refused to/.test(message.text())) {
        problems.push(`${page.url()}: ${message.text()}`);
      }
    });
  });
  await ctx.route((url) => url.hostname !== "127.0.0.1", (route) => {
    outside.push(route.request().url());
    return route.abort();
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
    await page.evaluate(AXE);
  }
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = results.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `accessibility of ${label}`,
  );
}

/// Screenshots of the page as it is, at desktop width and at a phone's 360 px, where nothing
/// may stick out sideways (wide tables and code scroll inside their own box).
export async function screenshots(page, name) {
  const dir = process.env.E2E_SCREENSHOTS;
  const size = page.viewportSize();
  await page.screenshot({ path: path.join(dir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  const overflowing = await page.evaluate(() => [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .filter((el) => !el.closest(".table-wrap, pre"))
    .map((el) => `${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""}: ${el.textContent.trim().slice(0, 40)}`)
    .slice(0, 5));
  await page.screenshot({ path: path.join(dir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
  assert.deepEqual(overflowing, [], `${name} is wider than a 360 px phone`);
}

/// A call to the API with a key, as a program makes it.
export async function apiStatus(key, pathname = "/api/v1/me") {
  const response = await fetch(`${BASE}${pathname}`, { headers: { "X-Api-Key": key } });
  return response.status;
}

/// A webhook receiver on loopback that answers each delivery with `answer(body)` (200 by
/// default), and keeps what it received.
export async function receiver(answer = () => 200) {
  const { createServer } = await import("node:http");
  const received = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answer(body), { "content-type": "text/plain" });
      res.end("thanks");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/// A JSON API call with a key.
export async function api(key, method, pathname, body) {
  const response = await fetch(`${BASE}${pathname}`, {
    method,
    headers: { "X-Api-Key": key, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/// Reloads until `locator` shows up: deliveries happen in the background.
export async function reloadUntil(page, locator, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await locator.count())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${locator}`);
    await page.waitForTimeout(300);
    await page.reload();
  }
}

/// A user with API Access on, signed in in a browser of their own; returns the key too.
export async function userWithKey(browser, { js, name }) {
  const email = createUser("user", name);
  const ctx = await context(browser, { js });
  const page = await ctx.newPage();
  await signIn(page, email);
  await page.goto("/settings/api-access");
  await page.getByRole("button", { name: "Enable API Access" }).click();
  const key = await page.locator("#new-key").inputValue();
  return { email, ctx, page, key };
}

/// Every control on the page can be reached with Tab alone, in order, and shows where focus is.
export async function checkKeyboard(page, label) {
  const controls = await page.evaluate(() => {
    const selector = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, summary, [tabindex]:not([tabindex=\"-1\"])";
    return [...document.querySelectorAll(selector)]
      .filter((el) => el.offsetParent !== null && !el.closest("[hidden]") && !el.closest("details:not([open]) > :not(summary)"))
      // A radio group is one Tab stop (its checked radio); arrow keys move within it.
      .filter((el) => !(el.type === "radio" && !el.checked && el.form && [...el.form.elements].some((o) => o.type === "radio" && o.name === el.name && o.checked)))
      .map((el, i) => { el.dataset.kbd = String(i); return String(i); });
  });
  const reached = new Set();
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (let i = 0; i < controls.length + 5; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || !el.dataset.kbd) return null;
      const style = getComputedStyle(el);
      return { id: el.dataset.kbd, outlined: style.outlineStyle !== "none" || style.boxShadow !== "none" };
    });
    if (focused) {
      reached.add(focused.id);
      assert.ok(focused.outlined, `${label}: control ${focused.id} shows no focus ring`);
    }
  }
  const missed = controls.filter((c) => !reached.has(c));
  assert.deepEqual(missed, [], `${label}: controls Tab never reaches`);
}

/// The one-time link (`/invitations/…` or `/password-reset/…`) in the newest mail that keyport
/// wrote to its log (the demo runs without an SMTP server) after `seen` such links: its path.
export async function mailedLink(kind, seen, timeoutMs = 20000) {
  const { readFileSync } = await import("node:fs");
  const pattern = new RegExp(`https?://[^/\\s]+(/${kind}/[A-Za-z0-9_-]+)`, "g");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const links = [...readFileSync(process.env.E2E_DEMO_LOG, "utf8").matchAll(pattern)].map((m) => m[1]);
    if (links.length > seen) return links[links.length - 1];
    if (Date.now() > deadline) throw new Error(`no new ${kind} link in keyport's log`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/// How many `kind` links keyport's log holds so far.
export async function mailedLinks(kind) {
  const { readFileSync } = await import("node:fs");
  const pattern = new RegExp(`https?://[^/\\s]+/${kind}/[A-Za-z0-9_-]+`, "g");
  return [...readFileSync(process.env.E2E_DEMO_LOG, "utf8").matchAll(pattern)].length;
}
