// The example app's organizations (examples/web/organizations.js) driven in Chromium as people
// would, against the real worker: an owner creates an organization and invites an address as
// admin from the page; the mailed link (its token in the fragment) is opened in other browsers,
// refused to another verified account, accepted by the invited one, who switches to it; the
// owner's member list shows them. Screenshots in tests/artifacts/organizations/.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { artifacts, startRig } from "./support/browser.mjs";

// The page itself is where the invitation mail's link comes back to.
const rig = await startRig(after, { vars: (site) => ({ OAUTH_REDIRECT_URLS: `${site}/` }) });
const shots = artifacts("organizations");

/** A tab of the example app in `context`, and what its notice must come to say. */
async function examplePage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const notice = page.locator("#notice");
  const expectNotice = async (text) => {
    await page.waitForFunction((t) => document.getElementById("notice").textContent.includes(t), text, { timeout: 10_000 })
      .catch(async () => assert.fail(`notice "${await notice.textContent()}", expected "${text}"`));
  };
  await page.goto(url);
  return { page, errors, expectNotice };
}

/** Signs `user` in with the page's password form. */
async function signIn(page, user) {
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await page.fill("#login-email", user.email);
  await page.fill("#login-password", user.password);
  await page.click("#login-form button");
  await page.locator("#status", { hasText: `Signed in as ${user.email}` }).waitFor();
}

test("an invitation from the example's form, accepted through the mailed link in another browser", async () => {
  const { app, site } = rig;
  const api = `?api=${encodeURIComponent(app.base)}`;
  const [owner, invitee, stranger] = await Promise.all([
    app.verifiedUser("org-owner"), app.verifiedUser("org-invitee"), app.verifiedUser("org-stranger"),
  ]);
  const name = `Acme ${process.pid}`;

  // A: the owner creates the organization (it becomes the active one) and invites B as admin.
  const a = await examplePage(await rig.browser(), `${site.url}/${api}`);
  await signIn(a.page, owner);
  await a.page.fill("#organization-name", name);
  await a.page.click("#organization-form button");
  await a.expectNotice(`Created ${name}; it is your active organization`);
  await a.page.locator("#active-organization", { hasText: `${name} (` }).waitFor();
  await a.page.locator("#active-organization", { hasText: "as owner" }).waitFor();
  const organizationId = await a.page.locator("#organizations li[data-id]").first().getAttribute("data-id");
  await a.page.fill("#invite-email", invitee.email);
  await a.page.fill("#invite-role", "admin");
  assert.equal(await a.page.isChecked("#invite-link"), true, "the mail links to this page by default");
  await a.page.click("#invite-form button");
  await a.expectNotice(`Invited ${invitee.email} as admin`);
  await a.page.locator(`#invitations li[data-email="${invitee.email}"]`).waitFor();
  await a.page.screenshot({ path: `${shots}/01-invited.png`, fullPage: true });

  // The mail links to the page with the token in the fragment; the page is told the API by `?api=`.
  const [mail] = await app.mailbox.to(invitee.email, { subject: /invited to join/ });
  assert.ok(mail, "the invitation was mailed");
  const link = mail.text.match(/https?:\/\/\S+#invitation=\S+/)?.[0];
  assert.ok(link?.startsWith(`${site.url}/#invitation=`), mail.text);
  const opened = link.replace("/#", `/${api}#`);

  // C: another verified account holding the link is refused; the invitation stays for the right one.
  const c = await examplePage(await rig.browser(), opened);
  await c.page.locator("#invitation").waitFor();
  assert.equal(new URL(c.page.url()).hash, "", "the token left the address bar");
  await signIn(c.page, stranger);
  await c.page.click("#accept-invitation");
  await c.expectNotice("(wrong_account)");
  assert.equal(await c.page.isVisible("#invitation"), true, "another account's refusal keeps the invitation in the tab");
  await c.page.screenshot({ path: `${shots}/02-wrong-account.png`, fullPage: true });

  // B: a fresh browser opens the link signed out, signs in as the invited address, accepts.
  const b = await examplePage(await rig.browser(), opened);
  await b.page.locator("#invitation-hint", { hasText: "sign in" }).waitFor();
  assert.equal(await b.page.isVisible("#accept-invitation"), false, "signed out, it asks for a sign-in first");
  assert.equal(new URL(b.page.url()).hash, "", "the token left the address bar");
  await b.page.screenshot({ path: `${shots}/03-link-signed-out.png`, fullPage: true });
  await signIn(b.page, invitee);
  await b.page.click("#accept-invitation");
  await b.expectNotice(`Joined ${name} as admin`);
  await b.page.locator("#invitation").waitFor({ state: "hidden" });
  const joined = b.page.locator(`#organizations li[data-id="${organizationId}"]`);
  await joined.filter({ hasText: `${name}` }).filter({ hasText: ": admin" }).waitFor();
  await b.page.locator("#active-organization", { hasText: "none" }).waitFor();
  await joined.locator(".switch-organization").click();
  await b.expectNotice(`Switched to ${name}: you are admin`);
  await b.page.locator("#active-organization", { hasText: `${name} (` }).waitFor();
  await b.page.locator("#active-organization", { hasText: "as admin" }).waitFor();
  await joined.locator(".active").waitFor();
  // The page's client (`window.edgeAuth`) reads the active organization from the access token.
  const claims = await b.page.evaluate(() => window.edgeAuth.activeOrganization);
  assert.equal(claims?.org_id, organizationId);
  assert.equal(claims?.org_role, "admin");
  assert.ok(claims.org_permissions.includes("members:invite"), JSON.stringify(claims));
  // As an admin B sees the members, and may invite.
  await b.page.locator(`#members tr[data-email="${owner.email}"] .role`, { hasText: "owner" }).waitFor();
  await b.page.locator("#invitations-panel").waitFor();
  await b.page.screenshot({ path: `${shots}/04-accepted.png`, fullPage: true });

  // A: the member list, read again, shows B as admin; the invitation is no longer pending.
  await a.page.reload();
  await a.page.locator(`#members tr[data-email="${invitee.email}"] .role`, { hasText: "admin" }).waitFor();
  await a.page.locator("#invitations-panel").waitFor();
  assert.equal(await a.page.locator(`#invitations li[data-email="${invitee.email}"]`).count(), 0);
  await a.page.screenshot({ path: `${shots}/05-members.png`, fullPage: true });

  // The used link is spent: C, trying again, is told so, and the page forgets it.
  await c.page.click("#accept-invitation");
  await c.expectNotice("(invitation_not_found)");
  await c.page.locator("#invitation").waitFor({ state: "hidden" });

  assert.deepEqual([...a.errors, ...b.errors, ...c.errors], []);
});
