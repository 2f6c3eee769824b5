// Signed-in changes: POST /change-password, POST /change-email and POST /confirm-email-change.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";

const app = appsClosedAfter(after);
const NEW_PASSWORD = "a changed passphrase 77";
const otherThan = (code) => (code === "000000" ? "000001" : "000000");

/** A signed-in user with a second session (another device). */
async function userWithTwoDevices(target, tag) {
  const user = await target.signedInUser(tag);
  const other = (await target.login(user.email, user.password)).body;
  return { ...user, other };
}

test("change-password: the new password works, the caller stays signed in, every other session ends, a notice goes out", async () => {
  const target = await app({ mail: true });
  const user = await userWithTwoDevices(target, "chpw");
  const changed = await target.changePassword(user.token, user.password, NEW_PASSWORD);
  assert.equal(changed.status, 200, changed.text);
  assert.deepEqual(changed.body, { message: "Password changed" });

  assert.equal((await target.me(user.token)).status, 200, "the caller's access token still works");
  assert.equal((await target.refresh(user.refresh)).status, 200, "and its refresh token");
  assert.equal((await target.me(user.other.token)).status, 401, "the other device's access token is dead");
  assert.equal((await target.refresh(user.other.refresh)).status, 401, "and its refresh token");
  assert.equal((await target.login(user.email, user.password)).status, 401);
  assert.equal((await target.login(user.email, NEW_PASSWORD)).status, 200);
  const [notice] = await target.mailbox.to(user.email, { subject: /^Your password was changed$/ });
  assert.match(notice.text, /signed-in device/);
});

test("change-password: bad input, a wrong current password, a weak new one and a bad token each get their answer and change nothing", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("chpwbad");
  const missing = await target.request("POST", "/change-password", { token: user.token, json: { new_password: "short" } });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body.fields, { current_password: "missing", new_password: "too_short" });
  const common = await target.changePassword(user.token, user.password, "password123");
  assert.deepEqual([common.status, common.body.fields], [400, { new_password: "too_common" }]);
  const wrong = await target.changePassword(user.token, "not my password", NEW_PASSWORD);
  assert.equal(wrong.status, 403);
  assert.deepEqual(wrong.body, { message: "The password is wrong", error: "invalid_password" });
  assert.equal((await target.changePassword(undefined, user.password, NEW_PASSWORD)).status, 401);
  assert.equal((await target.changePassword("not.a.token", user.password, NEW_PASSWORD)).status, 401);
  assert.equal((await target.logout(user.token)).status, 200);
  assert.equal((await target.changePassword(user.token, user.password, NEW_PASSWORD)).status, 401, "an ended session cannot change anything");
  assert.equal((await target.login(user.email, user.password)).status, 200, "the password is unchanged");
});

test("wrong current passwords count toward the login lockout", async () => {
  const target = await app({ mail: true, vars: { LOGIN_MAX_FAILURES: "3" } });
  const user = await target.signedInUser("chpwlock");
  const ip = "198.51.100.23";
  for (let i = 0; i < 3; i++) {
    assert.equal((await target.changePassword(user.token, `wrong ${i}`, NEW_PASSWORD, { ip })).status, 403);
  }
  const locked = await target.changePassword(user.token, user.password, NEW_PASSWORD, { ip });
  assert.equal(locked.status, 429, "even the right password waits now");
  assert.ok(Number(locked.headers.get("retry-after")) > 0);
  assert.equal((await target.login(user.email, user.password, { ip })).status, 429, "and so does login from that address");
  assert.equal((await target.login(user.email, user.password, { ip: "198.51.100.99" })).status, 200, "the owner elsewhere is not locked out");
});

test("change-email: a code goes to the new address; confirming moves the account, verifies it, ends other sessions and tells the old address", async () => {
  const target = await app({ mail: true });
  const user = await userWithTwoDevices(target, "chmail");
  const newEmail = uniqueEmail("moved");
  const asked = await target.changeEmail(user.token, ` ${newEmail.toUpperCase()}`, user.password);
  assert.equal(asked.status, 200, asked.text);
  assert.deepEqual(asked.body, { message: "Check the new address for a code" });
  const code = await target.mailbox.codeFor(newEmail, { kind: "email change" });
  assert.equal((await target.mailbox.to(user.email, { ms: 0, subject: /email change code/ })).length, 0, "the code goes only to the new address");

  assertInvalidCode(await target.confirmEmailChange(user.token, otherThan(code)));
  assertInvalidCode(await target.confirmEmailChange(user.token, "12x456"));
  const confirmed = await target.confirmEmailChange(user.token, code);
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.deepEqual(confirmed.body, { message: "Email changed", email: newEmail });

  const me = await target.me(user.token);
  assert.equal(me.body.email, newEmail);
  assert.equal(me.body.email_verified, true, "the code proved the new mailbox");
  assert.equal((await target.me(user.other.token)).status, 401, "the other session ended");
  assert.equal((await target.login(user.email, user.password)).status, 401, "the old address signs in no more");
  assert.equal((await target.login(newEmail, user.password)).status, 200);
  const [notice] = await target.mailbox.to(user.email, { subject: /email was changed/ });
  assert.ok(notice.text.includes(newEmail));
  assertInvalidCode(await target.confirmEmailChange(user.token, code));
});

test("change-email: bad input, the same address, a taken one and a wrong password", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("chmailbad");
  const taken = await target.signedInUser("taken");
  const invalid = await target.changeEmail(user.token, "not-an-email", user.password);
  assert.deepEqual([invalid.status, invalid.body.fields], [400, { new_email: "invalid" }]);
  const same = await target.changeEmail(user.token, user.email, user.password);
  assert.deepEqual([same.status, same.body.fields], [400, { new_email: "unchanged" }]);
  const exists = await target.changeEmail(user.token, taken.email, user.password);
  assert.equal(exists.status, 409);
  assert.equal(exists.body.error, "user_exists");
  const wrong = await target.changeEmail(user.token, uniqueEmail("free"), "not my password");
  assert.equal(wrong.body.error, "invalid_password");
  assert.equal((await target.changeEmail(undefined, uniqueEmail("free"), user.password)).status, 401);
  const missing = await target.request("POST", "/confirm-email-change", { token: user.token, json: {} });
  assert.deepEqual([missing.status, missing.body.fields], [400, { code: "missing" }]);
  assert.equal((await target.confirmEmailChange(undefined, "123456")).status, 401);
  assert.equal((await target.me(user.token)).body.email, user.email);
});

test("an address taken between the request and the confirmation gets 409 email_taken and changes nothing", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("between");
  const wanted = uniqueEmail("wanted");
  assert.equal((await target.changeEmail(user.token, wanted, user.password)).status, 200);
  const code = await target.mailbox.codeFor(wanted, { kind: "email change" });
  assert.equal((await target.register({ email: wanted, password: STRONG_PASSWORD })).status, 201);
  const refused = await target.confirmEmailChange(user.token, code);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error, "email_taken");
  assert.equal((await target.me(user.token)).body.email, user.email);
  assert.equal((await target.login(user.email, user.password)).status, 200);
});

test("two parallel confirmations of one code: exactly one wins", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("twice");
  const wanted = uniqueEmail("once");
  assert.equal((await target.changeEmail(user.token, wanted, user.password)).status, 200);
  const code = await target.mailbox.codeFor(wanted, { kind: "email change" });
  const answers = await Promise.all([target.confirmEmailChange(user.token, code), target.confirmEmailChange(user.token, code)]);
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400]);
  // The winner's notice goes after its answer: wait for it (it was read 300 ms later, which a
  // loaded machine can miss); then a grace for a second one, which would be the bug.
  await target.mailbox.to(user.email, { subject: /email was changed/ });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await target.mailbox.to(user.email, { ms: 0, subject: /email was changed/ })).length, 1, "one notice");
});

test("wrong change codes are counted per account, exactly under parallel tries", async () => {
  const target = await app({ mail: true, vars: { OTP_MAX_FAILURES_PER_DAY: "2" } });
  const user = await target.signedInUser("chbudget");
  const wanted = uniqueEmail("budget");
  assert.equal((await target.changeEmail(user.token, wanted, user.password)).status, 200);
  const code = await target.mailbox.codeFor(wanted, { kind: "email change" });
  const wrongs = ["111111", "222222", "333333", "444444"].filter((c) => c !== code);
  (await Promise.all(wrongs.map((c) => target.confirmEmailChange(user.token, c)))).forEach(assertInvalidCode);
  const { n } = await (await target.database()).prepare("SELECT COUNT(*) AS n FROM code_events e JOIN users u ON u.id = e.user_id WHERE u.email = ?1 AND e.purpose = 'change' AND e.kind = 'wrong'").bind(user.email).first();
  assert.equal(n, 2);
  assertInvalidCode(await target.confirmEmailChange(user.token, code));
});

test("REQUIRE_EMAIL_VERIFICATION: a taken address answers like a free one and nobody is mailed", async () => {
  const target = await app({ mail: true, vars: { REQUIRE_EMAIL_VERIFICATION: "true" } });
  const email = uniqueEmail("strictmove");
  await target.register({ email, password: STRONG_PASSWORD });
  await target.verifyEmail(email, await target.mailbox.codeFor(email, { kind: "verification" }));
  const token = (await target.login(email, STRONG_PASSWORD)).body.token;
  const taken = uniqueEmail("strictowner");
  await target.register({ email: taken, password: STRONG_PASSWORD });
  const toTaken = await target.changeEmail(token, taken, STRONG_PASSWORD);
  const toFree = await target.changeEmail(token, uniqueEmail("strictfree"), STRONG_PASSWORD);
  assert.equal(toTaken.status, 200);
  assert.equal(toTaken.text, toFree.text);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await target.mailbox.to(taken, { ms: 0, subject: /email change/ })).length, 0);
});

function assertInvalidCode(response) {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual(response.body, { message: "Invalid or expired code", error: "invalid_code" });
}
