// The hourly cleanup (the `scheduled` handler): what ended goes, what can still matter stays.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp, uniqueEmail } from "./support/app.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let app;
before(async () => {
  app = await spawnApp({
    mail: true,
    vars: { OTP_TTL_SECONDS: "1", OTP_RESEND_COOLDOWN_SECONDS: "0", LOGIN_MAX_FAILURES: "2", LOGIN_LOCKOUT_SECONDS: "1" },
  });
});
after(() => app?.close());

async function count(sql, ...args) {
  const row = await (await app.database()).prepare(sql).bind(...args).first();
  return row.n;
}

test("the cleanup deletes ended sessions, spent codes and expired lockouts, and nothing live", async () => {
  const user = await app.signedInUser("cleanup");
  const live = (await app.login(user.email, user.password)).body;
  const rotated = await app.refresh(live.refresh); // the live session now has a spent and a current token
  assert.equal(rotated.status, 200);
  assert.equal((await app.logout(user.token)).status, 200); // the first session ended

  assert.equal((await app.resetPassword(user.email)).status, 200);
  await app.mailbox.codeFor(user.email);
  const locked = uniqueEmail("locked");
  await app.login(locked, "wrong");
  await app.login(locked, "wrong");
  const idle = uniqueEmail("idle");
  await app.login(idle, "wrong");
  await sleep(1_500); // the code expires, the lockout ends

  const sessionsBefore = await count("SELECT COUNT(*) AS n FROM sessions");
  await (await app.mf.getWorker()).scheduled({ cron: "17 * * * *" });

  assert.equal(await count("SELECT COUNT(*) AS n FROM sessions"), sessionsBefore - 1, "only the ended session went");
  assert.equal(await count("SELECT COUNT(*) AS n FROM refresh_tokens t LEFT JOIN sessions s ON s.id = t.session_id WHERE s.id IS NULL"), 0, "no orphan tokens");
  assert.equal(await count("SELECT COUNT(*) AS n FROM email_codes WHERE purpose = 'reset'"), 0, "the expired code went");
  assert.equal(await count("SELECT COUNT(*) AS n FROM login_attempts WHERE email = ?1", locked), 0, "the ended lockout went, with its account-wide count");
  assert.equal(await count("SELECT COUNT(*) AS n FROM login_attempts WHERE email = ?1 AND client <> '*'", idle), 1, "a recent count stays");
  assert.equal(await count("SELECT COUNT(*) AS n FROM login_attempts WHERE email = ?1 AND client = '*'", idle), 0, "an account-wide count whose window is over went");
  assert.equal(await count("SELECT COUNT(*) AS n FROM email_codes WHERE purpose <> 'reset'"), 0, "the expired verification codes went");
  assert.equal(await count("SELECT COUNT(*) AS n FROM code_events e JOIN users u ON u.id = e.user_id WHERE u.email = ?1 AND e.purpose = 'reset'", user.email), 1, "the mailed code still counts toward the hourly cap");

  // The live session still works end to end.
  assert.equal((await app.me(rotated.body.token)).status, 200);
  assert.equal((await app.refresh(rotated.body.refresh)).status, 200);
  assert.equal((await app.me(user.token)).status, 401, "the ended session's token stays refused");
});
