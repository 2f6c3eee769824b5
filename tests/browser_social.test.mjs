// Social sign-in in Chromium, as a person would: the example app's "Sign in with test" button, the
// worker's /oauth/test/start, a real OpenID provider (oidc-provider, tests/support/oidc.mjs) with
// its login and consent pages, the worker's callback, and back on the example app, which exchanges
// the one-time code with its PKCE verifier and shows the signed-in user. Then linking and
// unlinking from the signed-in page. Screenshots in tests/artifacts/social/.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { uniqueEmail } from "./support/app.mjs";
import { startOidcProvider } from "./support/oidc.mjs";
import { artifacts, freePort, startRig } from "./support/browser.mjs";

const ada = { sub: "ada-1", email: uniqueEmail("ada"), email_verified: true, name: "Ada Social" };
const bea = { sub: "bea-1", email: uniqueEmail("bea"), email_verified: true, name: "Bea" };
const port = await freePort();
const oidc = await startOidcProvider({
  redirectUris: [`http://127.0.0.1:${port}/oauth/test/callback`],
  accounts: { ada, bea },
});
after(() => oidc.close());
const rig = await startRig(after, {
  miniflare: { port },
  vars: (site) => ({
    OIDC_PROVIDERS: "test",
    OIDC_TEST_ISSUER: oidc.issuer,
    OIDC_TEST_CLIENT_ID: oidc.clientId,
    OIDC_TEST_CLIENT_SECRET: oidc.clientSecret,
    // The example's return page: its root (examples/web/app.js, RETURN_TO).
    OAUTH_REDIRECT_URLS: `${site}/`,
  }),
});
const shots = artifacts("social");

test("the example app signs in with an OpenID provider through the whole redirect dance", async () => {
  const { app, site } = rig;
  const context = await rig.browser();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const visited = [];
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) visited.push(new URL(frame.url()));
  });
  let n = 0;
  const shot = (name) => page.screenshot({ path: `${shots}/${String(++n).padStart(2, "0")}-${name}.png`, fullPage: true });
  const notice = () => page.textContent("#notice");

  await page.goto(`${site.url}/?api=${encodeURIComponent(app.base)}&providers=test`);
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await shot("signed-out");

  // Off to the provider (through the worker's /oauth/test/start): its login page, then consent.
  await page.click("button.social:has-text('Sign in with test')");
  await page.waitForURL((url) => url.origin === oidc.issuer && url.pathname.startsWith("/interaction/"));
  await page.locator("body[data-prompt=login]").waitFor();
  await shot("provider-login");
  await page.fill("#login-name", "ada");
  await page.click("#sign-in");
  await page.locator("body[data-prompt=consent]").waitFor();
  await shot("provider-consent");
  await page.click("#allow");

  // Back on the example app, through the worker's callback: signed in as the provider's account.
  await page.locator("#status", { hasText: `Signed in as ${ada.email}` }).waitFor({ timeout: 15_000 });
  await page.locator("#identities li[data-provider=test]").waitFor();
  await page.locator("#profile dd", { hasText: "Ada Social" }).waitFor();
  await shot("signed-in");
  assert.equal(await notice(), "Signed in");

  const origins = visited.map((url) => url.origin);
  assert.ok(origins.includes(oidc.issuer), "went through the provider");
  const landing = visited.find((url) => url.origin === site.url && url.searchParams.has("code"));
  assert.ok(landing, "came back to the example app with a one-time code");
  assert.equal(`${landing.origin}${landing.pathname}`, `${site.url}/`);
  assert.ok(!visited.some((url) => url.searchParams.has("token")), "no token in any URL");
  const here = new URL(page.url());
  assert.equal(here.searchParams.get("code"), null, "the spent code is gone from the address bar");
  assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), `edge-auth.pkce:${app.base}`), null, "the verifier is spent");

  // The client's session is the real thing: the worker knows this user, with the provider linked.
  const session = await page.evaluate(async () => ({ user: window.edgeAuth.user, token: await window.edgeAuth.token() }));
  assert.equal(session.user.email, ada.email);
  assert.equal(session.user.email_verified, true);
  const me = await app.me(session.token);
  assert.deepEqual([me.status, me.body.email], [200, ada.email]);

  // A reload stays signed in and replays nothing.
  await page.reload();
  await page.locator("#status", { hasText: `Signed in as ${ada.email}` }).waitFor();
  assert.equal(await page.locator("#notice").isHidden(), true, "no error after a reload");

  // The only way in cannot be unlinked.
  await page.click("#identities li[data-provider=test] button.unlink");
  await page.waitForFunction(() => document.getElementById("notice").classList.contains("error"));
  assert.match(await notice(), /last_sign_in_method/);
  await shot("last-sign-in-method");
  assert.deepEqual(errors, []);
});

test("a refused consent comes back to the example app as an error, signing nobody in", async () => {
  const { app, site } = rig;
  const context = await rig.browser();
  const page = await context.newPage();
  await page.goto(`${site.url}/?api=${encodeURIComponent(app.base)}&providers=test`);
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await page.click("button.social");
  await page.locator("body[data-prompt=login]").waitFor();
  await page.fill("#login-name", "ada");
  await page.click("#sign-in");
  await page.locator("body[data-prompt=consent]").waitFor();
  await page.click("#cancel");
  await page.waitForFunction(() => document.getElementById("notice").textContent.includes("access_denied"), null, { timeout: 15_000 });
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get("error"), null, "the error is gone from the address bar");
  await page.screenshot({ path: `${shots}/10-access-denied.png`, fullPage: true });
});

test("a password account links the provider from the example app and unlinks it; another's identity is refused", async () => {
  const { app, site } = rig;
  const user = await app.verifiedUser("linker");
  const context = await rig.browser();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${site.url}/?api=${encodeURIComponent(app.base)}&providers=test`);
  await page.fill("#login-email", user.email);
  await page.fill("#login-password", user.password);
  await page.click("#login-form button");
  await page.locator("#status", { hasText: `Signed in as ${user.email}` }).waitFor();

  /** Link at the provider as `login`; back on the example app, still signed in as the user. */
  const linkAs = async (login) => {
    await page.fill("#confirm-password", user.password); // linking asks for the password again
    await page.click("#link-buttons button:has-text('Link test')");
    await page.locator("body[data-prompt=login]").waitFor();
    await page.fill("#login-name", login);
    await page.click("#sign-in");
    await page.locator("body[data-prompt=consent]").waitFor();
    await page.click("#allow");
    await page.locator("#status", { hasText: `Signed in as ${user.email}` }).waitFor({ timeout: 15_000 });
  };
  const expectNotice = (text) =>
    page.waitForFunction((t) => document.getElementById("notice").textContent.includes(t), text, { timeout: 15_000 });

  // Ada's provider account signs in Ada's own account (the first test): it is not this one's to take.
  await linkAs("ada");
  await expectNotice("identity_taken");
  assert.equal(await page.locator("#identities li").count(), 0);

  // Signed out at the provider (its cookies; this page's session is in localStorage), in as Bea.
  await context.clearCookies();
  await linkAs("bea");
  await expectNotice("Linked test");
  await page.locator("#identities li[data-provider=test]", { hasText: bea.email }).waitFor();
  await page.screenshot({ path: `${shots}/20-linked.png`, fullPage: true });

  // The password is still a way in: unlinking is allowed (with the password asked again).
  await page.fill("#confirm-password", user.password);
  await page.click("#identities li[data-provider=test] button.unlink");
  await expectNotice("Unlinked");
  await page.waitForFunction(() => document.querySelectorAll("#identities li").length === 0);
  await page.locator("#link-buttons button:has-text('Link test')").waitFor();
  assert.deepEqual(errors, []);
});
