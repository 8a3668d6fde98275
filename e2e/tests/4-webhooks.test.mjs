// Journey 4: a user adds a webhook, turns it off and on, reveals its signing secret, and
// redelivers a delivery — with JavaScript on and off.
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, checkAccessibility, finish, launch, receiver, reloadUntil, screenshots, userWithKey } from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

for (const js of [true, false]) {
  test(`a user adds, toggles, reveals and redelivers a webhook (JavaScript ${js ? "on" : "off"})`, async () => {
    const hooks = await receiver();
    const user = await userWithKey(browser, { js, name: js ? "Hal Hooks" : "Hope Hooks" });
    const page = user.page;
    await page.goto("/settings/api-access");
    await page.getByText("No webhooks yet").waitFor();

    // Add: a refused URL says why and keeps what was typed; a good one is listed.
    await page.getByLabel("URL").fill("ftp://files.example.com/");
    await page.getByRole("button", { name: "Add webhook" }).click();
    await page.getByRole("alert").filter({ hasText: "must be an http:// or https:// address" }).waitFor();
    assert.equal(await page.getByLabel("URL").inputValue(), "ftp://files.example.com/");
    await page.getByLabel("URL").fill(hooks.url);
    await page.getByLabel("Entity").selectOption("Contact");
    await page.getByLabel("Operation Type").selectOption("Create");
    await page.getByRole("button", { name: "Add webhook" }).click();
    const row = page.locator("table.webhooks tbody tr", { hasText: hooks.url });
    await row.waitFor();
    assert.equal(await row.locator("td[data-label=Status] .badge").textContent(), "On");
    if (js) {
      await checkAccessibility(page, "API Access with a webhook");
      await screenshots(page, "api-access-webhooks");
    }

    // Off sends nothing; On again sends.
    await row.getByRole("button", { name: "Turn off" }).click();
    await page.locator("table.webhooks tbody tr", { hasText: hooks.url })
      .locator(".badge", { hasText: "Off" }).waitFor();
    assert.equal((await api(user.key, "POST", "/api/v1/contacts", { first_name: "Off", last_name: "Line" })).status, 201);
    await page.waitForTimeout(1500);
    assert.equal(hooks.received.length, 0, "a webhook that is off sends nothing");
    await page.locator("table.webhooks tbody tr", { hasText: hooks.url })
      .getByRole("button", { name: "Turn on" }).click();
    await page.locator("table.webhooks tbody tr", { hasText: hooks.url })
      .locator(".badge", { hasText: "On" }).waitFor();

    // Reveal the signing secret; it verifies what the receiver gets.
    await page.locator("table.webhooks tbody tr", { hasText: hooks.url })
      .getByRole("link", { name: "Reveal secret" }).click();
    const secret = await page.getByLabel("Signing secret").inputValue();
    assert.match(secret, /^whsec_/);
    assert.equal((await api(user.key, "POST", "/api/v1/contacts", { first_name: "Ada", last_name: "On" })).status, 201);
    const deadline = Date.now() + 15000;
    while (hooks.received.length < 1 && Date.now() < deadline) await page.waitForTimeout(200);
    assert.equal(hooks.received.length, 1);
    const { headers, body } = hooks.received[0];
    const expected = createHmac("sha256", Buffer.from(secret.slice(6), "base64"))
      .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`).digest("base64");
    assert.equal(headers["webhook-signature"], `v1,${expected}`);

    // Redeliver from the webhook's page: the receiver gets the same event again.
    await page.goto("/settings/api-access");
    await page.locator("table.webhooks tbody tr", { hasText: hooks.url })
      .getByRole("link", { name: "Deliveries" }).click();
    await reloadUntil(page, page.locator(".delivery .badge.state-delivered"));
    if (js) {
      await checkAccessibility(page, "webhook deliveries (owner)");
      await screenshots(page, "webhook-deliveries-owner");
    }
    await page.getByRole("button", { name: "Redeliver" }).first().click();
    while (hooks.received.length < 2 && Date.now() < deadline + 15000) await page.waitForTimeout(200);
    assert.equal(hooks.received.length, 2);
    assert.equal(hooks.received[1].headers["webhook-id"], headers["webhook-id"], "the same event");
    await hooks.close();
    await user.ctx.close();
  });
}
