// Journey 2: an admin finds a user in API Management by part of their email, pages through the
// list, opens the user and clears their key after confirming; the audit trail shows it and the
// user's own page says the key was cleared — with JavaScript on and off.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  apiStatus, checkAccessibility, context, createUser, finish, launch, screenshots, signIn, userWithKey,
} from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

for (const js of [true, false]) {
  test(`an admin finds a user, pages, and clears their key (JavaScript ${js ? "on" : "off"})`, async () => {
    // A user with API Access on, in a browser of their own.
    const name = js ? "Cleo Cleared" : "Cato Cleared";
    const { email, ctx: userCtx, page: userPage, key } = await userWithKey(browser, { js, name });
    assert.equal(await apiStatus(key), 200);

    const adminCtx = await context(browser, { js });
    const page = await adminCtx.newPage();
    await signIn(page, createUser("admin", "Ava Admin"));
    await page.getByRole("link", { name: "Your Profile & Preferences" }).click();
    await page.getByRole("navigation", { name: "My Settings & Preferences" })
      .getByRole("link", { name: "API Management" }).click();
    await page.getByRole("heading", { name: "API Management" }).waitFor();

    // Page through the 60 generated people: 50, then the rest.
    const search = page.getByLabel("Search by the start of a name or email");
    await search.fill("people.example");
    if (!js) await search.press("Enter");
    // With htmx the list updates as one types; without, the form is submitted.
    await page.waitForFunction(() => {
      const emails = [...document.querySelectorAll("#key-list td[data-label=Email]")];
      return emails.length === 50 && emails.every((e) => e.textContent.endsWith("@people.example"));
    });
    const first = await page.locator("#key-list tbody tr td[data-label=Email]").allTextContents();
    assert.ok(first.every((e) => e.endsWith("@people.example")), "only matching people");
    if (js) {
      await checkAccessibility(page, "API Management");
      await screenshots(page, "api-management");
    }
    await page.getByRole("link", { name: "Next page" }).click();
    await page.waitForFunction(() => document.querySelectorAll("#key-list tbody tr").length === 10);
    const second = await page.locator("#key-list tbody tr td[data-label=Email]").allTextContents();
    assert.equal(new Set([...first, ...second]).size, 60, "every person once, across the pages");

    // Part of the email finds the user.
    await page.goto("/admin/api-management");
    const part = email.split("@")[0].slice(0, 10);
    await page.getByLabel("Search by the start of a name or email").fill(part);
    if (!js) await page.getByLabel("Search by the start of a name or email").press("Enter");
    await page.locator("#key-list tbody tr", { hasText: email }).waitFor();
    await page.getByRole("link", { name }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    if (js) {
      await checkAccessibility(page, "a user in API Management");
      await screenshots(page, "api-management-user");
    }

    // Clear API Key, after a confirmation that says what stops working.
    await page.getByRole("link", { name: "Clear API Key" }).click();
    await page.getByText("stops working at once, and so does every link that contains it").waitFor();
    await page.getByLabel("Reason").fill("Key found in a public repository");
    if (js) await screenshots(page, "api-management-confirm-clear");
    await page.getByRole("button", { name: "Clear API Key" }).click();
    await page.locator("p.status-off").waitFor();
    await page.locator("table.audit tbody tr", { hasText: "Cleared API Key" }).waitFor();
    assert.equal(await apiStatus(key), 401, "the key fails at once");

    // The user's page says so, with the reason.
    await userPage.goto("/settings/api-access");
    await userPage.getByText("An admin cleared your API key").waitFor();
    await userPage.getByText("Key found in a public repository").waitFor();
    await userCtx.close();
    await adminCtx.close();
  });
}
