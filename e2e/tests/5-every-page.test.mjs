// Every page, as the people who see it: axe finds nothing serious or critical, every control is
// reachable with the keyboard, and screenshots are taken at desktop and phone widths (light and
// dark for the main ones).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  api, checkAccessibility, checkKeyboard, context, createUser, finish, launch, receiver, screenshots, signIn,
  userWithKey,
} from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

async function visit(page, path, name) {
  await page.goto(path);
  await checkAccessibility(page, path);
  await checkKeyboard(page, path);
  await screenshots(page, name);
}

test("every page passes axe and the keyboard check, and is photographed", async () => {
  const anonymous = await (await context(browser, { js: true })).newPage();
  await visit(anonymous, "/login", "login");
  await visit(anonymous, "/docs/api", "api-developer-guide");
  await visit(anonymous, "/no-such-page", "not-found");

  const hooks = await receiver();
  const user = await userWithKey(browser, { js: true, name: "Pia Pages" });
  const made = await api(user.key, "POST", "/api/v1/webhooks", { url: hooks.url, entity: "Contact", operation_type: "Create" });
  await api(user.key, "POST", "/api/v1/contacts", { first_name: "Page", last_name: "Turner" });
  await visit(user.page, "/settings", "settings");
  await visit(user.page, "/settings/api-access", "api-access");
  await visit(user.page, "/settings/api-access/regenerate", "api-access-confirm-regenerate-page");
  await visit(user.page, "/settings/api-access/disable", "api-access-confirm-turn-off");
  await visit(user.page, `/settings/api-access/webhooks/${made.json.id}`, "webhook-owner");
  await visit(user.page, "/settings/password", "password-and-sign-in");
  await visit(user.page, "/settings/api-access/keys/new", "create-new-key-page");
  const me = await api(user.key, "GET", "/api/v1/me");
  await visit(user.page, `/settings/api-access/keys/${me.json.key.id}`, "key-page");
  await visit(user.page, `/settings/api-access/keys/${me.json.key.id}/regenerate`, "key-confirm-regenerate-page");
  await visit(user.page, `/settings/api-access/keys/${me.json.key.id}/delete`, "key-confirm-delete");

  const admin = await (await context(browser, { js: true })).newPage();
  await signIn(admin, createUser("admin", "Abe Admin"));
  await visit(admin, "/admin/api-management", "api-management-list");
  await admin.getByLabel("Search by the start of a name or email").fill(user.email);
  await admin.getByRole("link", { name: "Pia Pages" }).click();
  const userUrl = new URL(admin.url()).pathname;
  await visit(admin, userUrl, "api-management-user-page");
  await visit(admin, `${userUrl}/clear`, "api-management-clear");
  await visit(admin, `${userUrl}/webhooks/${made.json.id}`, "webhook-staff");
  await visit(admin, `${userUrl}/keys/${me.json.key.id}/clear`, "api-management-clear-key");
  await visit(admin, "/admin/api-management/policy", "key-policy");
  await visit(admin, "/admin/mail", "mail-log");
  await visit(admin, "/admin/people", "people");
  await visit(admin, "/admin/people/invitations", "invitations");
  await visit(admin, "/admin/webhooks", "webhooks-overview");
  await visit(admin, "/admin/webhooks?state=failing", "webhooks-overview-failing");
  const userId = userUrl.split("/").pop();
  // A person of the demo's team, with weeks of history.
  await admin.goto("/admin/people?q=hana");
  await admin.getByRole("link", { name: "Hana Sato" }).click();
  await visit(admin, new URL(admin.url()).pathname, "person");
  await visit(admin, `/admin/people/${userId}/role?role=support`, "person-confirm-role");
  await visit(admin, `/admin/people/${userId}/disable`, "person-confirm-disable");
  await visit(anonymous, "/password-reset", "forgot-password");
  await visit(admin, "/admin/api-management?stale=1", "api-management-stale");

  // Dark mode follows the system setting.
  const darkPage = await (await context(browser, { js: true, colorScheme: "dark" })).newPage();
  await signIn(darkPage, user.email);
  await visit(darkPage, "/settings/api-access", "api-access-dark");
  await hooks.close();
});

/// Presses Tab until the focused element has this accessible text, then returns.
async function tabTo(page, text) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.getAttribute("aria-label") || "");
    if (focused === text) return;
  }
  throw new Error(`Tab never reached "${text}"`);
}

test("the first start: the one-time setup link creates the first admin", async () => {
  const page = await (await context(browser, { js: true })).newPage();
  const link = process.env.KEYPORT_SETUP_URL;
  assert.ok(link, "the fresh instance printed a setup link");
  await visit(page, link, "setup");
  await page.getByLabel("Name").fill("Fay First");
  await page.getByLabel("Email").fill("fay@e2e.example");
  await page.getByLabel(/^Password/).fill("a long first password");
  await page.getByRole("button", { name: "Create admin" }).click();
  await page.getByText("Fay First").first().waitFor();
  await page.getByRole("link", { name: "API Management" }).waitFor();
  // The link works once.
  const again = await page.goto(link);
  assert.equal(again.status(), 404);
});

test("the keyboard alone enables, copies and regenerates a key", async () => {
  const email = createUser("user", "Kim Keys");
  const page = await (await context(browser, { js: true })).newPage();
  await page.goto("/login");
  // The email field has focus when the page opens; wait for it before typing, or the first
  // keys can land before the browser has applied autofocus.
  await page.waitForFunction(() => document.activeElement?.getAttribute("name") === "email");
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("correct horse battery staple");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/settings/);
  await tabTo(page, "API Access");
  await page.keyboard.press("Enter");
  await page.waitForURL(/api-access/);
  await tabTo(page, "Enable API Access");
  await page.keyboard.press("Enter");
  await page.locator("#new-key").waitFor();
  const key = await page.locator("#new-key").inputValue();
  await tabTo(page, "Copy");
  await page.keyboard.press("Enter");
  await page.getByText("Copied", { exact: true }).waitFor();
  await tabTo(page, "Regenerate New Key");
  await page.keyboard.press("Enter");
  await page.getByText("Regenerate New Key?").waitFor();
  await tabTo(page, "Regenerate New Key");
  await page.keyboard.press("Enter");
  await page.waitForFunction((old) => {
    const field = document.querySelector("#new-key");
    return field && field.value !== old;
  }, key);
});
