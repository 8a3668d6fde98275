// Journey 7: a user reads a key's usage chart, regenerates the key, then finds on API Access
// where the old key is still sent (a forgotten integration with it in a link), and dismisses
// the notice once it is fixed — with JavaScript on and off.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, apiStatus, checkAccessibility, finish, launch, reloadUntil, screenshots, userWithKey } from "../lib.mjs";

const BASE = process.env.KEYPORT_URL;

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

for (const js of [true, false]) {
  test(`a user reads a key's usage and finds where a regenerated key is still sent (JavaScript ${js ? "on" : "off"})`, async () => {
    const { ctx, page, key } = await userWithKey(browser, { js, name: js ? "Uma Usage" : "Ugo Usage" });

    // Three calls that succeed and one that fails: the key's page charts them once written.
    for (let i = 0; i < 3; i++) assert.equal(await apiStatus(key, "/api/v1/contacts"), 200);
    assert.equal((await api(key, "GET", "/api/v1/contacts/999999999")).status, 404);
    await page.goto("/settings/api-access");
    await page.getByRole("link", { name: "Default" }).click();
    const chart = page.getByRole("img", { name: /^3 succeeded and 1 refused or failed requests over the last 30 days/ });
    await reloadUntil(page, chart);
    assert.equal(await page.locator("dt:has-text(\"Client errors\") + dd").innerText(), "1");
    if (js) {
      await checkAccessibility(page, "a key's page with its usage");
      await screenshots(page, "key-usage");
    }

    // Regenerate New Key (at once): a forgotten integration still sends the old key in a link.
    await page.goto("/settings/api-access");
    await page.getByRole("link", { name: "Regenerate New Key" }).click();
    await page.getByRole("button", { name: "Regenerate New Key" }).click();
    await page.locator("#new-key").waitFor();
    const forgotten = await fetch(`${BASE}/api/v1/contacts?api_key=${key}`, { headers: { "User-Agent": "Zapier" } });
    assert.equal(forgotten.status, 401);

    // API Access says which key, from where, how and to what.
    await page.goto("/settings/api-access");
    const notice = page.getByText(/Your regenerated key “Default” kp_\w+… was still used once since it stopped working/);
    await reloadUntil(page, notice);
    const text = await page.locator(".still-used").innerText();
    assert.match(text, /from 127\.0\.0\.1, sent as a link parameter \(api_key\) to GET \/api\/v1\/contacts \(User-Agent: Zapier\)/);
    assert.ok(!(await page.content()).includes(key), "never the key");
    if (js) {
      await checkAccessibility(page, "API Access with a stopped key still in use");
      await screenshots(page, "api-access-still-used");
    }

    // Fixed: dismissed, and gone until the old key is sent again.
    await page.getByRole("button", { name: /^Dismiss the notice about Default kp_/ }).click();
    await page.getByText("Notice dismissed").waitFor();
    assert.equal(await page.locator(".still-used").count(), 0);
    await ctx.close();
  });
}
