// Journey 3: support staff open a user's webhook status page from API Management, see the
// chart and the attempts, filter the failures, and find nothing that changes anything.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  api, checkAccessibility, context, createUser, finish, launch, receiver, reloadUntil, screenshots,
  signIn, userWithKey,
} from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

for (const js of [true, false]) {
  test(`support staff inspect a webhook's deliveries, read-only (JavaScript ${js ? "on" : "off"})`, async () => {
    // A user whose receiver refuses every delivery about Ada and takes the others.
    const hooks = await receiver((body) => (body.includes('"first_name":"Ada"') ? 500 : 200));
    const name = js ? "Wes Webhook" : "Wyn Webhook";
    const user = await userWithKey(browser, { js, name });
    const created = await api(user.key, "POST", "/api/v1/webhooks",
      { url: hooks.url, entity: "Contact", operation_type: "Create" });
    assert.equal(created.status, 201);
    for (const first_name of ["Ada", "Grace"]) {
      const contact = await api(user.key, "POST", "/api/v1/contacts", { first_name, last_name: "Tested" });
      assert.equal(contact.status, 201);
    }

    const ctx = await context(browser, { js });
    const page = await ctx.newPage();
    await signIn(page, createUser("support", "Sid Support"));
    await page.goto("/admin/api-management");
    await page.getByLabel("Search by the start of a name or email").fill(user.email);
    if (!js) await page.getByLabel("Search by the start of a name or email").press("Enter");
    await page.getByRole("link", { name }).click();
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Clear API Key" }).count(), 0);
    assert.equal(await page.getByRole("link", { name: "Clear API Key" }).count(), 0);
    await page.getByRole("link", { name: "Deliveries" }).click();
    await page.getByRole("heading", { name: hooks.url }).waitFor();

    // Ada's delivery failed three times (the schedule here is 1s, 1s); Grace's was delivered.
    await reloadUntil(page, page.locator(".delivery .badge.state-failed"));
    await reloadUntil(page, page.locator(".delivery .badge.state-delivered"));
    assert.ok(await page.locator("figure svg").count() >= 2, "the charts are drawn");
    assert.equal(await page.locator("table.attempts tr.failed").count(), 3);
    assert.equal(await page.locator("table.attempts tr.ok").count(), 1);
    if (js) {
      await checkAccessibility(page, "webhook deliveries (support)");
      await screenshots(page, "webhook-deliveries");
    }

    await page.getByRole("link", { name: "failed", exact: true }).click();
    await page.waitForURL(/outcome=failed/);
    assert.equal(await page.locator(".delivery").count(), 1);
    assert.equal(await page.locator(".delivery .badge.state-delivered").count(), 0);

    // Nothing here changes anything: no Redeliver, no toggles, no form but signing out.
    assert.equal(await page.getByRole("button", { name: "Redeliver" }).count(), 0);
    const forms = await page.locator("main form").count();
    assert.equal(forms, 0, "no forms in the page's content");
    await hooks.close();
    await user.ctx.close();
    await ctx.close();
  });
}
