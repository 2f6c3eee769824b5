// Passkeys in Chromium, with its DevTools virtual authenticator (a platform authenticator with
// resident keys and user verification, tests/support/browser.mjs): registering one through the
// web client, signing in with it usernameless and by email, the sign count kept, a deleted passkey
// and another origin refused, a replayed assertion refused, and the example app's "Sign in with a
// passkey" button end to end. The site is http://localhost:<port> (RP_ID "localhost"); screenshots
// in tests/artifacts/passkeys/.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { artifacts, ok, startRig, virtualAuthenticator } from "./support/browser.mjs";
import { awayFromStepEdge, totpCode } from "./support/totp.mjs";

const rig = await startRig(after, {
  siteHost: "localhost",
  vars: (site) => ({ RP_ID: "localhost", RP_ORIGINS: site, RP_NAME: "edge-auth tests" }),
});
const shots = artifacts("passkeys");

/** Runs `client[method](...args)` in the page; resolves to {ok, value} or {ok: false, error} with the error's `reason`. */
function attempt(page, method, ...args) {
  return page.evaluate(
    ([m, a]) =>
      window.client[m](...a).then(
        (value) => ({ ok: true, value }),
        (e) => ({ ok: false, error: { name: e.name, code: e.code, status: e.status, reason: e.reason, message: e.message } }),
      ),
    [method, args],
  );
}

/** A tab on the test page with a virtual authenticator, signed in as a new verified user. */
async function signedInPage(tag) {
  const user = await rig.app.verifiedUser(tag);
  const context = await rig.browser();
  const page = await rig.testPage(context);
  const authenticator = await virtualAuthenticator(page);
  assert.equal((await ok(page, "login", { email: user.email, password: user.password })).status, "signed_in");
  return { user, context, page, authenticator };
}

/** A sign-in's assertion, from the page's authenticator (the client's steps apart): options from the API, then get(). */
function assertion(page, body = {}) {
  return page.evaluate(async (b) => window.edgeAuth.getPasskey(await window.client.passkeyLoginOptions(b)), body);
}

test("a verified user adds a passkey and signs in with it, usernameless and by email; the sign count is kept", async () => {
  const { user, page, authenticator } = await signedInPage("passkey");
  const added = await ok(page, "addPasskey", { password: user.password, name: "Laptop" });
  assert.deepEqual([added.message, added.name], ["Passkey added", "Laptop"]);
  const [held] = await authenticator.credentials();
  assert.equal(held.rpId, "localhost");
  assert.equal(held.isResidentCredential, true, "a discoverable credential (residentKey required)");
  assert.equal(Buffer.from(held.credentialId, "base64").toString("base64url"), added.id);

  // Registered once only: the authenticator is excluded the second time (excludeCredentials).
  const again = await attempt(page, "addPasskey", { password: user.password });
  assert.equal(again.ok, false);
  assert.equal(again.error.name, "InvalidStateError", JSON.stringify(again.error));

  await ok(page, "logout");
  const first = await ok(page, "signInWithPasskey");
  assert.equal(first.status, "signed_in", "no TOTP step");
  assert.equal(first.user.email, user.email);
  assert.equal((await ok(page, "me")).email, user.email);
  const afterFirst = (await ok(page, "passkeys"))[0].sign_count;
  await ok(page, "logout");
  const second = await ok(page, "signInWithPasskey", { email: user.email });
  assert.equal(second.status, "signed_in");

  // The counter: what the worker stored is what the authenticator counted (Chromium's virtual
  // authenticator counts every assertion, from 1 at registration), and it grew with the sign-ins.
  const [listed] = await ok(page, "passkeys");
  const [counted] = await authenticator.credentials();
  assert.equal(listed.sign_count, counted.signCount, "the stored count is the authenticator's");
  assert.ok(listed.sign_count > afterFirst && afterFirst > 0, `sign_count grew: ${afterFirst} then ${listed.sign_count}`);
  assert.equal(listed.algorithm, -7, "ES256");
  assert.ok(listed.last_used_at, "last_used_at set");
  assert.deepEqual([listed.id, listed.name], [added.id, "Laptop"]);

  // Another account's email: the passkey is refused for it, and its count is not
  // stored (the authenticator's runs one ahead until the next accepted sign-in).
  const other = await attempt(page, "signInWithPasskey", { email: "nobody-else@example.com" });
  assert.deepEqual([other.error?.status, other.error?.code], [401, "unauthorized"]);
  assert.equal((await ok(page, "passkeys"))[0].sign_count, listed.sign_count);
  assert.equal((await authenticator.credentials())[0].signCount, listed.sign_count + 1);

  assert.deepEqual(await ok(page, "renamePasskey", added.id, "Work laptop"), { message: "Passkey renamed", name: "Work laptop" });
  assert.equal((await ok(page, "passkeys"))[0].name, "Work laptop");

  // Without the browser's JSON helpers (older browsers): the options and the credential are
  // converted by hand, and the worker takes the result alike.
  await page.evaluate(() => {
    for (const name of ["parseRequestOptionsFromJSON", "parseCreationOptionsFromJSON"]) {
      Object.defineProperty(PublicKeyCredential, name, { value: undefined, configurable: true });
    }
    Object.defineProperty(PublicKeyCredential.prototype, "toJSON", { value: undefined, configurable: true });
  });
  await ok(page, "logout");
  assert.equal((await ok(page, "signInWithPasskey")).status, "signed_in", "hand-made JSON signs in");
  const counts = (await ok(page, "passkeys"))[0].sign_count;
  assert.equal(counts, (await authenticator.credentials())[0].signCount);
});

test("an unverified address cannot add a passkey", async () => {
  const { app } = rig;
  const user = await app.signedInUser("unverified");
  assert.ok(user.token, "signedInUser has a session before verification");
  const answer = await app.request("POST", "/passkeys/register/options", { token: user.token, json: { password: user.password } });
  assert.deepEqual([answer.status, answer.body.error], [403, "email_not_verified"]);
});

test("a deleted passkey is refused at sign-in", async () => {
  const { user, page } = await signedInPage("deleted");
  const { id } = await ok(page, "addPasskey", { password: user.password });
  assert.deepEqual(await ok(page, "deletePasskey", id, { password: user.password }), { message: "Passkey deleted" });
  assert.deepEqual(await ok(page, "passkeys"), []);
  await ok(page, "logout");
  // The authenticator still holds it; the worker no longer knows it.
  const refused = await attempt(page, "signInWithPasskey");
  assert.deepEqual([refused.error?.status, refused.error?.code], [401, "unauthorized"], JSON.stringify(refused));
  assert.equal(await page.evaluate(() => window.client.signedIn), false);
});

test("a replayed assertion is refused: its challenge is spent", async () => {
  const { user, page } = await signedInPage("replay");
  await ok(page, "addPasskey", { password: user.password });
  await ok(page, "logout");
  const credential = await assertion(page);
  assert.equal((await attempt(page, "passkeyLogin", { credential })).value?.status, "signed_in");
  const replayed = await attempt(page, "passkeyLogin", { credential });
  assert.deepEqual(
    [replayed.error?.status, replayed.error?.code, replayed.error?.reason, replayed.error?.name],
    [400, "passkey_refused", "challenge", "PasskeyRefusedError"],
    JSON.stringify(replayed),
  );
});

test("a ceremony from another origin is refused", async (t) => {
  const { app, site } = rig;
  const { user, context, page, authenticator } = await signedInPage("origin");
  await ok(page, "addPasskey", { password: user.password });
  const [held] = await authenticator.credentials();

  /**
   * Runs a sign-in ceremony from a blank page on `origin` (served by the test itself), with the
   * passkey copied into that page's authenticator and options the API gave; resolves to the
   * assertion's JSON, or {refusedByBrowser: name}.
   */
  const ceremonyAt = async (origin) => {
    const other = await context.newPage();
    await other.route(`${origin}/**`, (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><title>other</title>" }));
    await other.goto(`${origin}/`);
    const copy = await virtualAuthenticator(other);
    await copy.add(held);
    const options = (await app.request("POST", "/passkeys/login/options", { json: {} })).body;
    const result = await other.evaluate(async (json) => {
      try {
        const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json) });
        return { credential: credential.toJSON() };
      } catch (e) {
        return { refusedByBrowser: `${e.name}: ${e.message}` };
      }
    }, options);
    await other.close();
    return result;
  };

  // Another port of localhost: the browser lets the ceremony through (the RP id fits the host);
  // the worker refuses the origin, which is not one of RP_ORIGINS.
  const port = Number(new URL(site.url).port);
  const elsewhere = await ceremonyAt(`http://localhost:${port === 65535 ? port - 1 : port + 1}`);
  assert.ok(elsewhere.credential, `the browser ran it: ${elsewhere.refusedByBrowser}`);
  const answer = await app.request("POST", "/passkeys/login", { json: { credential: elsewhere.credential } });
  assert.deepEqual([answer.status, answer.body.error, answer.body.reason], [400, "passkey_refused", "origin_mismatch"], answer.text);
  assert.match(answer.body.message, new RegExp(site.url.replace(/[.:/]/g, "\\$&")), "the message names the expected origins");

  // 127.0.0.1: the browser itself refuses, the RP id "localhost" is not this page's host.
  const ip = await ceremonyAt(`http://127.0.0.1:${port}`);
  t.diagnostic(`from http://127.0.0.1: ${ip.refusedByBrowser ?? "the browser ran it"}`);
  if (ip.credential) {
    const byIp = await app.request("POST", "/passkeys/login", { json: { credential: ip.credential } });
    assert.equal(byIp.status, 400);
    assert.ok(["origin_mismatch", "rp_id_mismatch"].includes(byIp.body.reason), byIp.text);
  } else {
    assert.match(ip.refusedByBrowser, /^SecurityError/, ip.refusedByBrowser);
  }

  // From the allowed page, with clientDataJSON's origin changed before posting.
  const signed = await assertion(page);
  const data = JSON.parse(Buffer.from(signed.response.clientDataJSON, "base64url"));
  data.origin = "https://evil.example";
  const tampered = { ...signed, response: { ...signed.response, clientDataJSON: Buffer.from(JSON.stringify(data)).toString("base64url") } };
  const refused = await attempt(page, "passkeyLogin", { credential: tampered });
  assert.deepEqual([refused.error?.status, refused.error?.code, refused.error?.reason], [400, "passkey_refused", "origin_mismatch"], JSON.stringify(refused));
});

test("the example app adds a passkey, lists, renames it, and signs in with the 'Sign in with a passkey' button", async () => {
  const { app, site } = rig;
  const user = await app.verifiedUser("example");
  const context = await rig.browser();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${site.url}/?api=${encodeURIComponent(app.base)}`);
  await virtualAuthenticator(page);
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  const notice = (text) => page.waitForFunction((t) => document.getElementById("notice").textContent.includes(t), text);

  await page.fill("#login-email", user.email);
  await page.fill("#login-password", user.password);
  await page.click("#login-form button");
  await page.locator("#status", { hasText: `Signed in as ${user.email}` }).waitFor();
  await page.fill("#passkey-password", user.password);
  await page.fill("#passkey-name", "Test laptop");
  await page.click("#passkey-form button");
  await notice("Passkey added: Test laptop");
  await page.locator("#passkeys li").waitFor();
  assert.equal(await page.inputValue("#passkeys li .passkey-name"), "Test laptop");
  await page.fill("#passkeys li .passkey-name", "Renamed laptop");
  await page.click("#passkeys li button.rename");
  await notice("Passkey renamed: Renamed laptop");
  await page.screenshot({ path: `${shots}/01-signed-in-passkeys.png`, fullPage: true });

  await page.click("#logout");
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await page.screenshot({ path: `${shots}/02-signed-out.png`, fullPage: true });
  await page.click("#passkey-sign-in");
  await page.locator("#status", { hasText: `Signed in as ${user.email}` }).waitFor();
  await notice("Signed in with a passkey");
  await page.locator("#passkeys li", { hasText: "last used" }).waitFor();
  await page.screenshot({ path: `${shots}/03-signed-in-with-passkey.png`, fullPage: true });

  await page.fill("#confirm-password", user.password); // deleting asks for the password again
  await page.click("#passkeys li button.delete");
  await notice("Passkey deleted");
  await page.waitForFunction(() => document.querySelectorAll("#passkeys li").length === 0);
  assert.deepEqual(errors, []);
});

test("a cloned authenticator, its counter behind the stored one, is refused: sign_count_regressed", async () => {
  const { user, context, page, authenticator } = await signedInPage("clone");
  await ok(page, "addPasskey", { password: user.password });
  await ok(page, "logout");
  for (let i = 0; i < 2; i++) {
    assert.equal((await ok(page, "signInWithPasskey")).status, "signed_in");
    await ok(page, "logout");
  }
  const [held] = await authenticator.credentials();
  assert.ok(held.signCount >= 3);
  // The same key in another tab's authenticator, whose counter is where it was at registration.
  const clone = await rig.testPage(context);
  await (await virtualAuthenticator(clone)).add({ ...held, signCount: 0 });
  const refused = await attempt(clone, "signInWithPasskey");
  assert.deepEqual([refused.error?.status, refused.error?.reason], [400, "sign_count_regressed"], JSON.stringify(refused));
  const stored = (await rig.app.login(user.email, user.password)).body.token;
  const listed = await rig.app.request("GET", "/passkeys", { token: stored });
  assert.equal(listed.body.passkeys[0].sign_count, held.signCount, "the stored count stays");
});

test("with two-step sign-in on, adding a passkey asks for a code; signing in with it skips the TOTP step", async () => {
  const { user, page } = await signedInPage("totp");
  const enrolment = await ok(page, "enrollTotp", { password: user.password });
  await awayFromStepEdge();
  await ok(page, "confirmTotp", { code: totpCode(enrolment.secret) });
  const without = await attempt(page, "addPasskey", { password: user.password });
  assert.equal(without.ok, false);
  assert.deepEqual([without.error.status, without.error.code], [400, "validation_failed"], JSON.stringify(without.error));
  await ok(page, "addPasskey", { password: user.password, mfa_code: totpCode(enrolment.secret, 1) });
  await ok(page, "logout");
  assert.equal((await ok(page, "login", { email: user.email, password: user.password })).status, "mfa_required");
  const result = await ok(page, "signInWithPasskey");
  assert.equal(result.status, "signed_in", "a passkey with user verification is both factors");
});
