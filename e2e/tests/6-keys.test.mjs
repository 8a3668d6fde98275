// Journey 6: a user creates a read-only key, sees it once, uses it, regenerates it with a
// 24-hour grace time (both keys work), then retires the old one — with JavaScript on and off.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, apiStatus, checkAccessibility, finish, launch, screenshots, userWithKey } from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

for (const js of [true, false]) {
  test(`a user creates a read-only key, rotates it with a grace time and retires the old one (JavaScript ${js ? "on" : "off"})`, async () => {
    const { ctx, page } = await userWithKey(browser, { js, name: js ? "Rita Rotate" : "Rex Rotate" });

    await page.goto("/settings/api-access");
    await page.getByRole("link", { name: "Create New Key" }).click();
    await page.getByLabel("Name").fill("Dashboard reader");
    await page.getByLabel("Read-only: reads everything, changes nothing").check();
    await page.getByLabel("Expires in (days)").fill("90");
    if (js) {
      await checkAccessibility(page, "Create New Key");
      await screenshots(page, "create-new-key");
    }
    await page.getByRole("button", { name: "Create New Key" }).click();
    const reader = await page.locator("#new-key").inputValue();
    assert.match(reader, /^kp_[0-9A-Za-z]{38}$/);
    await page.getByText("it will not be shown again").waitFor();
    if (js) await checkAccessibility(page, "a new key's page");

    // It reads, and is refused a write with the scope it lacks.
    assert.equal(await apiStatus(reader, "/api/v1/contacts"), 200);
    const write = await api(reader, "POST", "/api/v1/contacts", { first_name: "No", last_name: "Write" });
    assert.equal(write.status, 403);
    assert.equal(write.json.required_scope, "contacts:write");

    // Shown once: the API Access list shows its name, access and prefix only.
    await page.goto("/settings/api-access");
    await page.getByRole("link", { name: "Dashboard reader" }).waitFor();
    await page.getByText("Read-only").first().waitFor();
    assert.ok(!(await page.content()).includes(reader));

    // Regenerate New Key with a 24-hour grace: both keys work; the old one is Retiring.
    await page.getByRole("link", { name: "Dashboard reader" }).click();
    const keyPage = page.url();
    await page.getByRole("link", { name: "Regenerate New Key" }).click();
    await page.getByLabel("The old key stops").selectOption("24h");
    if (js) await screenshots(page, "key-confirm-regenerate");
    await page.getByRole("button", { name: "Regenerate New Key" }).click();
    const rotated = await page.locator("#new-key").inputValue();
    assert.notEqual(rotated, reader);
    await page.getByText("keeps working for 24 hours").waitFor();
    assert.equal(await apiStatus(reader), 200, "the old key works during the grace time");
    assert.equal(await apiStatus(rotated), 200);
    await page.goto("/settings/api-access");
    await page.getByText("Retiring", { exact: true }).first().waitFor();
    if (js) await screenshots(page, "api-access-keys");

    // Retire Now: the old key fails at once, the new one goes on.
    await page.goto(keyPage);
    await page.getByRole("link", { name: "Retire Now" }).click();
    await page.getByRole("button", { name: "Retire Now" }).click();
    await page.getByText("is retired: it no longer works").waitFor();
    assert.equal(await apiStatus(reader), 401);
    assert.equal(await apiStatus(rotated), 200);
    await ctx.close();
  });
}
