// Owners cannot be hurt by strangers: a second factor needs a verified address, a stranger cannot
// spend the owner's verification budget, and a right password re-entered never counts as a failure.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { totpCode as code, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);

/** A verified, signed-in user with the factor on: its secret and recovery codes. */
const userWithFactor = (target, tag) => target.userWithFactor(tag, code, awayFromStepEdge);

// ---- Owners cannot be hurt by strangers ----

test("a second factor needs a verified address: a squatter cannot hold the owner's reset hostage", async () => {
  const target = await app({ mail: true });
  const squatter = await target.signedInUser("squat");
  const refused = await target.request("POST", "/mfa/totp/enroll", { token: squatter.token, json: { password: squatter.password } });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.body.error, "email_not_verified");
  assert.match(refused.body.message, /Verify your email address before adding a second factor/);
  // The owner of the mailbox still resets with the emailed code alone.
  assert.equal((await target.resetPassword(squatter.email)).status, 200);
  const otp = await target.mailbox.codeFor(squatter.email);
  const reset = await target.updatePassword({ email: squatter.email, otp, new_password: "the real owner's phrase" });
  assert.equal(reset.status, 200, reset.text);
  // Once the address is proven, enrolment works.
  const owner = await target.verifiedUser("owner");
  const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: owner.token, json: { password: owner.password } });
  assert.equal(enrolled.status, 200, enrolled.text);
});

test("a stranger who spends the anonymous verification budget cannot stop the owner, who proved the password, from verifying", async () => {
  const target = await app({ mail: true, vars: { REQUIRE_EMAIL_VERIFICATION: "true", OTP_MAX_FAILURES_PER_DAY: "3" } });
  const email = uniqueEmail("owner");
  assert.equal((await target.register({ email, password: STRONG_PASSWORD })).status, 201);
  const mailed = await target.mailbox.codeFor(email, { kind: "verification" });
  const wrong = String((Number(mailed) + 1) % 1_000_000).padStart(6, "0");
  // The stranger (client A) spends the anonymous budget: even the right code is refused now.
  for (let i = 0; i < 4; i++) {
    assert.equal((await target.request("POST", "/verify-email", { json: { email, code: wrong }, ip: "198.51.100.7" })).status, 400);
  }
  assert.equal((await target.verifyEmail(email, mailed)).body.error, "invalid_code", "the anonymous budget is spent");
  // The owner (client B) signs in: 403 with a verification token.
  const login = await target.login(email, STRONG_PASSWORD, { ip: "203.0.113.9" });
  assert.equal(login.status, 403, login.text);
  assert.equal(login.body.error, "email_not_verified");
  const verification_token = login.body.verification_token;
  assert.match(verification_token, /^\d+\.[0-9a-f]{64}$/);
  // The token gets the owner a code of their own, which the stranger's further tries never touch.
  const resent = await target.request("POST", "/resend-verification", { json: { email, verification_token }, ip: "203.0.113.9" });
  assert.equal(resent.status, 200, resent.text);
  const own = await target.mailbox.codeFor(email, { kind: "verification", count: 2 });
  for (let i = 0; i < 3; i++) {
    assert.equal((await target.request("POST", "/verify-email", { json: { email, code: wrong }, ip: "198.51.100.7" })).status, 400);
  }
  const verified = await target.request("POST", "/verify-email", { json: { email, code: own, verification_token }, ip: "203.0.113.9" });
  assert.deepEqual([verified.status, verified.body], [200, { message: "Email verified" }]);
  assert.equal((await target.login(email, STRONG_PASSWORD, { ip: "203.0.113.9" })).status, 200);
});

test("a verification token is good only for its address and only while live; a forged one is refused by name", async () => {
  const target = await app({ mail: true, vars: { REQUIRE_EMAIL_VERIFICATION: "true" } });
  const email = uniqueEmail("tok");
  await target.register({ email, password: STRONG_PASSWORD });
  const { verification_token } = (await target.login(email, STRONG_PASSWORD)).body;
  const other = uniqueEmail("other");
  for (const [forEmail, token] of [
    [other, verification_token],
    [email, verification_token.replace(/.$/, (c) => (c === "0" ? "1" : "0"))],
    [email, `${Math.floor(Date.now() / 1000) - 1}.${verification_token.split(".")[1]}`],
  ]) {
    const refused = await target.request("POST", "/verify-email", { json: { email: forEmail, code: "123456", verification_token: token } });
    assert.deepEqual([refused.status, refused.body.fields], [400, { verification_token: "invalid" }], forEmail);
  }
  // A wrong password never gets a token: the answer is the plain 401.
  const wrong = await target.login(email, "not the password");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.verification_token, undefined);
});

test("under REQUIRE_EMAIL_VERIFICATION, sign-up answers alike for a taken and a free address; only a login with the password set tells them apart (README, Security)", async () => {
  const target = await app({ mail: true, vars: { REQUIRE_EMAIL_VERIFICATION: "true" } });
  const taken = uniqueEmail("taken");
  await target.register({ email: taken, password: STRONG_PASSWORD });
  const free = uniqueEmail("free");
  const [a, b] = [await target.register({ email: taken, password: "prober passphrase 1" }), await target.register({ email: free, password: "prober passphrase 1" })];
  assert.deepEqual([a.status, a.body], [b.status, b.body], "the sign-up answer is the same");
  // The documented remaining oracle: the prober knows the password it chose.
  assert.equal((await target.login(free, "prober passphrase 1")).status, 403);
  assert.equal((await target.login(taken, "prober passphrase 1")).status, 401);
});

test("a right password re-entered at a route that then refuses for another reason never counts as a failed login", async () => {
  const target = await app({ mail: true, vars: { LOGIN_MAX_FAILURES: "2" } });
  const user = await userWithFactor(target, "reentry");
  for (let i = 0; i < 3; i++) {
    const same = await target.request("POST", "/change-email", { token: user.token, json: { new_email: user.email, password: user.password, mfa_code: "000000" } });
    assert.equal(same.status, 400, same.text);
    const wrongCode = await target.request("POST", "/mfa/totp/disable", { token: user.token, json: { password: user.password, code: "aaaaa-bbbbb" } });
    assert.equal(wrongCode.body.error, "invalid_mfa_code");
  }
  const login = await target.login(user.email, user.password);
  assert.equal(login.status, 200, "no lockout: every one of those passwords was right");
});
