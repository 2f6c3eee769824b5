// Password reset by emailed OTP, through a local server standing in for Resend.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnApp, uniqueEmail } from "./support/app.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const NEW_PASSWORD = "a brand new passphrase";

let app;
before(async () => {
  // No cooldown here, so tests can ask for several codes; the cooldown has its own app below.
  // No cooldown and no hourly mail cap here: these tests ask for many codes in a row (the cap has
  // its own tests in code_budgets.test.mjs).
  app = await spawnApp({ mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_CODES_PER_HOUR: "1000" } });
});
after(() => app?.close());

async function requestCode(target, email, count = 1) {
  const response = await target.resetPassword(email);
  assert.equal(response.status, 200, response.text);
  assert.deepEqual(response.body, { message: "OTP sent successfully" });
  return target.mailbox.codeFor(email, { count });
}

function assertInvalidOtp(response) {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual(response.body, { message: "Invalid or expired OTP", error: "invalid_otp" });
}

test("the code arrives by mail, works once, and the new password replaces the old", async () => {
  const user = await app.signedInUser("reset");
  const code = await requestCode(app, user.email);
  const [mail] = await app.mailbox.to(user.email, { subject: /reset code/ });
  assert.equal(mail.authorization, "Bearer re_test_key");
  assert.deepEqual(mail.to, [user.email]);
  assert.match(mail.from, /@/);
  for (const body of [mail.text, mail.html]) {
    assert.ok(body.includes(code));
    assert.match(body, /5 minutes/);
    assert.match(body, /did not ask/);
  }

  const updated = await app.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD });
  assert.equal(updated.status, 200, updated.text);
  assert.deepEqual(updated.body, { message: "Password updated successfully" }, "no tokens");

  assertInvalidOtp(await app.updatePassword({ email: user.email, otp: code, new_password: "yet another passphrase" }));
  assert.equal((await app.login(user.email, user.password)).status, 401, "the old password is dead");
  assert.equal((await app.login(user.email, NEW_PASSWORD)).status, 200);

  const [notice] = await app.mailbox.to(user.email, { subject: /^Your password was changed$/ });
  assert.match(notice.text, /If this wasn't you/);
});

test("a code mailed before reset codes moved into the one code table still works after the migration, its tries carried", async () => {
  const user = await app.signedInUser("carried");
  const code = await requestCode(app, user.email);
  assertInvalidOtp(await app.updatePassword({ email: user.email, otp: code === "000000" ? "111111" : "000000", new_password: NEW_PASSWORD }));
  const db = await app.database();
  // The schema before migrations/0012: reset codes in a table of their own (migrations/0001).
  await db.prepare(`CREATE TABLE password_resets (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE, code_hash TEXT NOT NULL,
    issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, wrong_attempts INTEGER NOT NULL DEFAULT 0, used_by TEXT)`).run();
  await db.prepare("INSERT INTO password_resets SELECT user_id, code_hash, issued_at, expires_at, wrong_attempts, used_by FROM email_codes WHERE purpose = 'reset'").run();
  await db.prepare("DELETE FROM email_codes WHERE purpose = 'reset'").run();
  // The deploy's migration, as wrangler applies it.
  const migration = readFileSync(new URL("../migrations/0012_one_code_table.sql", import.meta.url), "utf8")
    .split("\n").map((line) => line.replace(/--.*$/, "")).join("\n");
  for (const statement of migration.split(";").map((s) => s.trim()).filter(Boolean)) await db.prepare(statement).run();
  const row = await db.prepare("SELECT e.wrong_attempts AS tries FROM email_codes e JOIN users u ON u.id = e.user_id WHERE u.email = ?1 AND e.purpose = 'reset'").bind(user.email).first();
  assert.equal(row.tries, 1, "the wrong try came along");

  const updated = await app.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD });
  assert.equal(updated.status, 200, updated.text);
  assert.equal((await app.login(user.email, NEW_PASSWORD)).status, 200);
});

test("every session and token dies after a reset", async () => {
  const user = await app.signedInUser("sessions");
  const other = (await app.login(user.email, user.password)).body;
  const code = await requestCode(app, user.email);
  assert.equal((await app.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD })).status, 200);
  for (const session of [user, other]) {
    assert.equal((await app.me(session.token)).status, 401);
    assert.equal((await app.refresh(session.refresh)).status, 401);
  }
});

test("the response is the same for unknown emails, and they get no mail", async () => {
  const known = await app.signedInUser("known");
  const unknownEmail = uniqueEmail("ghost");
  const a = await app.resetPassword(known.email);
  const b = await app.resetPassword(unknownEmail);
  assert.equal(a.status, b.status);
  assert.equal(a.text, b.text);
  const headerNames = (r) => [...r.headers.keys()].filter((k) => k !== "date").sort().join();
  assert.equal(headerNames(a), headerNames(b));
  await app.mailbox.to(known.email, { subject: /reset code/ });
  await sleep(300);
  assert.equal((await app.mailbox.to(unknownEmail, { ms: 0 })).length, 0);
  assertInvalidOtp(await app.updatePassword({ email: unknownEmail, otp: "123456", new_password: NEW_PASSWORD }));
});

test("a new code voids the previous one", async () => {
  const user = await app.signedInUser("newest");
  const first = await requestCode(app, user.email, 1);
  let second = await requestCode(app, user.email, 2);
  while (second === first) second = await requestCode(app, user.email, 3); // one in a million
  assertInvalidOtp(await app.updatePassword({ email: user.email, otp: first, new_password: NEW_PASSWORD }));
  assert.equal((await app.updatePassword({ email: user.email, otp: second, new_password: NEW_PASSWORD })).status, 200);
});

test("a code is bound to its account", async () => {
  const alice = await app.signedInUser("alice");
  const bob = await app.signedInUser("bob");
  const code = await requestCode(app, alice.email);
  await requestCode(app, bob.email);
  assertInvalidOtp(await app.updatePassword({ email: bob.email, otp: code, new_password: NEW_PASSWORD }));
  assert.equal((await app.login(bob.email, bob.password)).status, 200);
});

test("the sixth try is refused even with the right digits", async () => {
  const user = await app.signedInUser("attempts");
  const code = await requestCode(app, user.email);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  for (let i = 0; i < 5; i++) {
    assertInvalidOtp(await app.updatePassword({ email: user.email, otp: wrong, new_password: NEW_PASSWORD }));
  }
  assertInvalidOtp(await app.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD }));
  assert.equal((await app.login(user.email, user.password)).status, 200, "the password is unchanged");
});

test("malformed codes count as wrong tries", async () => {
  const user = await app.signedInUser("malformed");
  const code = await requestCode(app, user.email);
  for (const otp of ["abcdef", "1234567", 1_000_000, "12 345"]) {
    assertInvalidOtp(await app.updatePassword({ email: user.email, otp, new_password: NEW_PASSWORD }));
  }
  assert.equal((await app.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD })).status, 200, "four wrong, the fifth try is the right one");
});

test("ten concurrent submissions of the right code: exactly one 200", async () => {
  const user = await app.signedInUser("race");
  const code = await requestCode(app, user.email);
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      app.updatePassword({ email: user.email, otp: code, new_password: `${NEW_PASSWORD} ${i}` }),
    ),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join());
  assert.equal(statuses.filter((s) => s === 400).length, 9, statuses.join());
  const winner = results.findIndex((r) => r.status === 200);
  assert.equal((await app.login(user.email, `${NEW_PASSWORD} ${winner}`)).status, 200);
});

test("a numeric OTP that lost its leading zero still works", async () => {
  const user = await app.signedInUser("zero");
  let code = await requestCode(app, user.email);
  for (let n = 2; !code.startsWith("0"); n++) {
    assert.ok(n <= 200, "no code with a leading zero in 200 tries");
    code = await requestCode(app, user.email, n);
  }
  const response = await app.updatePassword({ email: user.email, otp: Number.parseInt(code, 10), new_password: NEW_PASSWORD });
  assert.equal(response.status, 200, `${code}: ${response.text}`);
});

test("the new password obeys the registration policy", async () => {
  const user = await app.signedInUser("policy");
  const code = await requestCode(app, user.email);
  for (const [new_password, reason] of [["short", "too_short"], ["password1", "too_common"], ["x".repeat(129), "too_long"]]) {
    const response = await app.updatePassword({ email: user.email, otp: code, new_password });
    assert.equal(response.status, 400);
    assert.equal(response.body.error, "validation_failed");
    assert.equal(response.body.fields.new_password, reason);
  }
  assert.equal((await app.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD })).status, 200, "policy refusals did not burn the code");
});

test("an expired code fails", async () => {
  const short = await spawnApp({ mail: true, vars: { OTP_TTL_SECONDS: "1" } });
  try {
    const user = await short.signedInUser("expired");
    const code = await requestCode(short, user.email);
    await sleep(2_100);
    assertInvalidOtp(await short.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD }));
  } finally {
    await short.close();
  }
});

test("the cooldown sends one mail for two requests", async () => {
  const cool = await spawnApp({ mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "60" } });
  try {
    const user = await cool.signedInUser("cooldown");
    const [a, b] = [await cool.resetPassword(user.email), await cool.resetPassword(user.email)];
    assert.equal(a.text, b.text);
    const code = await cool.mailbox.codeFor(user.email);
    await sleep(400);
    assert.equal((await cool.mailbox.to(user.email, { ms: 0, subject: /reset code/ })).length, 1);
    assert.equal((await cool.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD })).status, 200, "the first code still works");
  } finally {
    await cool.close();
  }
});

test("a failing mail provider never changes the response", async () => {
  const user = await app.signedInUser("down");
  app.mailbox.failWith(503);
  try {
    const response = await app.resetPassword(user.email);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { message: "OTP sent successfully" });
  } finally {
    app.mailbox.failWith(null);
  }
});

test("a reset clears the login lockout", async () => {
  const locked = await spawnApp({ mail: true, vars: { LOGIN_MAX_FAILURES: "2", OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  try {
    const user = await locked.signedInUser("lockout");
    await locked.login(user.email, "wrong one");
    await locked.login(user.email, "wrong two");
    assert.equal((await locked.login(user.email, user.password)).status, 429);
    const code = await requestCode(locked, user.email);
    assert.equal((await locked.updatePassword({ email: user.email, otp: code, new_password: NEW_PASSWORD })).status, 200, "reset works while locked");
    assert.equal((await locked.login(user.email, NEW_PASSWORD)).status, 200);
  } finally {
    await locked.close();
  }
});
