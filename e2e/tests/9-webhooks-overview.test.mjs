// Journey 9: support staff open Advanced Settings → Webhooks, filter to the failing ones, open
// one and read why it fails — and find nothing that changes anything (JavaScript on and off).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  api, checkAccessibility, context, createUser, finish, launch, receiver, reloadUntil, screenshots, signIn,
  userWithKey,
} from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

for (const js of [true, false]) {
  test(`support staff find the failing webhooks and read why (JavaScript ${js ? "on" : "off"})`, async () => {
    const hooks = await receiver(() => 500);
    const user = await userWithKey(browser, { js, name: js ? "Fern Failing" : "Finn Failing" });
    assert.equal((await api(user.key, "POST", "/api/v1/webhooks",
      { url: hooks.url, entity: "Job", operation_type: "Create" })).status, 201);
    assert.equal((await api(user.key, "POST", "/api/v1/jobs", { title: "Broken pipe" })).status, 201);

    const page = await (await context(browser, { js })).newPage();
    await signIn(page, createUser("support", js ? "Suki Support" : "Saul Support"));
    await page.getByRole("navigation", { name: "My Settings & Preferences" })
      .getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await page.getByRole("navigation", { name: "Filter webhooks by health" })
      .getByRole("link", { name: "failing", exact: true }).click();
    await page.waitForURL(/state=failing/);
    const row = page.locator("table.webhook-overview tbody tr", { hasText: hooks.url });
    await reloadUntil(page, row.getByText("answered 500 Internal Server Error").first());
    await row.getByText("Failing since").waitFor();
    if (js) {
      await checkAccessibility(page, "Webhooks, failing");
      await screenshots(page, "webhooks-failing");
    }
    assert.equal(await page.locator("main form[method=post]").count(), 0, "support changes nothing");

    await row.getByRole("link", { name: `Deliveries of the webhook to ${hooks.url}` }).click();
    await page.getByRole("heading", { name: hooks.url }).waitFor();
    await page.getByText("answered 500 Internal Server Error").first().waitFor();
    assert.equal(await page.getByRole("button", { name: "Redeliver" }).count(), 0);
    assert.equal(await page.locator("main form").count(), 0, "no forms in the page's content");
    await hooks.close();
    await user.ctx.close();
  });
}
