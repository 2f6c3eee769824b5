// Going passwordless, over HTTP with the software authenticator: an account created with a
// passkey and the code mailed to its address (never one without the other, so nobody holds an
// address they cannot read), and a passkey standing as the second step after a password.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail } from "./support/app.mjs";
import { SoftAuthenticator } from "./support/authenticator.mjs";
import { totpCode, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);
const ORIGIN = "https://app.example.com";
const RP = { RP_ID: "example.com", RP_ORIGINS: ORIGIN, RP_NAME: "Example" };

function startSignUp(target, email, name) {
  return target.request("POST", "/passkeys/signup/options", { json: { email, ...(name && { name }) } });
}

function finishSignUp(target, json) {
  return target.request("POST", "/passkeys/signup", { json });
}

function assertInvalidCode(response) {
  assert.equal(response.status, 400, response.text);
  assert.equal(response.body.error, "invalid_code");
}

test("an account with a passkey and no password: the mailed code and the passkey create it, verified and signed in", async () => {
  const target = await app({ mail: true, vars: RP });
  const email = uniqueEmail("nopass");
  const options = await startSignUp(target, email, "Nadia");
  assert.equal(options.status, 200, options.text);
  assert.equal(options.body.user.name, email);
  assert.equal(options.body.user.displayName, "Nadia");
  assert.deepEqual(options.body.authenticatorSelection, { residentKey: "required", userVerification: "required" });
  assert.equal(options.body.expires_in, 300);
  assert.equal((await target.login(email, "any password at all")).status, 401, "no account before the code");

  const code = await target.mailbox.codeFor(email, { kind: "verification" });
  const authenticator = new SoftAuthenticator();
  const credential = authenticator.create(options.body, { origin: ORIGIN });
  assertInvalidCode(await finishSignUp(target, { code: code === "000000" ? "000001" : "000000", credential }));
  const done = await finishSignUp(target, { code, credential, name: "Phone" });
  assert.equal(done.status, 200, done.text);
  assert.deepEqual([done.body.email, done.body.username, done.body.email_verified], [email, "Nadia", true]);
  const me = await target.me(done.body.token);
  assert.deepEqual([me.status, me.body.email_verified], [200, true]);
  const replayed = await finishSignUp(target, { code, credential });
  assert.deepEqual([replayed.status, replayed.body.reason], [400, "already_registered"], "a replay creates nothing");

  // Its passkey signs in again (usernameless); it is the only way in, so it stays.
  const login = await target.request("POST", "/passkeys/login/options", { json: {} });
  const signedIn = await target.request("POST", "/passkeys/login", { json: { credential: authenticator.get(login.body, { origin: ORIGIN }) } });
  assert.deepEqual([signedIn.status, signedIn.body.email], [200, email], signedIn.text);
  const listed = await target.request("GET", "/passkeys", { token: done.body.token });
  assert.deepEqual(listed.body.passkeys.map((p) => p.name), ["Phone"]);
  const last = await target.request("DELETE", `/passkeys/${listed.body.passkeys[0].id}`, { token: done.body.token });
  assert.deepEqual([last.status, last.body.error], [409, "last_sign_in_method"]);
  // No password: the password routes say so; a reset by mailed code would add one.
  const change = await target.request("POST", "/change-password", { token: done.body.token, json: { current_password: "x", new_password: "another passphrase 4 nopass" } });
  assert.deepEqual([change.status, change.body.error], [403, "no_password"], change.text);
});

test("a taken address gets the same answer, its owner a notice, and no code completes it; the cooldown holds", async () => {
  const target = await app({ mail: true, vars: RP });
  const owner = await target.verifiedUser("owner");
  const taken = await startSignUp(target, owner.email);
  const free = await startSignUp(target, uniqueEmail("free"));
  assert.deepEqual([taken.status, Object.keys(taken.body).sort()], [200, Object.keys(free.body).sort()]);
  const [notice] = await target.mailbox.to(owner.email, { subject: /Someone tried to sign up/ });
  assert.ok(notice, "the owner is told");
  // The only code this address ever got (its verification) completes nothing.
  const oldCode = await target.mailbox.codeFor(owner.email, { kind: "verification" });
  const credential = new SoftAuthenticator().create(taken.body, { origin: ORIGIN });
  assertInvalidCode(await finishSignUp(target, { code: oldCode, credential }));
  assert.equal((await target.login(owner.email, owner.password)).status, 200, "the account is unchanged");
  assert.deepEqual((await target.request("GET", "/passkeys", { token: owner.token })).body.passkeys, []);

  const again = await startSignUp(target, owner.email);
  assert.deepEqual([again.status, again.body.error], [429, "too_many_attempts"]);
  assert.ok(Number(again.headers.get("retry-after")) > 0);
});

test("the code's tries are bounded, a refused passkey spends none, and parallel completions make one account", async () => {
  const target = await app({ mail: true, vars: { ...RP, OTP_MAX_ATTEMPTS: "2" } });
  const email = uniqueEmail("tries");
  const options = await startSignUp(target, email);
  const code = await target.mailbox.codeFor(email, { kind: "verification" });
  const authenticator = new SoftAuthenticator();
  const foreign = await finishSignUp(target, { code, credential: authenticator.create(options.body, { origin: "https://evil.example" }) });
  assert.deepEqual([foreign.status, foreign.body.error, foreign.body.reason], [400, "passkey_refused", "origin_mismatch"]);
  const credential = authenticator.create(options.body, { origin: ORIGIN });
  const wrong = code === "000000" ? "000001" : "000000";
  assertInvalidCode(await finishSignUp(target, { code: wrong, credential }));
  const answers = await Promise.all(Array.from({ length: 3 }, () => finishSignUp(target, { code, credential })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400, 400], answers.map((a) => a.text).join("\n"));

  // Another sign-up: two wrong tries spend it, and then its right code is refused.
  const other = uniqueEmail("spent");
  const second = await startSignUp(target, other);
  const secondCode = await target.mailbox.codeFor(other, { kind: "verification" });
  const secondAuthenticator = new SoftAuthenticator();
  const secondCredential = secondAuthenticator.create(second.body, { origin: ORIGIN });
  const secondWrong = secondCode === "000000" ? "000001" : "000000";
  for (let i = 0; i < 2; i++) assertInvalidCode(await finishSignUp(target, { code: secondWrong, credential: secondCredential }));
  assertInvalidCode(await finishSignUp(target, { code: secondCode, credential: secondCredential }));
  const login = await target.request("POST", "/passkeys/login/options", { json: {} });
  const unknown = await target.request("POST", "/passkeys/login", { json: { credential: secondAuthenticator.get(login.body, { origin: ORIGIN }) } });
  assert.equal(unknown.status, 401, "no account, no passkey");
});

test("with TOTP on, a passkey stands as the second step after the password, once per mfa_token", async () => {
  const target = await app({ mail: true, vars: RP });
  const user = await target.verifiedUser("second");
  const authenticator = new SoftAuthenticator();
  const register = await target.request("POST", "/passkeys/register/options", { token: user.token, json: { password: user.password } });
  const added = await target.request("POST", "/passkeys/register", { token: user.token, json: { credential: authenticator.create(register.body, { origin: ORIGIN }) } });
  assert.equal(added.status, 201, added.text);
  const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
  await awayFromStepEdge();
  const confirmed = await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: totpCode(enrolled.body.secret) } });
  assert.equal(confirmed.status, 200, confirmed.text);

  const first = await target.login(user.email, user.password);
  assert.equal(first.body.mfa_required, true);
  const mfa_token = first.body.mfa_token;
  const options = await target.request("POST", "/login/mfa/passkey/options", { json: { mfa_token } });
  assert.equal(options.status, 200, options.text);
  assert.deepEqual(options.body.allowCredentials, [{ type: "public-key", id: added.body.id }]);
  assert.equal(options.body.userVerification, "preferred");
  // A passkey of another account is not this account's second step.
  const stranger = new SoftAuthenticator();
  const refused = await target.request("POST", "/login/mfa/passkey", { json: { mfa_token, credential: stranger.get(options.body, { origin: ORIGIN }) } });
  assert.deepEqual([refused.status, refused.body.reason], [400, "unknown_credential"], refused.text);

  const fresh = await target.request("POST", "/login/mfa/passkey/options", { json: { mfa_token } });
  // Presence is enough after a password: no user verification asked.
  const credential = authenticator.get(fresh.body, { origin: ORIGIN, uv: false });
  const done = await target.request("POST", "/login/mfa/passkey", { json: { mfa_token, credential } });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.email, user.email);
  assert.equal((await target.me(done.body.token)).status, 200);
  assert.equal((await target.request("POST", "/login/mfa/passkey/options", { json: { mfa_token } })).status, 401, "the mfa_token is spent");
  assert.equal((await target.request("POST", "/login/mfa", { json: { mfa_token, code: totpCode(enrolled.body.secret, 1) } })).status, 401);

  // Only from the client that logged in; and an account without a passkey is told so.
  const next = (await target.login(user.email, user.password)).body.mfa_token;
  const elsewhere = await target.request("POST", "/login/mfa/passkey/options", { json: { mfa_token: next }, headers: { "User-Agent": "another browser" } });
  assert.equal(elsewhere.status, 401);
  const plain = await target.userWithFactor("nopk", totpCode, awayFromStepEdge);
  const plainToken = (await target.login(plain.email, plain.password)).body.mfa_token;
  const none = await target.request("POST", "/login/mfa/passkey/options", { json: { mfa_token: plainToken } });
  assert.deepEqual([none.status, none.body.reason], [400, "no_passkey"]);
});
