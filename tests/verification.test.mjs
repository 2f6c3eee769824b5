// Email verification: the code mailed at sign-up, /verify-email, /resend-verification, a reset
// proving the mailbox, and REQUIRE_EMAIL_VERIFICATION (login refused until verified; sign-up that
// answers alike for taken and new addresses).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";

const app = appsClosedAfter(after);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const otherThan = (code) => (code === "000000" ? "000001" : "000000");

function assertInvalidCode(response) {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual(response.body, { message: "Invalid or expired code", error: "invalid_code" });
}

test("sign-up mails a code; it verifies the address once, and /me and login say so", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("verify");
  assert.equal(user.email_verified, false, "the login answer says unverified");
  assert.equal((await target.me(user.token)).body.email_verified, false);
  const code = await target.mailbox.codeFor(user.email, { kind: "verification" });

  assertInvalidCode(await target.verifyEmail(user.email, otherThan(code)));
  const verified = await target.verifyEmail(` ${user.email.toUpperCase()} `, Number(code));
  assert.equal(verified.status, 200, verified.text);
  assert.deepEqual(verified.body, { message: "Email verified" });
  assert.equal((await target.me(user.token)).body.email_verified, true);
  assert.equal((await target.login(user.email, STRONG_PASSWORD)).body.email_verified, true);
  assertInvalidCode(await target.verifyEmail(user.email, code));
});

test("bad input gets a clear answer and spends nothing", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("badverify");
  const code = await target.mailbox.codeFor(user.email, { kind: "verification" });
  const missing = await target.request("POST", "/verify-email", { json: { email: user.email } });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body.fields, { code: "missing" });
  const wrongType = await target.request("POST", "/verify-email", { json: { email: "nope", code: true } });
  assert.deepEqual(wrongType.body.fields, { email: "invalid", code: "wrong_type" });
  const notJson = await target.request("POST", "/verify-email", { body: "{", headers: { "Content-Type": "application/json" } });
  assert.equal(notJson.body.error, "invalid_json");
  assertInvalidCode(await target.verifyEmail(user.email, "12ab56"));
  assertInvalidCode(await target.verifyEmail(uniqueEmail("nobody"), code));
  assert.equal((await target.verifyEmail(user.email, code)).status, 200, "the code survived them");
});

test("resend answers alike for every address; only an unverified account gets a new code, which replaces the old", async () => {
  const target = await app({ mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  const unverified = await target.signedInUser("resend");
  const first = await target.mailbox.codeFor(unverified.email, { kind: "verification" });
  const verified = await target.signedInUser("already");
  assert.equal((await target.verifyEmail(verified.email, await target.mailbox.codeFor(verified.email, { kind: "verification" }))).status, 200);
  const ghost = uniqueEmail("ghost");

  const answers = await Promise.all([unverified.email, verified.email, ghost].map((email) => target.resendVerification(email)));
  for (const answer of answers) {
    assert.equal(answer.status, 200);
    assert.equal(answer.text, answers[0].text);
  }
  assert.deepEqual(answers[0].body, { message: "Verification code sent" });
  const second = await target.mailbox.codeFor(unverified.email, { kind: "verification", count: 2 });
  await sleep(300);
  assert.equal((await target.mailbox.to(verified.email, { ms: 0, subject: /verification code/ })).length, 1, "a verified address gets no new code");
  assert.equal((await target.mailbox.to(ghost, { ms: 0 })).length, 0);
  if (first !== second) assertInvalidCode(await target.verifyEmail(unverified.email, first));
  assert.equal((await target.verifyEmail(unverified.email, second)).status, 200);
});

test("the cooldown and the hourly cap hold for verification codes", async () => {
  const target = await app({ mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "60" } });
  const user = await target.signedInUser("cooldown");
  await target.mailbox.codeFor(user.email, { kind: "verification" });
  assert.equal((await target.resendVerification(user.email)).status, 200);
  await sleep(300);
  assert.equal((await target.mailbox.to(user.email, { ms: 0, subject: /verification code/ })).length, 1, "inside the cooldown: no second mail");
});

test("the budget of wrong tries is per account, across codes, and exact under parallel tries; two right tries: one wins", async () => {
  const target = await app({ mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_FAILURES_PER_DAY: "3", OTP_MAX_CODES_PER_HOUR: "100" } });
  const racer = await target.signedInUser("race");
  const code = await target.mailbox.codeFor(racer.email, { kind: "verification" });
  const both = await Promise.all([target.verifyEmail(racer.email, code), target.verifyEmail(racer.email, code)]);
  assert.deepEqual(both.map((r) => r.status).sort(), [200, 400], "exactly one of two parallel right tries wins");

  const guesser = await target.signedInUser("budget");
  const right = await target.mailbox.codeFor(guesser.email, { kind: "verification" });
  const wrongs = ["111111", "222222", "333333", "444444", "555555", "666666"].filter((c) => c !== right);
  const tries = await Promise.all(wrongs.map((c) => target.verifyEmail(guesser.email, c)));
  tries.forEach(assertInvalidCode);
  const db = await target.database();
  const { n } = await db.prepare("SELECT COUNT(*) AS n FROM code_events e JOIN users u ON u.id = e.user_id WHERE u.email = ?1 AND e.purpose = 'verify' AND e.kind = 'wrong'").bind(guesser.email).first();
  assert.equal(n, 3, "exactly the budget was counted");
  assertInvalidCode(await target.verifyEmail(guesser.email, right));
  assert.equal((await target.resendVerification(guesser.email)).status, 200);
  await sleep(300);
  assert.equal((await target.mailbox.to(guesser.email, { ms: 0, subject: /verification code/ })).length, 1, "a spent budget brings no new code");
});

test("codes are stored only as keyed hashes", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("stored");
  const code = await target.mailbox.codeFor(user.email, { kind: "verification" });
  const db = await target.database();
  const row = await db.prepare("SELECT c.code_hash FROM email_codes c JOIN users u ON u.id = c.user_id WHERE u.email = ?1").bind(user.email).first();
  assert.match(row.code_hash, /^[0-9a-f]{8}:[A-Za-z0-9_-]{43}$/, "the key id, then the keyed hash");
  assert.ok(!row.code_hash.includes(code));
});

test("a password reset by code proves the mailbox: the address is verified", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("resetproof");
  assert.equal((await target.resetPassword(user.email)).status, 200);
  const code = await target.mailbox.codeFor(user.email);
  assert.equal((await target.updatePassword({ email: user.email, otp: code, new_password: "a fresh reset passphrase" })).status, 200);
  const login = await target.login(user.email, "a fresh reset passphrase");
  assert.equal(login.body.email_verified, true);
});

test("REQUIRE_EMAIL_VERIFICATION: an unverified account gets 403 only after the right password, then logs in once verified", async () => {
  const target = await app({ mail: true, vars: { REQUIRE_EMAIL_VERIFICATION: "true" } });
  const email = uniqueEmail("required");
  assert.equal((await target.register({ email, password: STRONG_PASSWORD })).status, 201);
  const wrong = await target.login(email, "not the password");
  assert.equal(wrong.status, 401, "a wrong password learns nothing about verification");
  const refused = await target.login(email, STRONG_PASSWORD);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, "email_not_verified");
  assert.equal(refused.body.token, undefined);
  assert.equal((await target.verifyEmail(email, await target.mailbox.codeFor(email, { kind: "verification" }))).status, 200);
  const login = await target.login(email, STRONG_PASSWORD);
  assert.equal(login.status, 200, login.text);
  assert.equal(login.body.email_verified, true);
});

test("REQUIRE_EMAIL_VERIFICATION: sign-up with a taken address answers as for a new one, creates nothing, and tells the owner", async () => {
  const target = await app({ mail: true, vars: { REQUIRE_EMAIL_VERIFICATION: "true" } });
  const owner = uniqueEmail("owner");
  const created = await target.register({ email: owner, password: STRONG_PASSWORD });
  const again = await target.register({ email: owner, password: "an intruder's passphrase" });
  const fresh = await target.register({ email: uniqueEmail("fresh"), password: STRONG_PASSWORD });
  for (const answer of [again, fresh]) {
    assert.equal(answer.status, created.status);
    assert.equal(answer.text, created.text);
    const names = (r) => [...r.headers.keys()].filter((k) => !["date", "x-request-id"].includes(k)).sort().join();
    assert.equal(names(answer), names(created));
  }
  const [notice] = await target.mailbox.to(owner, { subject: /tried to sign up/ });
  assert.match(notice.text, /no account was created or changed/);
  assert.equal((await target.mailbox.to(owner, { ms: 0, subject: /verification code/ })).length, 1, "one code: the owner's own");
  assert.equal((await target.login(owner, "an intruder's passphrase")).status, 401, "the second password made nothing");
});

test("without EMAIL_PROVIDER: sign-up still works with the default, and is refused when verification is required", async () => {
  const plain = await app({ production: true });
  const email = uniqueEmail("nomail");
  assert.equal((await plain.register({ email, password: STRONG_PASSWORD })).status, 201);
  const { n } = await (await plain.database()).prepare("SELECT COUNT(*) AS n FROM email_codes").first();
  assert.equal(n, 0, "no code that cannot be mailed is stored");
  const strict = await app({ production: true, vars: { REQUIRE_EMAIL_VERIFICATION: "true" } });
  const refused = await strict.register({ email: uniqueEmail("strict"), password: STRONG_PASSWORD });
  assert.equal(refused.status, 500);
  assert.equal(refused.body.variable, "EMAIL_PROVIDER");
  const bad = await app({ vars: { REQUIRE_EMAIL_VERIFICATION: "yes" } });
  const misread = await bad.health();
  assert.equal(misread.status, 500);
  assert.equal(misread.body.variable, "REQUIRE_EMAIL_VERIFICATION");
});
