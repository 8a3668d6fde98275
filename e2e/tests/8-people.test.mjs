// Journey 8: people managed in the portal — an admin invites a person, who accepts and signs
// in; an admin disables a person, who is signed out; a person resets a forgotten password —
// with JavaScript on and off.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  PASSWORD, checkAccessibility, context, createUser, finish, launch, mailedLink, mailedLinks, screenshots, signIn,
} from "../lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(() => finish(browser));

const NEW_PASSWORD = "sunlit meadow compass";

async function toPeople(page) {
  await page.goto("/settings");
  await page.getByRole("navigation", { name: "My Settings & Preferences" })
    .getByRole("link", { name: "People" }).click();
  await page.getByRole("heading", { name: "People", level: 1 }).waitFor();
}

for (const js of [true, false]) {
  const mode = `JavaScript ${js ? "on" : "off"}`;

  test(`an admin invites a person, who accepts and signs in (${mode})`, async () => {
    const admin = await (await context(browser, { js })).newPage();
    await signIn(admin, createUser("admin", js ? "Ines Inviter" : "Ivo Inviter"));
    await toPeople(admin);
    await admin.getByRole("link", { name: "Invite a person" }).click();
    const email = `invited.${randomBytes(3).toString("hex")}@e2e.example`;
    const name = js ? "Nora Newcomer" : "Nils Newcomer";
    await admin.getByLabel("Name").fill(name);
    await admin.getByLabel("Email").fill(email);
    await admin.getByLabel("Role").selectOption("support");
    const seen = await mailedLinks("invitations");
    await admin.getByRole("button", { name: "Send invitation" }).click();
    await admin.getByText(`Invitation sent to ${email}`).waitFor();
    await admin.locator("tr", { hasText: email }).getByText("Works until").waitFor();
    if (js) {
      await checkAccessibility(admin, "Invitations");
      await screenshots(admin, "invitations-waiting");
    }

    const link = await mailedLink("invitations", seen);
    const invited = await (await context(browser, { js })).newPage();
    await invited.goto(link);
    await invited.getByRole("heading", { name: `Welcome to keyport, ${name}` }).waitFor();
    if (js) {
      await checkAccessibility(invited, "accepting an invitation");
      await screenshots(invited, "invitation-accept");
    }
    await invited.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
    await invited.getByLabel("The same password, again").fill(NEW_PASSWORD);
    await invited.getByRole("button", { name: "Set password and sign in" }).click();
    await invited.getByText(`Welcome to keyport, ${name}.`).waitFor();
    // Invited as support: Advanced Settings is there.
    await invited.getByRole("navigation", { name: "My Settings & Preferences" })
      .getByRole("link", { name: "API Management" }).waitFor();

    // The link works once.
    const again = await (await context(browser, { js })).newPage();
    const response = await again.goto(link);
    assert.equal(response.status(), 410);
    await again.getByText("already been used").waitFor();
  });

  test(`an admin disables a person, who is signed out at once (${mode})`, async () => {
    const name = js ? "Dana Disabled" : "Dirk Disabled";
    const email = createUser("user", name);
    const person = await (await context(browser, { js })).newPage();
    await signIn(person, email);

    const admin = await (await context(browser, { js })).newPage();
    await signIn(admin, createUser("admin", js ? "Ari Admin" : "Abe Admin"));
    await toPeople(admin);
    const search = admin.getByLabel("Search by the start of a name or email");
    await search.fill(email);
    if (!js) await search.press("Enter");
    await admin.locator("#people-list tbody tr", { hasText: email }).getByRole("link", { name }).click();
    await admin.getByRole("heading", { name, level: 1 }).waitFor();
    if (js) {
      await checkAccessibility(admin, "a person's page");
      await screenshots(admin, "person-to-disable");
    }
    await admin.getByRole("link", { name: "Disable account…" }).click();
    await admin.getByRole("heading", { name: `Disable ${name}’s account?` }).waitFor();
    await admin.getByRole("button", { name: "Disable account" }).click();
    await admin.getByText(`${name}’s account is disabled`).waitFor();

    await person.reload();
    assert.ok(new URL(person.url()).pathname.startsWith("/login"), `signed out: ${person.url()}`);
    await person.getByLabel("Email").fill(email);
    await person.getByLabel("Password").fill(PASSWORD);
    await person.getByRole("button", { name: "Sign in" }).click();
    await person.getByText("This account is turned off.").waitFor();
  });

  test(`a person resets a forgotten password (${mode})`, async () => {
    const email = createUser("user", js ? "Fay Forgetful" : "Finn Forgetful");
    const page = await (await context(browser, { js })).newPage();
    await page.goto("/login");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.getByLabel("Email").fill(email);
    const seen = await mailedLinks("password-reset");
    await page.getByRole("button", { name: "Send me a link" }).click();
    await page.getByText("If an account exists for that email, we sent a link to it.").waitFor();
    if (js) await checkAccessibility(page, "Forgot password, sent");

    const link = await mailedLink("password-reset", seen);
    await page.goto(link);
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    if (js) await screenshots(page, "password-reset");
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByLabel("The same password, again").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password and sign in" }).click();
    await page.getByText("Password changed.").waitFor();

    const fresh = await (await context(browser, { js })).newPage();
    await signIn(fresh, email, NEW_PASSWORD);
    assert.ok(!new URL(fresh.url()).pathname.startsWith("/login"));
  });
}
