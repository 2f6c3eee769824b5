// Ways into an account: every one is bound to a proven address, a live session and the
// app that started it; adding or removing one asks who you are; tokens say when and how the user
// signed in; ceremonies and sign-up mail are bounded; the operator's trail shows the user no
// operator data; provider names obey the name rules; the CBOR reader caps arrays. Each scenario is
// run as a client (or an attacker) would run it, against a real OpenID provider, the software
// authenticator and the admin API.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { appsClosedAfter, uniqueEmail } from "./support/app.mjs";
import { SoftAuthenticator } from "./support/authenticator.mjs";
import { totpCode, awayFromStepEdge } from "./support/totp.mjs";
import {
  APP_RETURN,
  NONE_LEFT,
  ORIGIN,
  OTHER_PROVIDER,
  PROVIDER,
  RP,
  addPasskey,
  admin,
  cbor,
  eventually,
  idOf,
  mailMatching,
  passkeySignIn,
  passkeySignUp,
  payloadOf,
  pkce,
  plantWaysIn,
  randomIp,
  sleep,
  socialApp,
  waysIn,
} from "./support/ways_in.mjs";

const spawn = appsClosedAfter(after);
const stopping = [];
after(() => Promise.all(stopping.map((s) => s.close())));

/** The shared worker (default settings, mail, passkeys, admin key, providers acme and beta). */
let social;
let target;
before(async () => {
  social = await socialApp(spawn, { slots: 120, stopping });
  target = social.target;
});

/** A verified account signed in with a password, with TOTP on (its secret and recovery codes). */
const userWithFactor = (tag) => target.userWithFactor(tag, totpCode, awayFromStepEdge);

function assertError(response, status, error) {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body?.error, error, response.text);
}

function assertMissing(response, field) {
  assertError(response, 400, "validation_failed");
  assert.equal(response.body.fields?.[field], "missing", response.text);
}

// ---- 1 ------------------------------------------------------------------------------------------

describe("1. linking a provider needs a verified address", () => {
  // Rule: POST /oauth/{provider}/link is 403 email_not_verified for an unverified address, so a squatter's identity never survives the owner's reset.
  test("the pre-account takeover: a squatter of the owner's address cannot link their provider identity, and the owner's reset finds none", async () => {
    const victimEmail = uniqueEmail("victim");
    const squatterPassword = "the squatter's own passphrase";
    assert.equal((await target.register({ email: victimEmail, password: squatterPassword })).status, 201);
    const squatter = await target.login(victimEmail, squatterPassword);
    assert.equal(squatter.status, 200, squatter.text);
    const attackerLogin = social.account({ email: uniqueEmail("attacker"), email_verified: true, name: "Attacker" });

    const link = await social.startLink(squatter.body.token, { password: squatterPassword });
    assertError(link, 403, "email_not_verified");

    // The owner of the mailbox takes the account back with a mailed code.
    assert.equal((await target.resetPassword(victimEmail)).status, 200);
    const otp = await target.mailbox.codeFor(victimEmail);
    const reset = await target.updatePassword({ email: victimEmail, otp, new_password: "the real owner's passphrase" });
    assert.equal(reset.status, 200, reset.text);
    const owner = await target.login(victimEmail, "the real owner's passphrase");
    assert.equal(owner.status, 200, owner.text);
    assert.deepEqual(await social.providers(owner.body.token), [], "no provider identity on the owner's account");
    // The attacker's provider identity does not open the owner's account.
    const ownerId = await idOf(target, owner.body.token);
    const { landed, verifier } = await social.signIn(attackerLogin);
    const code = landed.searchParams.get("code");
    if (code) {
      const answer = await social.exchange(code, verifier);
      if (answer.status === 200) {
        assert.notEqual(answer.body.email, victimEmail);
        assert.notEqual(await idOf(target, answer.body.token), ownerId, "another account, never the owner's");
      }
    }
  });
});

// ---- 2 ------------------------------------------------------------------------------------------

describe("2. the first proof of the address removes every way in added before it", () => {
  // Rule: the first POST /verify-email of a never-verified account removes identities, passkeys, TOTP, recovery codes and pending ceremonies, and mails the owner what went; a reset of a verified account removes nothing.
  test("the first verification removes every planted way in and ceremony and tells the owner; a later reset of the verified account removes nothing", async () => {
    const user = await target.signedInUser("squatted");
    const id = await idOf(target, user.token);
    await plantWaysIn(target, id);
    assert.deepEqual(await waysIn(target, id), { ...NONE_LEFT, identities: 1, passkeys: 1, totp_factors: 1, recovery_codes: 1, passkey_challenges: 1, oauth_states: 1 });

    const code = await target.mailbox.codeFor(user.email, { kind: "verification" });
    const verified = await target.verifyEmail(user.email, code);
    assert.equal(verified.status, 200, verified.text);
    assert.deepEqual(await waysIn(target, id), NONE_LEFT, "everything added before the address was proven is gone");
    const told = await mailMatching(target.mailbox, user.email, [new RegExp(PROVIDER, "i"), /passkey/i]);
    assert.ok(told, "the owner is told what was removed (the provider by name, and the passkey)");

    // Now verified: a reset by code removes nothing added since.
    await plantWaysIn(target, id, { totp: false });
    assert.equal((await target.resetPassword(user.email)).status, 200);
    const otp = await target.mailbox.codeFor(user.email);
    const reset = await target.updatePassword({ email: user.email, otp, new_password: "a verified owner's phrase" });
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(await waysIn(target, id), { ...NONE_LEFT, identities: 1, passkeys: 1, passkey_challenges: 1, oauth_states: 1 });
  });

  // Rule: the first reset by code of a never-verified account removes the same, the squatter's TOTP included (no mfa_code is asked of the owner), and tells the owner.
  test("the first reset by code of a never-verified account removes them too, the squatter's TOTP included, and tells the owner", async () => {
    const user = await target.signedInUser("squatreset");
    const id = await idOf(target, user.token);
    await plantWaysIn(target, id);
    assert.equal((await target.resetPassword(user.email)).status, 200);
    const otp = await target.mailbox.codeFor(user.email);
    const reset = await target.updatePassword({ email: user.email, otp, new_password: "the mailbox owner's phrase" });
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(await waysIn(target, id), NONE_LEFT);
    const told = await mailMatching(target.mailbox, user.email, [new RegExp(PROVIDER, "i"), /passkey/i]);
    assert.ok(told, "the owner is told what was removed");
    const login = await target.login(user.email, "the mailbox owner's phrase");
    assert.equal(login.status, 200, login.text);
    assert.ok(login.body.token, "no second-factor step of the squatter's");
  });

  // Rule: a first sign-in by emailed code proves the address too, and removes the same.
  test("the first sign-in by emailed code of a never-verified account removes them too, and tells the owner", async () => {
    const user = await target.signedInUser("squatcode");
    const id = await idOf(target, user.token);
    await plantWaysIn(target, id);
    assert.equal((await target.request("POST", "/email-sign-in", { json: { email: user.email } })).status, 200);
    const code = await target.mailbox.codeFor(user.email, { kind: "sign-in" });
    const signedIn = await target.request("POST", "/email-sign-in/code", { json: { email: user.email, code } });
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.ok(signedIn.body.token, "no second-factor step of the squatter's");
    assert.deepEqual(await waysIn(target, id), NONE_LEFT);
    const told = await mailMatching(target.mailbox, user.email, [new RegExp(PROVIDER, "i"), /passkey/i]);
    assert.ok(told, "the owner is told what was removed");
  });
});

// ---- 3 ------------------------------------------------------------------------------------------

describe("3. a link completes only with the app's verifier, from the session that started it", () => {
  // Rule: the callback links nothing; it hands the app a link_code that POST /identities {code, code_verifier} completes.
  test("the callback hands the app a link_code and links nothing; POST /identities with the verifier links", async () => {
    const user = await target.verifiedUser("linker");
    const login = social.account({ email: uniqueEmail("linked"), email_verified: true, name: "Linked" });
    const { landed, verifier, ip } = await social.linkUpToApp(user.token, login, { password: user.password });
    assert.equal(`${landed.origin}${landed.pathname}`, APP_RETURN);
    const code = landed.searchParams.get("link_code");
    assert.ok(code, `a link_code: ${landed}`);
    assert.equal(landed.searchParams.get("provider"), PROVIDER);
    assert.equal(landed.searchParams.get("linked"), null);
    assert.deepEqual(await social.providers(user.token), [], "nothing linked by the callback");
    const done = await social.completeLink(user.token, code, verifier, { ip });
    assert.equal(done.status, 200, done.text);
    assert.deepEqual(done.body, { message: "Linked", provider: PROVIDER });
    assert.deepEqual(await social.providers(user.token), [PROVIDER]);
  });

  // Rule: a link_code is refused (401) with a wrong verifier, a second time, with another user's bearer, and at POST /oauth/token.
  test("refused with 401: a wrong verifier, the same code twice, another user's bearer, the link_code as a sign-in code", async () => {
    const user = await target.verifiedUser("refusals");
    const other = await target.verifiedUser("otheruser");
    const login = () => social.account({ email: uniqueEmail("refusal"), email_verified: true });

    const wrong = await social.linkUpToApp(user.token, login(), { password: user.password });
    assert.ok(wrong.landed.searchParams.get("link_code"), `${wrong.landed}`);
    assertError(await social.completeLink(user.token, wrong.landed.searchParams.get("link_code"), pkce().verifier, { ip: wrong.ip }), 401, "unauthorized");

    const foreign = await social.linkUpToApp(user.token, login(), { password: user.password });
    assert.ok(foreign.landed.searchParams.get("link_code"), `${foreign.landed}`);
    assertError(await social.completeLink(other.token, foreign.landed.searchParams.get("link_code"), foreign.verifier, { ip: foreign.ip }), 401, "unauthorized");

    const asSignIn = await social.linkUpToApp(user.token, login(), { password: user.password });
    const linkCode = asSignIn.landed.searchParams.get("link_code");
    assert.ok(linkCode, `${asSignIn.landed}`);
    assertError(await social.exchange(linkCode, asSignIn.verifier), 401, "unauthorized");

    const twice = await social.linkUpToApp(user.token, login(), { password: user.password });
    const code = twice.landed.searchParams.get("link_code");
    assert.ok(code, `${twice.landed}`);
    assert.equal((await social.completeLink(user.token, code, twice.verifier, { ip: twice.ip })).status, 200);
    assertError(await social.completeLink(user.token, code, twice.verifier, { ip: twice.ip }), 401, "unauthorized");
    assert.deepEqual(await social.providers(other.token), [], "nothing reached the other user");
  });

  // Rule: at POST /identities, an identity that is another account's is 409 identity_taken; a second identity of one provider is 409 already_linked.
  test("an identity that is another account's: 409 identity_taken; a second identity of a provider already linked: 409 already_linked", async () => {
    const takenLogin = social.account({ email: uniqueEmail("holder"), email_verified: true, name: "Holder" });
    await social.signedIn(takenLogin); // the identity now signs in (and belongs to) its own account
    const user = await target.verifiedUser("taker");
    const taken = await social.linkUpToApp(user.token, takenLogin, { password: user.password });
    const takenCode = taken.landed.searchParams.get("link_code");
    assert.ok(takenCode, `${taken.landed}`);
    assertError(await social.completeLink(user.token, takenCode, taken.verifier, { ip: taken.ip }), 409, "identity_taken");
    assert.deepEqual(await social.providers(user.token), []);

    await social.linked(user.token, social.account({ email: uniqueEmail("first"), email_verified: true }), { password: user.password });
    const second = await social.linkUpToApp(user.token, social.account({ email: uniqueEmail("second"), email_verified: true }), { password: user.password });
    const secondCode = second.landed.searchParams.get("link_code");
    assert.ok(secondCode, `${second.landed}`);
    assertError(await social.completeLink(user.token, secondCode, second.verifier, { ip: second.ip }), 409, "already_linked");
    assert.deepEqual(await social.providers(user.token), [PROVIDER], "still the first one only");
  });

  // Rule: link CSRF (RFC 9700 §4.7): a victim who follows an attacker's link URL links nothing to the attacker's account.
  test("link CSRF: the victim's browser follows the attacker's link URL and signs in at the provider; nothing is ever linked to the attacker", async () => {
    const attacker = await target.verifiedUser("csrfattacker");
    const { verifier: attackerVerifier, challenge } = pkce();
    const started = await social.startLink(attacker.token, { challenge, password: attacker.password });
    assert.equal(started.status, 200, started.text);
    // The attacker mails started.body.url to the victim; the victim's browser follows it.
    const victim = await target.verifiedUser("csrfvictim");
    const victimLogin = social.account({ email: uniqueEmail("victimidp"), email_verified: true, name: "Victim" });
    const landed = await social.callback(await social.oidc.authorize(started.body.url, { login: victimLogin }));
    assert.equal(`${landed.origin}${landed.pathname}`, APP_RETURN, "back to the app's page");
    assert.equal(landed.searchParams.get("linked"), null);
    assert.deepEqual(await social.providers(attacker.token), [], "right after the callback, nothing is linked to the attacker");
    // The victim's app holds the link_code but not the attacker's verifier.
    const linkCode = landed.searchParams.get("link_code");
    assert.ok(linkCode, `${landed}`);
    assertError(await social.completeLink(victim.token, linkCode, pkce().verifier), 401, "unauthorized");
    assertError(await social.completeLink(victim.token, linkCode, attackerVerifier), 401, "unauthorized");
    assert.deepEqual(await social.providers(attacker.token), [], "nothing ever linked to the attacker");
    assert.deepEqual(await social.providers(victim.token), []);
  });
});

// ---- 4 ------------------------------------------------------------------------------------------

describe("4. adding or removing a way in asks who you are", () => {
  // Rule: link, unlink and passkey removal need the password: missing is 400 validation_failed naming password, wrong is 403 invalid_password.
  test("linking, unlinking and removing a passkey need the password: missing 400, wrong 403 invalid_password", async () => {
    const user = await target.verifiedUser("askpw");
    assertMissing(await social.startLink(user.token, {}), "password");
    assertError(await social.startLink(user.token, { password: "not the password" }), 403, "invalid_password");
    await social.linked(user.token, social.account({ email: uniqueEmail("askpwidp"), email_verified: true }), { password: user.password });

    const unlink = (json) => target.request("DELETE", `/identities/${PROVIDER}`, { token: user.token, json });
    assertMissing(await unlink({}), "password");
    assertError(await unlink({ password: "not the password" }), 403, "invalid_password");
    assert.deepEqual(await social.providers(user.token), [PROVIDER], "still linked");
    const unlinked = await unlink({ password: user.password });
    assert.equal(unlinked.status, 200, unlinked.text);
    assert.deepEqual(await social.providers(user.token), []);

    const { id } = await addPasskey(target, user.token, { password: user.password });
    const remove = (json) => target.request("DELETE", `/passkeys/${id}`, { token: user.token, json });
    assertMissing(await remove({}), "password");
    assertError(await remove({ password: "not the password" }), 403, "invalid_password");
    assert.equal((await target.request("GET", "/passkeys", { token: user.token })).body.passkeys.length, 1, "still there");
    const removed = await remove({ password: user.password });
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual((await target.request("GET", "/passkeys", { token: user.token })).body.passkeys, []);
  });

  // Rule: with TOTP on, the same three also need mfa_code: missing is 400 naming mfa_code, wrong is 400 invalid_mfa_code.
  test("with TOTP on, each also needs a current code: missing 400 naming mfa_code, wrong 400 invalid_mfa_code", async () => {
    const user = await userWithFactor("askmfa");
    const [first, second, third, fourth] = user.recovery;
    assertMissing(await social.startLink(user.token, { password: user.password }), "mfa_code");
    assertError(await social.startLink(user.token, { password: user.password, mfa_code: "zzzzz-zzzzz" }), 400, "invalid_mfa_code");
    await social.linked(user.token, social.account({ email: uniqueEmail("askmfaidp"), email_verified: true }), { password: user.password, mfa_code: first });

    const unlink = (json) => target.request("DELETE", `/identities/${PROVIDER}`, { token: user.token, json });
    assertMissing(await unlink({ password: user.password }), "mfa_code");
    assertError(await unlink({ password: user.password, mfa_code: "zzzzz-zzzzz" }), 400, "invalid_mfa_code");
    assert.equal((await unlink({ password: user.password, mfa_code: second })).status, 200);

    const { id } = await addPasskey(target, user.token, { password: user.password, mfa_code: third });
    const remove = (json) => target.request("DELETE", `/passkeys/${id}`, { token: user.token, json });
    assertMissing(await remove({ password: user.password }), "mfa_code");
    assertError(await remove({ password: user.password, mfa_code: "zzzzz-zzzzz" }), 400, "invalid_mfa_code");
    assert.equal((await remove({ password: user.password, mfa_code: fourth })).status, 200);
  });

  // Rule: an account without a password (provider sign-in, passkey sign-up) needs no password within REAUTH_MAX_AGE_SECONDS of its sign-in.
  test("an account without a password, within REAUTH_MAX_AGE_SECONDS of its sign-in, links, unlinks and removes a passkey without one", async () => {
    const viaProvider = await social.signedIn(social.account({ email: uniqueEmail("fresh"), email_verified: true, name: "Fresh" }));
    await social.linked(viaProvider.token, social.account({ email: uniqueEmail("freshbeta"), email_verified: true }), { provider: OTHER_PROVIDER });
    assert.deepEqual((await social.providers(viaProvider.token)).sort(), [PROVIDER, OTHER_PROVIDER].sort());
    const unlinked = await target.request("DELETE", `/identities/${OTHER_PROVIDER}`, { token: viaProvider.token, json: {} });
    assert.equal(unlinked.status, 200, unlinked.text);

    const viaPasskey = await passkeySignUp(target, uniqueEmail("freshpk"));
    const second = await addPasskey(target, viaPasskey.token, {});
    const [first] = (await target.request("GET", "/passkeys", { token: viaPasskey.token })).body.passkeys.filter((p) => p.id !== second.id);
    const removed = await target.request("DELETE", `/passkeys/${first.id}`, { token: viaPasskey.token, json: {} });
    assert.equal(removed.status, 200, removed.text);
  });

  // Rule: past REAUTH_MAX_AGE_SECONDS of the session's sign-in, such an account gets 403 reauthentication_required.
  test("past REAUTH_MAX_AGE_SECONDS of its sign-in, an account without a password gets 403 reauthentication_required", async () => {
    const fast = await socialApp(spawn, { vars: { REAUTH_MAX_AGE_SECONDS: "1" }, stopping });
    const viaProvider = await fast.signedIn(fast.account({ email: uniqueEmail("stale"), email_verified: true, name: "Stale" }));
    const viaPasskey = await passkeySignUp(fast.target, uniqueEmail("stalepk"));
    const [passkey] = (await fast.target.request("GET", "/passkeys", { token: viaPasskey.token })).body.passkeys;
    await sleep(2_500); // clearly past the 1-second window
    assertError(await fast.startLink(viaProvider.token, { provider: OTHER_PROVIDER }), 403, "reauthentication_required");
    // A second way in for each (planted), so that what is refused is the missing proof, not the last way in.
    await plantWaysIn(fast.target, await idOf(fast.target, viaProvider.token), { provider: OTHER_PROVIDER, totp: false });
    await plantWaysIn(fast.target, await idOf(fast.target, viaPasskey.token), { totp: false });
    assertError(await fast.target.request("DELETE", `/identities/${PROVIDER}`, { token: viaProvider.token, json: {} }), 403, "reauthentication_required");
    assertError(await fast.target.request("DELETE", `/passkeys/${passkey.id}`, { token: viaPasskey.token, json: {} }), 403, "reauthentication_required");
    assert.ok((await fast.providers(viaProvider.token)).includes(PROVIDER), "still linked");
    assert.ok((await fast.target.request("GET", "/passkeys", { token: viaPasskey.token })).body.passkeys.some((p) => p.id === passkey.id), "still there");
  });
});

// ---- 5 ------------------------------------------------------------------------------------------

describe("5. access tokens carry auth_time and amr, signed, kept by a refresh", () => {
  const options = { issuer: "edge-auth", audience: "edge-auth", typ: "at+jwt", algorithms: ["EdDSA"] };
  const verified = async (token) => {
    const jwks = createRemoteJWKSet(new URL(`${target.base}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token, jwks, options);
    assert.deepEqual(payload, payloadOf(token), "the decoded payload is the signed one");
    return payload;
  };
  /** The sign-in time of the caller's session, as GET /sessions shows it (Unix seconds). */
  const signedInAt = async (token) => {
    const sessions = await target.sessions(token);
    assert.equal(sessions.status, 200, sessions.text);
    return Math.floor(Date.parse(sessions.body.sessions.find((s) => s.current).created_at) / 1000);
  };
  /** Refreshes, then checks the new token keeps auth_time and amr. */
  const keptByRefresh = async (refresh, before) => {
    const refreshed = await target.refresh(refresh);
    assert.equal(refreshed.status, 200, refreshed.text);
    const after = await verified(refreshed.body.token);
    assert.notEqual(after.jti, before.jti);
    assert.deepEqual([after.auth_time, after.amr], [before.auth_time, before.amr], "a refresh changes neither");
  };

  // Rule: a password login's token has auth_time (its session's sign-in) and amr ["pwd"].
  test("password login: amr [pwd] and auth_time of the sign-in, both signed and kept by a refresh", async () => {
    const user = await target.signedInUser("amrpwd");
    const payload = await verified(user.token);
    assert.deepEqual(payload.amr, ["pwd"]);
    assert.equal(payload.auth_time, await signedInAt(user.token));
    await keptByRefresh(user.refresh, payload);
  });

  // Rule: a password then a TOTP code gives amr ["pwd","otp","mfa"].
  test("password and a TOTP code: amr [pwd, otp, mfa]", async () => {
    const user = await userWithFactor("amrotp");
    await awayFromStepEdge();
    const first = await target.login(user.email, user.password);
    assert.equal(first.body.mfa_required, true, first.text);
    // The next step's code: confirming the factor spent the current one.
    const second = await target.request("POST", "/login/mfa", { json: { mfa_token: first.body.mfa_token, code: totpCode(user.secret, 1) } });
    assert.equal(second.status, 200, second.text);
    const payload = await verified(second.body.token);
    assert.deepEqual(payload.amr, ["pwd", "otp", "mfa"]);
    assert.equal(payload.auth_time, await signedInAt(second.body.token));
    await keptByRefresh(second.body.refresh, payload);
  });

  // Rule: a provider sign-in gives amr ["fed"].
  test("provider sign-in: amr [fed]", async () => {
    const answer = await social.signedIn(social.account({ email: uniqueEmail("amrfed"), email_verified: true }));
    const payload = await verified(answer.token);
    assert.deepEqual(payload.amr, ["fed"]);
    assert.equal(payload.auth_time, await signedInAt(answer.token));
    await keptByRefresh(answer.refresh, payload);
  });

  // Rule: a passkey sign-in gives an amr with "mfa" and "hwk" or "swk".
  test("passkey sign-in: amr has mfa and hwk or swk", async () => {
    const user = await target.verifiedUser("amrpk");
    const { authenticator } = await addPasskey(target, user.token, { password: user.password });
    const answer = await passkeySignIn(target, authenticator);
    assert.equal(answer.status, 200, answer.text);
    const payload = await verified(answer.body.token);
    assert.ok(Array.isArray(payload.amr), `an amr array: ${JSON.stringify(payload)}`);
    assert.ok(payload.amr.includes("mfa"), JSON.stringify(payload.amr));
    assert.ok(payload.amr.includes("hwk") || payload.amr.includes("swk"), JSON.stringify(payload.amr));
    assert.equal(payload.auth_time, await signedInAt(answer.body.token));
    await keptByRefresh(answer.body.refresh, payload);
  });
});

// ---- 6 ------------------------------------------------------------------------------------------

describe("6. a dead session adds nothing", () => {
  /** Options of a passkey registration, and the authenticator's valid answer to them. */
  async function pendingPasskey(user) {
    const options = await target.request("POST", "/passkeys/register/options", { token: user.token, json: { password: user.password } });
    assert.equal(options.status, 200, options.text);
    return new SoftAuthenticator().create(options.body, { origin: ORIGIN });
  }

  // Rule: POST /passkeys/register of a session that logged out after its options is 401, and no passkey is added.
  test("a registration whose session logged out after its options: 401, no passkey", async () => {
    const user = await target.verifiedUser("deadpk");
    const credential = await pendingPasskey(user);
    assert.equal((await target.logout(user.token)).status, 200);
    assertError(await target.request("POST", "/passkeys/register", { token: user.token, json: { credential, name: "Late" } }), 401, "unauthorized");
    const again = await target.login(user.email, user.password);
    assert.deepEqual((await target.request("GET", "/passkeys", { token: again.body.token })).body.passkeys, []);
  });

  // Rule: POST /passkeys/register of an account disabled after its options is 401, and no passkey is added.
  test("a registration whose account was disabled after its options: 401, no passkey", async () => {
    const user = await target.verifiedUser("disabledpk");
    const id = await idOf(target, user.token);
    const credential = await pendingPasskey(user);
    assert.equal((await admin(target, "POST", `/admin/users/${id}/disable`, { json: { reason: "review" } })).status, 200);
    assertError(await target.request("POST", "/passkeys/register", { token: user.token, json: { credential, name: "Late" } }), 401, "unauthorized");
    assert.equal((await admin(target, "POST", `/admin/users/${id}/enable`)).status, 200);
    const again = await target.login(user.email, user.password);
    assert.deepEqual((await target.request("GET", "/passkeys", { token: again.body.token })).body.passkeys, []);
  });

  // Rule: a link whose starting session logged out cannot complete (401 at POST /identities), not even from a new session of the same user.
  test("a link whose starting session logged out: 401 at POST /identities, from the old token or a new session", async () => {
    const user = await target.verifiedUser("deadlink");
    const login = social.account({ email: uniqueEmail("deadlinkidp"), email_verified: true });
    const { landed, verifier, ip } = await social.linkUpToApp(user.token, login, { password: user.password });
    const code = landed.searchParams.get("link_code");
    assert.ok(code, `${landed}`);
    assert.equal((await target.logout(user.token)).status, 200);
    assertError(await social.completeLink(user.token, code, verifier, { ip }), 401, "unauthorized");
    const again = await target.login(user.email, user.password);
    assertError(await social.completeLink(again.body.token, code, verifier, { ip }), 401, "unauthorized");
    assert.deepEqual(await social.providers(again.body.token), []);
  });
});

// ---- 7 ------------------------------------------------------------------------------------------

describe("7. a provider sign-in that completes while the account is disabled links nothing", () => {
  // Rule: a provider sign-in matching a disabled account's verified address links nothing (403 account_disabled at the exchange if reached).
  test("a verified account, disabled; its owner signs in with a provider vouching for the address: nothing linked", async () => {
    const user = await target.verifiedUser("disabledsso");
    const id = await idOf(target, user.token);
    const login = social.account({ email: user.email, email_verified: true, name: "Disabled" });
    assert.equal((await admin(target, "POST", `/admin/users/${id}/disable`, { json: { reason: "hold" } })).status, 200);
    const { landed, verifier } = await social.signIn(login);
    const code = landed.searchParams.get("code");
    if (code) assertError(await social.exchange(code, verifier), 403, "account_disabled");
    else assert.ok(landed.searchParams.get("error"), `${landed}`);
    assert.equal((await admin(target, "POST", `/admin/users/${id}/enable`)).status, 200);
    const again = await target.login(user.email, user.password);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(await social.providers(again.body.token), [], "nothing was linked while disabled");
  });
});

// ---- 8 ------------------------------------------------------------------------------------------

describe("8. a usernameless assertion must carry its credential owner's user handle", () => {
  // Rule: POST /passkeys/login with a userHandle that is not the credential owner's is refused and makes no session.
  test("another account's user handle, or random bytes: refused, no session", async () => {
    const owner = await target.verifiedUser("handleowner");
    const { authenticator } = await addPasskey(target, owner.token, { password: owner.password });
    const other = await target.verifiedUser("handleother");
    const { authenticator: otherAuthenticator } = await addPasskey(target, other.token, { password: other.password });
    const sessionsBefore = (await target.sessions(owner.token)).body.sessions.length;
    for (const handle of [otherAuthenticator.userHandle, randomBytes(8).toString("base64url"), randomBytes(32).toString("base64url")]) {
      const refused = await passkeySignIn(target, authenticator, (c) => ({ ...c, response: { ...c.response, userHandle: handle } }));
      assert.ok(refused.status === 401 || (refused.status === 400 && refused.body.error === "passkey_refused"), refused.text);
      assert.equal(refused.body.token, undefined);
    }
    assert.equal((await target.sessions(owner.token)).body.sessions.length, sessionsBefore, "no session was made");
    assert.equal((await target.sessions(other.token)).body.sessions.length, 1);
    assert.equal((await passkeySignIn(target, authenticator)).status, 200, "its own handle still signs in");
  });
});

// ---- 9 ------------------------------------------------------------------------------------------

describe("9. ceremonies are bounded", () => {
  // Rule: GET /oauth/{provider}/start is behind the flood shield (RATE_LIMITER): over the limit, 429.
  test("GET /oauth/{provider}/start sits behind the flood shield", async () => {
    const shielded = await socialApp(spawn, {
      stopping,
      miniflare: { ratelimits: { RATE_LIMITER: { namespace_id: "1001", simple: { limit: 3, period: 60 } } } },
    });
    const ip = randomIp();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await shielded.startRaw(pkce().challenge, { ip })).status);
    assert.deepEqual(statuses, [302, 302, 302, 429, 429]);
  });

  // Rule: at most 20 live sign-in/link states per client address; the 21st is 429 too_many_attempts, another address still starts.
  test("at most 20 live sign-ins in flight per client address: the 21st is 429 too_many_attempts, another address still gets its 302", async () => {
    const ip = randomIp();
    for (let i = 0; i < 20; i++) {
      const started = await social.startRaw(pkce().challenge, { ip });
      assert.equal(started.status, 302, `start ${i + 1}: ${started.text}`);
    }
    assertError(await social.startRaw(pkce().challenge, { ip }), 429, "too_many_attempts");
    assert.equal((await social.startRaw(pkce().challenge, { ip: randomIp() })).status, 302, "another address");
  });

  // Rule: the hourly cleanup removes every expired passkey challenge and OAuth state, however many (not 5,000 a run).
  test("the hourly cleanup removes every expired ceremony row, however many", async () => {
    const plain = await spawn({});
    const db = await plain.database();
    const now = Math.floor(Date.now() / 1000);
    const rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)";
    await db.prepare(`INSERT INTO passkey_challenges (digest, ceremony, user_id, email, expires_at) ${rows} SELECT 'expired-' || i, 'login', NULL, NULL, ?1 FROM n`).bind(now - 7200).run();
    await db.prepare(`INSERT INTO oauth_states (digest, provider, nonce, verifier, redirect_to, app_challenge, link_user_id, expires_at) ${rows} SELECT 'expired-' || i, 'acme', 'n', 'v', ?2, 'c', NULL, ?1 FROM n`).bind(now - 7200, APP_RETURN).run();
    await db.batch([
      db.prepare("INSERT INTO passkey_challenges (digest, ceremony, expires_at) VALUES ('live', 'login', ?1)").bind(now + 300),
      db.prepare("INSERT INTO oauth_states (digest, provider, nonce, verifier, redirect_to, app_challenge, expires_at) VALUES ('live', 'acme', 'n', 'v', ?2, 'c', ?1)").bind(now + 600, APP_RETURN),
    ]);
    const count = async (table) => (await db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first()).n;
    assert.deepEqual([await count("passkey_challenges"), await count("oauth_states")], [6001, 6001]);
    await (await plain.mf.getWorker()).scheduled({ cron: "17 * * * *" });
    assert.deepEqual([await count("passkey_challenges"), await count("oauth_states")], [1, 1], "every expired row went in one run; the live ones stay");
  });
});

// ---- 10 -----------------------------------------------------------------------------------------

describe("10. passkey sign-up mail is capped per client address", () => {
  // Rule: at most 10 sign-up mails an hour per client address: the 11th is 429 too_many_attempts and mails nothing; another address still works.
  test("the 11th sign-up from one client address, each to a new address, is 429 and mails nothing; another client still signs up", async () => {
    const ip = randomIp();
    const signUp = (email, from) => target.request("POST", "/passkeys/signup/options", { json: { email }, ip: from });
    for (let i = 0; i < 10; i++) {
      const email = uniqueEmail(`capped${i}`);
      const started = await signUp(email, ip);
      assert.equal(started.status, 200, `sign-up ${i + 1}: ${started.text}`);
      assert.equal((await target.mailbox.to(email)).length, 1, `mail ${i + 1} arrived`);
    }
    const eleventh = uniqueEmail("capped10");
    assertError(await signUp(eleventh, ip), 429, "too_many_attempts");
    assert.deepEqual(await target.mailbox.to(eleventh, { ms: 1500 }), [], "no 11th mail");
    const elsewhere = uniqueEmail("elsewhere");
    assert.equal((await signUp(elsewhere, randomIp())).status, 200);
    assert.equal((await target.mailbox.to(elsewhere)).length, 1);
  });
});

// ---- 11 -----------------------------------------------------------------------------------------

describe("11. an operator's action shows in the user's trail without the operator's client or reason", () => {
  // Rule: GET /me/events shows admin disable/enable/end-sessions without the operator's ip, User-Agent or reason; the admin's view keeps them.
  test("disable (with a reason), enable, end sessions: the user's /me/events has no operator address, User-Agent or reason", async () => {
    const user = await target.verifiedUser("operated");
    const id = await idOf(target, user.token);
    const opsIp = "198.51.100.77";
    const opsAgent = "OpsConsole/7.1 (internal)";
    const reason = "internal note 4471: fraud ring";
    const operator = { ip: opsIp, headers: { "User-Agent": opsAgent } };
    assert.equal((await admin(target, "POST", `/admin/users/${id}/disable`, { json: { reason }, ...operator })).status, 200);
    assert.equal((await admin(target, "POST", `/admin/users/${id}/enable`, operator)).status, 200);
    assert.equal((await target.login(user.email, user.password)).status, 200);
    assert.equal((await admin(target, "DELETE", `/admin/users/${id}/sessions`, operator)).status, 200);
    const again = await target.login(user.email, user.password);
    assert.equal(again.status, 200, again.text);

    const wanted = ["account.disabled", "account.enabled", "session.ended"];
    // The operator's events, however the user's view names the actor (never "user").
    const byOperator = (events) => events.filter((e) => e.actor !== "user" && wanted.includes(e.type));
    const own = await eventually(
      async () => (await target.request("GET", "/me/events?limit=100", { token: again.body.token })).body.events,
      (events) => new Set(byOperator(events).map((e) => e.type)).size === wanted.length,
    );
    const shown = byOperator(own);
    assert.deepEqual([...new Set(shown.map((e) => e.type))].sort(), [...wanted].sort(), JSON.stringify(own));
    for (const event of shown) {
      assert.notEqual(event.client, opsIp, event.type);
      assert.notEqual(event.user_agent, opsAgent, event.type);
      assert.equal(event.detail.reason, undefined, event.type);
      const text = JSON.stringify(event);
      for (const secret of [opsIp, opsAgent, reason]) assert.ok(!text.includes(secret), `${event.type} shows ${secret}`);
    }
    // The operator's own view keeps them.
    const operatorView = (await admin(target, "GET", `/admin/users/${id}/events?limit=100`)).body.events;
    const disabled = operatorView.find((e) => e.type === "account.disabled");
    assert.deepEqual([disabled.client, disabled.user_agent, disabled.detail.reason], [opsIp, opsAgent, reason]);
  });
});

// ---- 12 -----------------------------------------------------------------------------------------

describe("12. a provider's display name obeys the name rules", () => {
  // Rule: an account a provider creates has a name of at most 100 characters and no control characters (or none).
  test("a 300-character name or one with control characters: the account's name is at most 100 characters, with none", async () => {
    for (const name of ["N".repeat(300), "Eve\u0007 the\nEvil\u0000One", `${"x".repeat(99)}\u009b${"y".repeat(50)}`]) {
      const answer = await social.signedIn(social.account({ email: uniqueEmail("named"), email_verified: true, name }));
      const me = await target.me(answer.token);
      assert.equal(me.status, 200, me.text);
      const { username } = me.body;
      if (username !== null && username !== undefined) {
        assert.ok([...username].length <= 100, `${JSON.stringify(name.slice(0, 20))}…: ${username.length} characters`);
        assert.doesNotMatch(username, /\p{Cc}/u, JSON.stringify(username));
      }
    }
  });
});

// ---- 13 -----------------------------------------------------------------------------------------

describe("13. an unverified provider email answers alike whether or not the address has an account", () => {
  // Rule: with email_verified false, the callback's error is email_not_verified for a taken and a free address alike.
  test("email_verified false: the same error (email_not_verified) for an address with an account and one without", async () => {
    const owner = await target.verifiedUser("unvowner");
    const local = await target.signedInUser("unvlocal");
    const errors = [];
    for (const email of [owner.email, local.email, uniqueEmail("nobody")]) {
      const { landed } = await social.signIn(social.account({ email, email_verified: false, name: "Unverified" }));
      assert.equal(landed.searchParams.get("code"), null, `${landed}`);
      errors.push(landed.searchParams.get("error"));
    }
    assert.deepEqual(errors, ["email_not_verified", "email_not_verified", "email_not_verified"]);
    assert.deepEqual(await social.providers(owner.token), []);
  });
});

// ---- 14 -----------------------------------------------------------------------------------------

describe("14. the WebAuthn CBOR reader caps array lengths", () => {
  // Rule: an attestation object with a huge CBOR array is refused with 400, quickly, and the worker keeps answering.
  test("an attestation object declaring a huge array (0x9b, 2^32 items) or holding a long one: 400, and the worker keeps answering", { timeout: 60_000 }, async () => {
    const user = await target.verifiedUser("cbor");
    const entry = (key, value) => Buffer.concat([cbor.text(key), value]);
    const longArray = Buffer.concat([cbor.head(4, 30_000), Buffer.alloc(30_000)]); // 30,000 zeros: fits the body, no authenticator sends it
    const bodies = [
      () => Buffer.concat([cbor.hugeArrayHead(), Buffer.alloc(16)]),
      (authData) => Buffer.concat([cbor.head(5, 4), entry("fmt", cbor.text("none")), entry("attStmt", cbor.head(5, 0)), entry("authData", cbor.bytes(authData)), entry("x", Buffer.concat([cbor.hugeArrayHead(), Buffer.alloc(16)]))]),
      (authData) => Buffer.concat([cbor.head(5, 4), entry("fmt", cbor.text("none")), entry("attStmt", cbor.head(5, 0)), entry("authData", cbor.bytes(authData)), entry("x", longArray)]),
    ];
    for (const [i, attestation] of bodies.entries()) {
      const options = await target.request("POST", "/passkeys/register/options", { token: user.token, json: { password: user.password } });
      assert.equal(options.status, 200, options.text);
      const authenticator = new SoftAuthenticator();
      const credential = authenticator.create(options.body, { origin: ORIGIN });
      const authData = authenticator.authData(RP.RP_ID, { attested: true });
      credential.response.attestationObject = attestation(authData).toString("base64url");
      const refused = await target.request("POST", "/passkeys/register", { token: user.token, json: { credential } });
      assert.equal(refused.status, 400, `body ${i}: ${refused.text}`);
      assert.ok(["passkey_refused", "validation_failed"].includes(refused.body.error), refused.text);
      assert.equal((await target.health()).status, 200, "the worker keeps answering");
    }
    assert.deepEqual((await target.request("GET", "/passkeys", { token: user.token })).body.passkeys, []);
  });
});
