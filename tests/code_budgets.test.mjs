// Emailed codes: a per-account budget of wrong tries across new codes, a mail cap per account,
// and a cooldown that a used code ends.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail } from "./support/app.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const NEW_PASSWORD = "a brand new passphrase";

const app = appsClosedAfter(after);

/** Reset mails that reached `email` (waiting `ms` for at least `count`). */
async function resetMails(target, email, { count = 1, ms = 30_000 } = {}) { // ends as soon as `count` are in
  return target.mailbox.to(email, { count, ms, subject: /reset code/ });
}

function assertInvalidOtp(response) {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual(response.body, { message: "Invalid or expired OTP", error: "invalid_otp" });
}

const wrongCode = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

// ---- 1. Reset codes: a per-account budget of wrong tries, a mail cap, cooldown ended by use ----

// No cooldown and a generous per-code limit, so only the per-account budget (3 here) decides.
const budgetVars = { OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_ATTEMPTS: "50", OTP_MAX_FAILURES_PER_DAY: "3" };

test("wrong tries across new codes share one budget: once spent, the right code fails and no mail goes out", async () => {
  const target = await app({ mail: true, vars: budgetVars });
  const user = await target.signedInUser("budget");
  assert.equal((await target.resetPassword(user.email)).status, 200);
  const [first] = await resetMails(target, user.email);
  const firstCode = first.text.match(/code is (\d{6})/)[1];
  for (let i = 0; i < 2; i++) {
    assertInvalidOtp(await target.updatePassword({ email: user.email, otp: wrongCode(firstCode), new_password: NEW_PASSWORD }));
  }
  // A new code brings no fresh tries: one more wrong try spends the budget of three.
  assert.equal((await target.resetPassword(user.email)).status, 200);
  const second = (await resetMails(target, user.email, { count: 2 })).at(-1).text.match(/code is (\d{6})/)[1];
  assertInvalidOtp(await target.updatePassword({ email: user.email, otp: wrongCode(second), new_password: NEW_PASSWORD }));
  assertInvalidOtp(await target.updatePassword({ email: user.email, otp: second, new_password: NEW_PASSWORD }));

  const again = await target.resetPassword(user.email);
  const unknown = await target.resetPassword(uniqueEmail("ghost"));
  assert.equal(again.status, 200);
  assert.equal(again.text, unknown.text, "the same answer as for an unknown email");
  await sleep(400);
  assert.equal((await resetMails(target, user.email, { count: 3, ms: 0 })).length, 2, "no third mail");
  assert.equal((await target.login(user.email, user.password)).status, 200, "password login is not affected");
});

test("the budget is exact under parallel wrong tries", async () => {
  const target = await app({ mail: true, vars: budgetVars });
  const spent = await target.signedInUser("parallel-spent");
  const spare = await target.signedInUser("parallel-spare");
  const codes = {};
  for (const user of [spent, spare]) {
    assert.equal((await target.resetPassword(user.email)).status, 200);
    codes[user.email] = (await resetMails(target, user.email))[0].text.match(/code is (\d{6})/)[1];
  }
  const wrongs = (user, n) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        target.updatePassword({ email: user.email, otp: String((Number(codes[user.email]) + 1 + i) % 1e6).padStart(6, "0"), new_password: NEW_PASSWORD }),
      ),
    );
  // Three parallel wrong tries spend a budget of three; two leave one try.
  for (const r of await wrongs(spent, 3)) assertInvalidOtp(r);
  for (const r of await wrongs(spare, 2)) assertInvalidOtp(r);
  assertInvalidOtp(await target.updatePassword({ email: spent.email, otp: codes[spent.email], new_password: NEW_PASSWORD }));
  const ok = await target.updatePassword({ email: spare.email, otp: codes[spare.email], new_password: NEW_PASSWORD });
  assert.equal(ok.status, 200, ok.text);
});

test("at most OTP_MAX_CODES_PER_HOUR (5) codes are mailed to one account, even in parallel", async () => {
  const target = await app({ mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  const sequential = await target.signedInUser("cap");
  for (let i = 0; i < 7; i++) assert.equal((await target.resetPassword(sequential.email)).status, 200);
  const parallel = await target.signedInUser("cap-parallel");
  const answers = await Promise.all(Array.from({ length: 10 }, () => target.resetPassword(parallel.email)));
  assert.ok(answers.every((r) => r.status === 200 && r.body.message === "OTP sent successfully"));
  // Both caps' five mails go after the answers: wait for all ten (the sequential ones were read
  // after a fixed 500 ms, which a loaded machine can miss), then a grace for a sixth.
  await resetMails(target, sequential.email, { count: 5 });
  await resetMails(target, parallel.email, { count: 5 });
  await sleep(500);
  assert.equal((await resetMails(target, sequential.email, { count: 6, ms: 0 })).length, 5);
  assert.equal((await resetMails(target, parallel.email, { count: 6, ms: 0 })).length, 5);
});

test("a code used successfully ends the resend cooldown (forgot password again within a minute)", async () => {
  const target = await app({ mail: true }); // the shipped 60 s cooldown
  const user = await target.signedInUser("cooldown");
  assert.equal((await target.resetPassword(user.email)).status, 200);
  const code = await target.mailbox.codeFor(user.email);
  assert.equal((await target.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD })).status, 200);
  assert.equal((await target.resetPassword(user.email)).status, 200);
  const mails = await resetMails(target, user.email, { count: 2 });
  assert.equal(mails.length, 2, "the second request mailed a new code");
  const next = mails[1].text.match(/code is (\d{6})/)[1];
  assert.equal((await target.updatePassword({ email: user.email, otp: next, new_password: "and another passphrase" })).status, 200);
});
