// Journey 1: a user enables API Access, copies the key, sees it once, regenerates it after
// confirming, and turns access off — with JavaScript on (htmx) and off (plain forms).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  apiStatus, checkAccessibility, context, createUser, finish, launch, screenshots, signIn,
} from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

for (const js of [true, false]) {
  test(`a user enables, copies, regenerates and turns off their key (JavaScript ${js ? "on" : "off"})`, async () => {
    const email = createUser("user", js ? "Jo Script" : "Nora Script");
    const ctx = await context(browser, { js });
    const page = await ctx.newPage();
    await signIn(page, email);

    // Your Profile & Preferences → My Settings & Preferences → API Access.
    await page.getByRole("link", { name: "Your Profile & Preferences" }).click();
    await page.getByRole("navigation", { name: "My Settings & Preferences" })
      .getByRole("link", { name: "API Access", exact: true }).click();
    await page.locator("p.status-off").waitFor();
    if (js) {
      await checkAccessibility(page, "API Access (off)");
      await screenshots(page, "api-access-off");
    }

    await page.getByRole("button", { name: "Enable API Access" }).click();
    const field = page.locator("#new-key");
    await field.waitFor();
    const key = await field.inputValue();
    assert.match(key, /^kp_[0-9A-Za-z]{38}$/);
    await page.getByText("it will not be shown again").waitFor();
    assert.equal(await apiStatus(key), 200, "the new key works");
    if (js) {
      await page.getByRole("button", { name: "Copy" }).click();
      await page.getByText("Copied", { exact: true }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
      await checkAccessibility(page, "API Access (new key)");
      await screenshots(page, "api-access-new-key");
    }

    // Shown once: on the next visit only the prefix is there.
    await page.goto("/settings/api-access");
    assert.equal(await page.locator("#new-key").count(), 0);
    const prefix = key.slice(0, 9); // kp_ and six characters
    await page.getByText(`${prefix}…`).first().waitFor();
    assert.ok(!(await page.content()).includes(key), "the full key is not on the page again");

    // Regenerate New Key, after a confirmation that says what stops working.
    await page.getByRole("link", { name: "Regenerate New Key" }).click();
    await page.getByText("stops working at once, and so does every existing link").waitFor();
    if (js) await screenshots(page, "api-access-confirm-regenerate");
    await page.getByRole("button", { name: "Regenerate New Key" }).click();
    await page.locator("#new-key").waitFor();
    const second = await page.locator("#new-key").inputValue();
    assert.notEqual(second, key);
    assert.equal(await apiStatus(key), 401, "the old key fails at once");
    assert.equal(await apiStatus(second), 200);

    // Turn Off API Access, after confirming.
    await page.goto("/settings/api-access");
    await page.getByRole("link", { name: "Turn Off API Access" }).click();
    await page.getByText("Turn Off API Access?").waitFor();
    await page.getByRole("button", { name: "Turn Off API Access" }).click();
    await page.locator("p.status-off").waitFor();
    await page.getByRole("status").filter({ hasText: "API Access is off" }).waitFor();
    assert.equal(await apiStatus(second), 401, "the key fails at once");
    await ctx.close();
  });
}
