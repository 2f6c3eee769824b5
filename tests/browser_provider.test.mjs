// The provider's hosted pages in Chromium: a relying party's page sends a person with TOTP on
// through the hosted sign-in (password, then the authenticator's code) and consent, and back to
// the relying party with a code its back end (openid-client) exchanges; a second visit skips
// consent. The sign-in and consent pages are checked by axe-core (no violations, in light and
// dark, narrow and wide), keyboard-usable, and within their own CSP; screenshots are kept in
// tests/artifacts/provider/.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as oidc from "openid-client";
import { artifacts, freePort, ok, startRig, throughProvider, virtualAuthenticator } from "./support/browser.mjs";
import { startOidcProvider } from "./support/oidc.mjs";
import { uniqueEmail } from "./support/app.mjs";
import { awayFromStepEdge, totpCode } from "./support/totp.mjs";
import { providerVars, registerClient } from "./support/provider.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
// Social sign-in on the hosted page needs a provider of its own (a real OpenID provider), whose
// client's callback is the worker's, on a port chosen before the worker starts.
const port = await freePort();
const ada = { sub: "ada-hosted", email: uniqueEmail("ada"), email_verified: true, name: "Ada Hosted" };
const social = await startOidcProvider({ redirectUris: [`http://127.0.0.1:${port}/oauth/test/callback`], accounts: { ada } });
after(() => social.close());
// Passkeys need a host name for their RP id (WebAuthn refuses an IP address): the site and, for
// the passkey test, the provider's pages are reached as http://localhost:<port>.
const rig = await startRig(after, {
  miniflare: { port },
  siteHost: "localhost",
  vars: (site) => ({
    ...providerVars(),
    OIDC_PROVIDERS: "test",
    OIDC_TEST_ISSUER: social.issuer,
    OIDC_TEST_CLIENT_ID: social.clientId,
    OIDC_TEST_CLIENT_SECRET: social.clientSecret,
    // The app's own pages; the hosted sign-in page needs no entry here.
    OAUTH_REDIRECT_URLS: "https://app.example/done",
    RP_ID: "localhost",
    RP_ORIGINS: `${site},http://localhost:${port}`,
  }),
});
const { app, site } = rig;
const shots = artifacts("provider");
// Without a query: openid-client takes the callback URL without its query as the redirect_uri.
const CALLBACK = `${site.url}/test/`;
const rp = await registerClient(app, { name: "Notes Demo", redirect_uris: [CALLBACK] });
const config = await oidc.discovery(new URL(app.base), rp.client_id, {}, oidc.ClientSecretBasic(rp.client_secret), { execute: [oidc.allowInsecureRequests] });

/** A fresh authorization request of the relying party: its URL and the checks of its answer. */
async function relyingParty() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: "openid email profile",
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
}

/** axe-core's violations on the page (evaluated through DevTools, which the page's CSP allows). */
async function violations(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Checks the page under axe at two widths and both color schemes, with a screenshot of each. */
async function accessible(page, name) {
  for (const [width, scheme] of [[1280, "light"], [360, "dark"]]) {
    await page.setViewportSize({ width, height: 900 });
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await violations(page), [], `${name} at ${width}px, ${scheme}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, `${name} fits ${width}px without scrolling sideways`);
    await page.screenshot({ path: `${shots}/${name}-${width}-${scheme}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 900, height: 1100 });
  await page.emulateMedia({ colorScheme: "light" });
}

test("a relying party signs a person in through the hosted sign-in (with TOTP) and consent; a second visit skips consent", async () => {
  const user = await app.userWithFactor("hosted", totpCode, awayFromStepEdge);
  const context = await rig.browser();
  const page = await context.newPage();
  const cspViolations = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  // The provider's pages only (the relying party's stand-in page is not under test).
  page.on("pageerror", (error) => page.url().startsWith(app.base) && cspViolations.push(`page error: ${error.message}`));

  const first = await relyingParty();
  await page.goto(first.url.href);
  await page.waitForURL(/\/oauth2\/sign-in\?/);
  assert.match(await page.textContent("h1"), /Sign in to continue to Notes Demo/);
  await accessible(page, "sign-in");

  // By keyboard: the email field, the password, Enter.
  await page.focus("#email");
  await page.keyboard.type(user.email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(user.password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#mfa-form:not([hidden])");
  await accessible(page, "second-factor");
  await awayFromStepEdge();
  // The next step's code: the enrolment spent this step's, and a code works once.
  await page.fill("#mfa-code", totpCode(user.secret, 1));
  await page.keyboard.press("Enter");

  await page.waitForURL(/\/oauth2\/authorize\?/);
  assert.match(await page.textContent("h1"), /Notes Demo wants to access your account/);
  assert.match(await page.textContent("main"), new RegExp(user.email.replace(/[.+]/g, "\\$&")));
  assert.match(await page.textContent("main"), /See your email address/);
  await accessible(page, "consent");
  await page.click("button[value=allow]");

  await page.waitForURL((url) => url.href.startsWith(CALLBACK));
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), first.checks).catch((e) => { throw new Error(`${page.url()}: ${JSON.stringify(e.cause ?? e)}`); });
  const claims = tokens.claims();
  assert.equal(claims.email, user.email);
  assert.deepEqual(claims.amr, ["pwd", "otp", "mfa"], "the sign-in's two factors");

  // The provider's cookie: HttpOnly (no script reads it), kept apart from the API's tokens.
  const cookie = (await context.cookies(app.base)).find((c) => c.name === "__Host-provider");
  assert.ok(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === "Lax" && cookie.path === "/");
  assert.equal(await page.evaluate(() => document.cookie.includes("__Host-provider")), false);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.doesNotMatch(stored, /eyJ/, "no token in the browser's storage");

  // Second visit: signed in and consented, straight back with a code.
  const second = await relyingParty();
  const seen = [];
  page.on("framenavigated", (frame) => frame === page.mainFrame() && seen.push(new URL(frame.url()).pathname));
  await page.goto(second.url.href);
  await page.waitForURL((url) => url.href.startsWith(CALLBACK));
  assert.ok(!seen.includes("/oauth2/sign-in"), `no sign-in page: ${seen}`);
  const again = await oidc.authorizationCodeGrant(config, new URL(page.url()), second.checks);
  assert.equal(again.claims().sub, claims.sub);
  assert.deepEqual(cspViolations, [], "the pages keep to their CSP");
});

/** A fresh browser sent by the relying party to the sign-in page, the password form sent: its page. */
async function passwordOnPage(email, password) {
  const context = await rig.browser();
  const page = await context.newPage();
  const { url } = await relyingParty();
  await page.goto(url.href);
  await page.waitForURL(/\/oauth2\/sign-in\?/);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("#password-form button[type=submit]");
  return page;
}

test("a person who denies consent goes back to the relying party with access_denied", async () => {
  const user = await app.signedInUser("denier");
  const page = await passwordOnPage(user.email, user.password);
  await page.waitForURL(/\/oauth2\/authorize\?/);
  await page.click("button[value=deny]");
  await page.waitForURL((u) => u.href.startsWith(CALLBACK));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("error"), "access_denied");
  assert.equal(back.searchParams.get("iss"), app.base);
});

test("a wrong password is said on the page, in words, with focus on the message", async () => {
  const user = await app.signedInUser("typo");
  const page = await passwordOnPage(user.email, "not the password at all");
  await page.waitForSelector("#status.error");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "status");
  assert.match(await page.textContent("#status"), /password/i);
  assert.deepEqual(await violations(page), []);
  await page.screenshot({ path: `${shots}/sign-in-error.png`, fullPage: true });
});

test("social sign-in on the hosted page comes back to the same authorization request", async () => {
  const context = await rig.browser();
  const page = await context.newPage();
  const { url, checks } = await relyingParty();
  await page.goto(url.href);
  await page.waitForURL(/\/oauth2\/sign-in\?/);
  await page.click("#providers a");
  await throughProvider(page, social.issuer, { login: "ada" });
  await page.waitForURL(/\/oauth2\/authorize\?/);
  assert.match(await page.textContent("main"), new RegExp(ada.email.replace(/[.+]/g, "\\$&")));
  await page.click("button[value=allow]");
  await page.waitForURL((u) => u.href.startsWith(CALLBACK));
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), checks);
  assert.equal(tokens.claims().email, ada.email);
});

test("a passkey signs in on the hosted page (the provider reached by a host name, as WebAuthn needs)", async () => {
  // The passkey is made on the app's page, with the web client, then held by the browser.
  const user = await app.verifiedUser("hosted-passkey");
  const context = await rig.browser();
  const appPage = await rig.testPage(context);
  const onApp = await virtualAuthenticator(appPage);
  assert.equal((await ok(appPage, "login", { email: user.email, password: user.password })).status, "signed_in");
  await ok(appPage, "addPasskey", { password: user.password });
  const [held] = await onApp.credentials();

  const issuer = `http://localhost:${port}`;
  const local = await oidc.discovery(new URL(issuer), rp.client_id, {}, oidc.ClientSecretBasic(rp.client_secret), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(local, {
    redirect_uri: CALLBACK,
    scope: "openid email",
    state: "passkey",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  const page = await context.newPage();
  await (await virtualAuthenticator(page)).add(held);
  await page.goto(url.href);
  await page.waitForURL(/\/oauth2\/sign-in\?/);
  await page.click("#passkey-button");
  await page.waitForURL(/\/oauth2\/authorize\?/);
  await page.click("button[value=allow]");
  await page.waitForURL((u) => u.href.startsWith(CALLBACK));
  const tokens = await oidc.authorizationCodeGrant(local, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: "passkey" });
  assert.equal(tokens.claims().email, user.email);
  assert.equal(tokens.claims().iss, issuer);
});
