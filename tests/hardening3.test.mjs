// Hardening III: no squatting through a second factor, no verification lockout by strangers,
// step-up with a factor, atomic factor changes, mfa_token bound to its client, and what browsers
// and operators see (Allow, CORS methods, misconfiguration answers, mail errors in the log).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { totpCode as code, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);

/** A verified, signed-in user with the factor on: its secret and recovery codes. */
const userWithFactor = (target, tag) => target.userWithFactor(tag, code, awayFromStepEdge);

async function mfaLogin(target, user, value, { ip, headers } = {}) {
  const first = await target.request("POST", "/login", { json: { email: user.email, password: user.password }, ip, headers });
  assert.equal(first.body.mfa_required, true, first.text);
  return target.request("POST", "/login/mfa", { json: { mfa_token: first.body.mfa_token, code: value }, ip, headers });
}

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

// ---- A factor means step-up ----

test("with a factor on, changing the password or email and deleting the account also ask for a current code", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "stepup");
  const routes = [
    ["POST", "/change-password", { current_password: user.password, new_password: "a stepped up passphrase" }],
    ["POST", "/change-email", { new_email: uniqueEmail("moved"), password: user.password }],
    ["DELETE", "/me", { password: user.password }],
  ];
  for (const [method, path, json] of routes) {
    const missing = await target.request(method, path, { token: user.token, json });
    assert.deepEqual([missing.status, missing.body.fields], [400, { mfa_code: "missing" }], path);
    const wrong = await target.request(method, path, { token: user.token, json: { ...json, mfa_code: "zzzzz-zzzzz" } });
    assert.deepEqual([wrong.status, wrong.body.error], [400, "invalid_mfa_code"], path);
  }
  const [changePassword, changeEmail, deleteMe] = routes;
  const changed = await target.request(changePassword[0], changePassword[1], { token: user.token, json: { ...changePassword[2], mfa_code: user.recovery[0] } });
  assert.equal(changed.status, 200, changed.text);
  const again = await target.request(changeEmail[0], changeEmail[1], { token: user.token, json: { ...changeEmail[2], password: "a stepped up passphrase", mfa_code: user.recovery[0] } });
  assert.equal(again.body.error, "invalid_mfa_code", "a recovery code works once");
  const moved = await target.request(changeEmail[0], changeEmail[1], { token: user.token, json: { ...changeEmail[2], password: "a stepped up passphrase", mfa_code: user.recovery[1] } });
  assert.equal(moved.status, 200, moved.text);
  const deleted = await target.request(deleteMe[0], deleteMe[1], { token: user.token, json: { password: "a stepped up passphrase", mfa_code: user.recovery[2] } });
  assert.equal(deleted.status, 200, deleted.text);
});

test("turning a factor on or off ends every other session; the caller's stays", async () => {
  const target = await app({ mail: true });
  const user = await target.verifiedUser("onoff");
  const other = await target.login(user.email, user.password);
  const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
  await awayFromStepEdge();
  const confirmed = await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: code(enrolled.body.secret) } });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal((await target.me(other.body.token)).status, 401, "the other session ended when the factor went on");
  assert.equal((await target.refresh(other.body.refresh)).status, 401);
  assert.equal((await target.me(user.token)).status, 200, "the caller's session stays");
  const [first, second] = confirmed.body.recovery_codes;
  const third = await mfaLogin(target, user, first);
  assert.equal(third.status, 200, third.text);
  const off = await target.request("POST", "/mfa/totp/disable", { token: user.token, json: { password: user.password, code: second } });
  assert.equal(off.status, 200, off.text);
  assert.equal((await target.me(third.body.token)).status, 401, "the other session ended when the factor went off");
  assert.equal((await target.me(user.token)).status, 200);
});

test("two parallel confirmations of one pending factor: one success, and the recovery codes it shows are the ones that work", async () => {
  const target = await app({ mail: true });
  const user = await target.verifiedUser("race");
  const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
  await awayFromStepEdge();
  // Codes of two steps (both accepted, ±1 step), so a loser is refused by the race, not a replay.
  const confirms = await Promise.all(
    [0, 1, 0, 1].map((steps) => target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: code(enrolled.body.secret, steps) } })),
  );
  assert.equal(confirms.filter((r) => r.status === 200).length, 1, "one success");
  for (const lost of confirms.filter((r) => r.status !== 200)) {
    assert.ok(["invalid_mfa_code", "mfa_not_enrolled"].includes(lost.body.error), lost.text);
  }
  const shown = confirms.find((r) => r.status === 200).body.recovery_codes;
  const db = await target.database();
  const { id } = (await target.me(user.token)).body;
  const { n } = await db.prepare("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?1").bind(id).first();
  assert.equal(n, 10, "one set of codes");
  for (const recovery of shown.slice(0, 2)) {
    const login = await mfaLogin(target, user, recovery);
    assert.equal(login.status, 200, `a shown code works: ${login.text}`);
  }
});

test("two parallel completions of one mfa_token with two recovery codes: one wins, the loser's code is not spent", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "spend");
  const first = await target.login(user.email, user.password);
  const tried = user.recovery.slice(0, 4);
  const results = await Promise.all(
    tried.map((value) => target.request("POST", "/login/mfa", { json: { mfa_token: first.body.mfa_token, code: value } })),
  );
  assert.equal(results.filter((r) => r.status === 200).length, 1, "one success");
  const losers = tried.filter((_, i) => results[i].status !== 200);
  for (const [i, loser] of losers.entries()) {
    const later = await mfaLogin(target, user, loser);
    assert.equal(later.status, 200, `the losing request spent nothing: ${later.text}`);
    assert.equal(later.body.recovery_codes_left, 10 - 2 - i);
  }
});

test("an mfa_token works only from the client address and User-Agent of the login that made it", async () => {
  const target = await app({ mail: true });
  const user = await userWithFactor(target, "bound");
  const agent = { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0" };
  const first = await target.request("POST", "/login", { json: { email: user.email, password: user.password }, ip: "203.0.113.5", headers: agent });
  const mfa_token = first.body.mfa_token;
  await awayFromStepEdge();
  const value = code(user.secret, 1);
  const elsewhere = await target.request("POST", "/login/mfa", { json: { mfa_token, code: value }, ip: "198.51.100.5", headers: agent });
  assert.equal(elsewhere.status, 401, "another address");
  const otherAgent = await target.request("POST", "/login/mfa", { json: { mfa_token, code: value }, ip: "203.0.113.5", headers: { "User-Agent": "curl/8.0" } });
  assert.equal(otherAgent.status, 401, "another User-Agent");
  const same = await target.request("POST", "/login/mfa", { json: { mfa_token, code: value }, ip: "203.0.113.5", headers: agent });
  assert.equal(same.status, 200, same.text);
});

// ---- Browsers, operators and the contract ----

test("a CORS preflight allows exactly the route table's methods for its path, DELETE included", async () => {
  const target = await app();
  const origin = "https://app.example";
  const cases = [
    ["/me", "GET, DELETE, OPTIONS"],
    ["/sessions/abc", "DELETE, OPTIONS"],
    ["/login", "POST, OPTIONS"],
    ["/update-profile", "PUT, OPTIONS"],
  ];
  for (const [path, methods] of cases) {
    const preflight = await target.request("OPTIONS", path, { headers: { Origin: origin, "Access-Control-Request-Method": "DELETE" } });
    assert.equal(preflight.status, 204, path);
    assert.equal(preflight.headers.get("access-control-allow-methods"), methods, path);
  }
  assert.equal((await target.request("OPTIONS", "/nope", { headers: { Origin: origin } })).status, 404);
});

test("405 carries Allow with the path's methods (RFC 9110 §15.5.6)", async () => {
  const target = await app();
  for (const [method, path, allow] of [
    ["PATCH", "/me", "GET, DELETE, OPTIONS"],
    ["GET", "/login", "POST, OPTIONS"],
    ["GET", "/sessions/x", "DELETE, OPTIONS"],
  ]) {
    const refused = await target.request(method, path);
    assert.deepEqual([refused.status, refused.body.error], [405, "method_not_allowed"]);
    assert.equal(refused.headers.get("allow"), allow, `${method} ${path}`);
  }
});

test("server_misconfigured names the variable, never its value", async () => {
  const pasted = "re_live_9f8e7d6c5b4a";
  const target = await app({ vars: { EMAIL_PROVIDER: pasted } });
  const answer = await target.register({ email: uniqueEmail(), password: STRONG_PASSWORD });
  assert.equal(answer.status, 500);
  assert.deepEqual([answer.body.error, answer.body.variable], ["server_misconfigured", "EMAIL_PROVIDER"]);
  assert.ok(!answer.text.includes(pasted), answer.text);
  assert.ok(!target.logOutput().includes(pasted), "nor in the log");
});

test("a mail transport's error is logged without the recipient's address", async () => {
  const target = await app({
    vars: { EMAIL_PROVIDER: "cloudflare", EMAIL_FROM: "no-reply@example.com" },
    // Cloudflare's send_email refuses a recipient off its list with an error that quotes it.
    miniflare: { email: { send_email: [{ name: "EMAIL", allowed_destination_addresses: ["someone-else@example.com"] }] } },
  });
  const email = uniqueEmail("private");
  assert.equal((await target.register({ email, password: STRONG_PASSWORD })).status, 201);
  const deadline = Date.now() + 30_000; // the mail goes after the answer: wait for its log line
  while (!/mail not sent/.test(target.logOutput()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const output = target.logOutput();
  assert.match(output, /mail not sent \(cloudflare: .*\[recipient\]/);
  assert.ok(!output.includes(email), "the address is not in the log");
});
