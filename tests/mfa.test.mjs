// A second factor: TOTP enrolment, login and reset with the factor on, recovery codes, replay,
// clock skew, races and the budget of wrong codes. Codes come from otplib, a TOTP implementation
// nobody here wrote, so the worker is checked against RFC 6238 as apps implement it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, STRONG_PASSWORD } from "./support/app.mjs";
import { totpCode as code, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A verified, signed-in user with the factor on: its secret and recovery codes. */
const userWithFactor = (target, tag) => target.userWithFactor(tag, code, awayFromStepEdge);

function passwordLogin(target, user) {
  return target.login(user.email, user.password);
}

function loginMfa(target, mfa_token, value) {
  return target.request("POST", "/login/mfa", { json: { mfa_token, code: value } });
}

function assertInvalidMfaCode(response) {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual(response.body, { message: "Invalid or already used second-factor code", error: "invalid_mfa_code" });
}

test("enrolment answers an otpauth URI apps read; the factor is on only once a code from the app confirms it", async () => {
  const target = await app({ mail: true, vars: { TOTP_ISSUER: "Acme Auth" } });
  const user = await target.verifiedUser("enrol");
  const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
  assert.equal(enrolled.status, 200, enrolled.text);
  const uri = new URL(enrolled.body.otpauth_uri);
  assert.equal(uri.protocol, "otpauth:");
  assert.equal(uri.host, "totp");
  assert.equal(decodeURIComponent(uri.pathname), `/Acme Auth:${user.email}`);
  assert.deepEqual(Object.fromEntries(uri.searchParams), { secret: enrolled.body.secret, issuer: "Acme Auth", algorithm: "SHA1", digits: "6", period: "30" });
  assert.match(enrolled.body.secret, /^[A-Z2-7]{32}$/, "160 bits in base32");
  assert.match(enrolled.body.qr_svg, /^<\?xml[^>]*\?><svg [^>]*width="\d{3}"[\s\S]*<\/svg>$/, "an SVG QR code to inline");
  assert.equal((await target.me(user.token)).body.mfa_enabled, false, "pending until confirmed");
  assert.equal((await passwordLogin(target, user)).body.mfa_required, undefined, "login unchanged while pending");

  assertInvalidMfaCode(await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: "000000" === code(enrolled.body.secret) ? "000001" : "000000" } }));
  await awayFromStepEdge();
  const confirmed = await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: code(enrolled.body.secret) } });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal(confirmed.body.recovery_codes.length, 10);
  assert.equal(new Set(confirmed.body.recovery_codes).size, 10);
  for (const recovery of confirmed.body.recovery_codes) assert.match(recovery, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
  assert.equal((await target.me(user.token)).body.mfa_enabled, true);
  const [notice] = await target.mailbox.to(user.email, { subject: /Two-step sign-in is on/ });
  assert.match(notice.text, /wasn't you/);

  const again = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
  assert.deepEqual([again.status, again.body.error], [409, "mfa_already_enabled"]);
});

test("enrolment and confirmation refuse a wrong password, a missing code, no enrolment and a bad token", async () => {
  const target = await app({ mail: true });
  const user = await target.verifiedUser("enrolbad");
  const wrong = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: "not my password" } });
  assert.deepEqual([wrong.status, wrong.body.error], [403, "invalid_password"]);
  const notPending = await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: "123456" } });
  assert.deepEqual([notPending.status, notPending.body.error], [409, "mfa_not_enrolled"]);
  const missing = await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: {} });
  assert.deepEqual([missing.status, missing.body.fields], [400, { code: "missing" }]);
  assert.equal((await target.request("POST", "/mfa/totp/enroll", { json: { password: user.password } })).status, 401);
  assert.equal((await target.request("POST", "/mfa/totp/confirm", { token: "x.y.z", json: { code: "123456" } })).status, 401);
});

test("with the factor on, the right password gets an mfa_token and no tokens; a code completes the login", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "login");
  const first = await passwordLogin(target, user);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(Object.keys(first.body).sort(), ["expires_in", "message", "mfa_required", "mfa_token"]);
  assert.equal(first.body.mfa_required, true);
  assert.equal((await target.login(user.email, "a wrong password")).status, 401, "a wrong password still learns nothing");

  // The code already used to confirm the factor is not accepted again (the very code, even when the
  // clock has moved on a step since); the next step's is.
  await awayFromStepEdge();
  assertInvalidMfaCode(await loginMfa(target, first.body.mfa_token, user.confirmedWith));
  const done = await loginMfa(target, first.body.mfa_token, code(user.secret, 1));
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.message, "Login successful");
  assert.equal(done.body.email, user.email);
  assert.equal((await target.me(done.body.token)).status, 200);
  assert.equal((await target.refresh(done.body.refresh)).status, 200);
  assert.equal((await loginMfa(target, first.body.mfa_token, code(user.secret, 1))).status, 401, "the mfa_token is single use");
  assert.equal((await loginMfa(target, "a".repeat(43), code(user.secret))).status, 401, "an unknown token");
  const bad = await target.request("POST", "/login/mfa", { json: { code: true } });
  assert.deepEqual([bad.status, bad.body.fields], [400, { mfa_token: "missing", code: "wrong_type" }]);
});

test("clock skew: one step either side is accepted, two are not; a used step never again", async () => {
  const target = await app({ mail: true });
  const token = async (user) => (await passwordLogin(target, user)).body.mfa_token;
  // Every expectation below holds for a round that stays in one time step, from the confirmation
  // to the last answer (the worker reads the same clock): a round a slow machine stretched across
  // a step's edge proves nothing, and is done again with new accounts. Results are asserted after.
  const step = () => Math.floor(Date.now() / 30_000);
  let round;
  for (let tries = 0; !round; tries++) {
    assert.ok(tries < 5, "five rounds each crossed a step's edge");
    // A round takes a few seconds (ten password hashes): start it with 20 s of its step left.
    const into = (Date.now() / 1000) % 30;
    if (into > 10) await new Promise((resolve) => setTimeout(resolve, (30 - into) * 1000 + 50));
    const from = step();
    const ahead = await target.userWithFactor("skew", code, async () => {}); // its confirmation used the current step
    const refused = [];
    for (const steps of [-2, -1, 0, 2]) refused.push(await loginMfa(target, await token(ahead), code(ahead.secret, steps)));
    const oneAhead = await loginMfa(target, await token(ahead), code(ahead.secret, 1));

    const behind = await target.verifiedUser("skewback");
    const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: behind.token, json: { password: behind.password } });
    const confirmed = await target.request("POST", "/mfa/totp/confirm", { token: behind.token, json: { code: code(enrolled.body.secret, -1) } });
    const replayed = await loginMfa(target, await token(behind), code(enrolled.body.secret, -1));
    const current = await loginMfa(target, await token(behind), code(enrolled.body.secret));
    if (step() === from) round = { refused, oneAhead, confirmed, replayed, current };
  }
  round.refused.forEach(assertInvalidMfaCode);
  assert.equal(round.oneAhead.status, 200, "one step ahead");
  assert.equal(round.confirmed.status, 200, "one step back");
  assertInvalidMfaCode(round.replayed);
  assert.equal(round.current.status, 200);
});

test("a recovery code works once in place of a code, in any typing, and the answer says how many are left", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "recover");
  const [first, second] = user.recovery;
  const used = await loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, first.toUpperCase().replace("-", ""));
  assert.equal(used.status, 200, used.text);
  assert.equal(used.body.recovery_codes_left, 9);
  assertInvalidMfaCode(await loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, first));
  const next = await loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, second);
  assert.equal(next.body.recovery_codes_left, 8);
  assertInvalidMfaCode(await loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, "abcde-fghjk"));
});

test("two parallel completions with one code: exactly one logs in", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "race");
  const [a, b] = [(await passwordLogin(target, user)).body.mfa_token, (await passwordLogin(target, user)).body.mfa_token];
  await awayFromStepEdge();
  const value = code(user.secret, 1);
  const answers = await Promise.all([loginMfa(target, a, value), loginMfa(target, b, value)]);
  assert.deepEqual(answers.map((r) => r.status).sort(), [200, 400]);
  const recoveryRace = await Promise.all([
    loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, user.recovery[0]),
    loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, user.recovery[0]),
  ]);
  assert.deepEqual(recoveryRace.map((r) => r.status).sort(), [200, 400], "a recovery code works once, even in parallel");
});

test("wrong codes, TOTP and recovery alike, spend one per-account budget exactly under parallel tries", async () => {
  const target = await app({ mail: true, vars: { OTP_MAX_FAILURES_PER_DAY: "3" } });
  const user = await userWithFactor(target, "budget");
  const tokens = [];
  for (let i = 0; i < 3; i++) tokens.push((await passwordLogin(target, user)).body.mfa_token);
  await awayFromStepEdge();
  const right = code(user.secret, 1);
  const wrongs = ["111111", "222222", "333333", "444444", "aaaaa-bbbbb", "ccccc-ddddd"].filter((c) => c !== right && c !== code(user.secret) && c !== code(user.secret, -1));
  const tries = await Promise.all(wrongs.map((c, i) => loginMfa(target, tokens[i % 3], c)));
  tries.forEach(assertInvalidMfaCode);
  const db = await target.database();
  const { id } = (await target.me(user.token)).body;
  const { n } = await db.prepare("SELECT COUNT(*) AS n FROM code_events WHERE user_id = ?1 AND purpose = 'mfa' AND kind = 'wrong'").bind(id).first();
  assert.equal(n, 3, "exactly the budget was counted");
  assertInvalidMfaCode(await loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, right));
  // A spent budget refuses a right recovery code too (NIST SP 800-63B §5.2.2), without spending it.
  assertInvalidMfaCode(await loginMfa(target, (await passwordLogin(target, user)).body.mfa_token, user.recovery[0]));
  const { left } = await db.prepare("SELECT COUNT(*) AS left FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL").bind(id).first();
  assert.equal(left, 10, "no recovery code was spent");
});

test("an mfa_token dies after its tries", async () => {
  const target = await app({ mail: true, vars: { OTP_MAX_ATTEMPTS: "2", OTP_MAX_FAILURES_PER_DAY: "50" } });
  const user = await userWithFactor(target, "tries");
  const token = (await passwordLogin(target, user)).body.mfa_token;
  assertInvalidMfaCode(await loginMfa(target, token, "abc"));
  assertInvalidMfaCode(await loginMfa(target, token, "abc"));
  await awayFromStepEdge();
  assert.equal((await loginMfa(target, token, code(user.secret, 1))).status, 401);
});

test("a password reset by email needs the second factor too; without it the emailed code is not spent", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "reset");
  assert.equal((await target.resetPassword(user.email)).status, 200);
  const emailed = await target.mailbox.codeFor(user.email);
  const wrongEmailed = emailed === "000000" ? "000001" : "000000";
  const blind = await target.updatePassword({ email: user.email, otp: wrongEmailed, new_password: "a reset passphrase 99" });
  assert.equal(blind.body.error, "invalid_otp", "without the mailbox nothing tells the factor is on");

  const missing = await target.updatePassword({ email: user.email, otp: emailed, new_password: "a reset passphrase 99" });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error, "validation_failed");
  assert.deepEqual(missing.body.fields, { mfa_code: "missing" });
  assertInvalidMfaCode(await target.updatePassword({ email: user.email, otp: emailed, new_password: "a reset passphrase 99", mfa_code: "abcde-fghjk" }));
  await awayFromStepEdge();
  const done = await target.updatePassword({ email: user.email, otp: emailed, new_password: "a reset passphrase 99", mfa_code: code(user.secret, 1) });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.recovery_codes_left, undefined);
  assert.equal((await target.me(user.token)).status, 401, "the reset ended every session");
  const login = await target.login(user.email, "a reset passphrase 99");
  assert.equal(login.body.mfa_required, true, "the factor stays on");

  assert.equal((await target.resetPassword(user.email)).status, 200);
  const second = await target.mailbox.codeFor(user.email, { count: 2 });
  const byRecovery = await target.updatePassword({ email: user.email, otp: second, new_password: "another reset phrase 98", mfa_code: user.recovery[0] });
  assert.equal(byRecovery.status, 200, byRecovery.text);
  assert.equal(byRecovery.body.recovery_codes_left, 9);
});

test("turning the factor off needs the password and a code; then login asks for nothing more", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "off");
  const disable = (json) => target.request("POST", "/mfa/totp/disable", { token: user.token, json });
  assert.deepEqual((await disable({ password: user.password })).body.fields, { code: "missing" });
  assert.equal((await disable({ password: "nope", code: user.recovery[0] })).body.error, "invalid_password");
  assertInvalidMfaCode(await disable({ password: user.password, code: "abcde-fghjk" }));
  const off = await disable({ password: user.password, code: user.recovery[1] });
  assert.equal(off.status, 200, off.text);
  assert.equal((await target.me(user.token)).body.mfa_enabled, false);
  const login = await passwordLogin(target, user);
  assert.ok(login.body.token, "a plain login again");
  const { id } = (await target.me(user.token)).body;
  const { n } = await (await target.database()).prepare("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?1").bind(id).first();
  assert.equal(n, 0, "its recovery codes are gone");
  await target.mailbox.to(user.email, { subject: /turned off/ });
  const again = await disable({ password: user.password, code: user.recovery[2] });
  assert.deepEqual([again.status, again.body.error], [409, "mfa_not_enrolled"]);
});

test("the secret is encrypted at rest, recovery codes are hashed, and nothing of the factor reaches the log", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "atrest");
  const mfaToken = (await passwordLogin(target, user)).body.mfa_token;
  await awayFromStepEdge();
  const used = code(user.secret, 1);
  assert.equal((await loginMfa(target, mfaToken, used)).status, 200);
  const db = await target.database();
  const { id } = (await target.me(user.token)).body;
  const factor = await db.prepare("SELECT secret_sealed FROM totp_factors WHERE user_id = ?1").bind(id).first();
  const raw = Buffer.from(base32Decode(user.secret));
  assert.ok(!factor.secret_sealed.includes(user.secret));
  assert.ok(!Buffer.from(factor.secret_sealed, "base64url").includes(raw), "not the raw secret either");
  const hashes = (await db.prepare("SELECT code_hash FROM recovery_codes WHERE user_id = ?1").bind(id).all()).results.map((r) => r.code_hash);
  assert.equal(hashes.length, 10);
  for (const recovery of user.recovery) {
    assert.ok(!hashes.some((h) => h.includes(recovery.replace("-", "")) || h.includes(recovery)));
  }
  await sleep(300);
  const output = target.logOutput();
  for (const secret of [user.secret, user.enrolled.otpauth_uri, mfaToken, used, ...user.recovery]) {
    assert.ok(!output.includes(secret), `the log holds ${secret.slice(0, 6)}…`);
  }
});

test("accounts without the factor see no change, and deleting an account removes its factor", async () => {
  const target = await app({ mail: true });
  const plain = await target.signedInUser("plain");
  assert.equal(plain.mfa_required, undefined);
  assert.ok(plain.token);
  const user = await userWithFactor(target, "gone");
  const { id } = (await target.me(user.token)).body;
  assert.equal((await target.deleteMe(user.token, STRONG_PASSWORD, user.recovery[0])).status, 200);
  const db = await target.database();
  for (const table of ["totp_factors", "recovery_codes", "mfa_challenges"]) {
    const { n } = await db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?1`).bind(id).first();
    assert.equal(n, 0, table);
  }
});

function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return out;
}
