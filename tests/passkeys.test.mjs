// Passkeys over HTTP with a software authenticator (tests/support/authenticator.mjs), so every
// rule can be bent: registration and sign-in (usernameless and for an email), the counter, a
// replayed answer, the relying party's origin and id, user verification, a deleted passkey, the
// last way in, and a passkey standing for both factors. (Chromium's own authenticator drives the
// browser tests.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter } from "./support/app.mjs";
import { SoftAuthenticator } from "./support/authenticator.mjs";
import { totpCode, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);
const ORIGIN = "https://app.example.com";
const RP = { RP_ID: "example.com", RP_ORIGINS: `${ORIGIN},https://example.com`, RP_NAME: "Example" };

async function registered(target, tag = "pk") {
  const user = await target.verifiedUser(tag);
  const authenticator = new SoftAuthenticator();
  const options = await target.request("POST", "/passkeys/register/options", { token: user.token, json: { password: user.password } });
  assert.equal(options.status, 200, options.text);
  const added = await target.request("POST", "/passkeys/register", { token: user.token, json: { credential: authenticator.create(options.body, { origin: ORIGIN }), name: "Laptop" } });
  assert.equal(added.status, 201, added.text);
  return { user, authenticator, id: added.body.id, options: options.body };
}

async function signIn(target, authenticator, { email, ...bend } = {}) {
  const options = await target.request("POST", "/passkeys/login/options", { json: email ? { email } : {} });
  assert.equal(options.status, 200, options.text);
  const credential = authenticator.get(options.body, { origin: ORIGIN, ...bend });
  return { answer: await target.request("POST", "/passkeys/login", { json: { credential } }), credential };
}

function assertRefused(response, reason) {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual([response.body.error, response.body.reason], ["passkey_refused", reason]);
}

test("register a passkey, then sign in with it usernameless and for its email; the counter is stored", async () => {
  const target = await app({ mail: true, vars: RP });
  const { user, authenticator, options } = await registered(target);
  assert.deepEqual(options.rp, { id: "example.com", name: "Example" });
  assert.deepEqual(options.authenticatorSelection, { residentKey: "required", userVerification: "required" });
  assert.deepEqual(options.pubKeyCredParams.map((p) => p.alg), [-7, -8, -257]);
  const usernameless = await signIn(target, authenticator);
  assert.equal(usernameless.answer.status, 200, usernameless.answer.text);
  assert.equal(usernameless.answer.body.email, user.email);
  const byEmail = await signIn(target, authenticator, { email: user.email });
  assert.equal(byEmail.answer.status, 200, byEmail.answer.text);
  const listed = await target.request("GET", "/passkeys", { token: user.token });
  assert.equal(listed.body.passkeys.length, 1);
  assert.equal(listed.body.passkeys[0].name, "Laptop");
  assert.equal(listed.body.passkeys[0].sign_count, 2, "the counter of the last assertion");
  // For another account's email, the same passkey signs nobody in.
  const other = await target.verifiedUser("other");
  assert.equal((await signIn(target, authenticator, { email: other.email })).answer.status, 401);
});

test("refused: a replayed answer, a counter that went back, another origin or RP id, no user verification", async () => {
  const target = await app({ mail: true, vars: RP });
  const { authenticator } = await registered(target, "bend");
  const first = await signIn(target, authenticator);
  assert.equal(first.answer.status, 200);
  assertRefused(await target.request("POST", "/passkeys/login", { json: { credential: first.credential } }), "challenge");
  assertRefused((await signIn(target, authenticator, { counter: 1 })).answer, "sign_count_regressed");
  const foreign = (await signIn(target, authenticator, { origin: "https://evil.example" })).answer;
  assertRefused(foreign, "origin_mismatch");
  assert.match(foreign.body.message, /app\.example\.com/, "the message names what was expected");
  assertRefused((await signIn(target, authenticator, { rpId: "evil.example" })).answer, "rp_id_mismatch");
  assertRefused((await signIn(target, authenticator, { uv: false })).answer, "user_not_verified");
  assert.equal((await signIn(target, authenticator)).answer.status, 200, "the passkey still works");
});

test("parallel replays of one answer: one sign-in at most", async () => {
  const target = await app({ mail: true, vars: RP });
  const { authenticator } = await registered(target, "race");
  const options = await target.request("POST", "/passkeys/login/options", { json: {} });
  const credential = authenticator.get(options.body, { origin: ORIGIN });
  const results = await Promise.all(Array.from({ length: 5 }, () => target.request("POST", "/passkeys/login", { json: { credential } })));
  assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join());
});

test("registration needs a verified address and the password again; a deleted passkey signs nobody in", async () => {
  const target = await app({ mail: true, vars: RP });
  const unverified = await target.signedInUser("unv");
  const refused = await target.request("POST", "/passkeys/register/options", { token: unverified.token, json: { password: unverified.password } });
  assert.deepEqual([refused.status, refused.body.error], [403, "email_not_verified"]);
  const { user, authenticator, id } = await registered(target, "del");
  const wrong = await target.request("POST", "/passkeys/register/options", { token: user.token, json: { password: "not the password" } });
  assert.deepEqual([wrong.status, wrong.body.error], [403, "invalid_password"]);
  const renamed = await target.request("PUT", `/passkeys/${id}`, { token: user.token, json: { name: "Phone" } });
  assert.deepEqual([renamed.status, renamed.body.name], [200, "Phone"]);
  const confirm = { json: { password: user.password } };
  assert.equal((await target.request("DELETE", `/passkeys/${id}`, { token: user.token })).status, 400, "the password asked again");
  assert.equal((await target.request("DELETE", `/passkeys/${id}`, { token: user.token, ...confirm })).status, 200);
  assert.equal((await signIn(target, authenticator)).answer.status, 401);
  assert.equal((await target.request("DELETE", `/passkeys/${id}`, { token: user.token, ...confirm })).status, 404);
});

test("with TOTP on, a passkey with user verification signs in without the TOTP step", async () => {
  const target = await app({ mail: true, vars: RP });
  const { user, authenticator } = await registered(target, "both");
  const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
  await awayFromStepEdge();
  assert.equal((await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: totpCode(enrolled.body.secret) } })).status, 200);
  assert.equal((await target.login(user.email, user.password)).body.mfa_required, true, "a password still needs the code");
  const { answer } = await signIn(target, authenticator);
  assert.equal(answer.status, 200, answer.text);
  assert.ok(answer.body.token, "two factors in one: no mfa_required");
});

test("passkeys are off without RP_ID, and a relying party that cannot work is named at startup", async () => {
  const off = await app({});
  assert.equal((await off.request("POST", "/passkeys/login/options", { json: {} })).status, 404);
  const wrong = await app({ vars: { RP_ID: "example.com", RP_ORIGINS: "https://example.org" } });
  const answer = await wrong.request("POST", "/passkeys/login/options", { json: {} });
  assert.deepEqual([answer.status, answer.body.variable], [500, "RP_ORIGINS"]);
  assert.match(answer.body.message, /example\.org/);
});
