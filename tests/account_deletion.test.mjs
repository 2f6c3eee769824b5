// DELETE /me: the account and everything it owns go, its tokens die at once, the address is told.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, STRONG_PASSWORD } from "./support/app.mjs";

const app = appsClosedAfter(after);

/** Rows anywhere in the database that belong to the account `id` or its `email`. */
async function rowsOwnedBy(target, id, email) {
  const db = await target.database();
  const count = async (sql, ...args) => (await db.prepare(sql).bind(...args).first()).n;
  return {
    users: await count("SELECT COUNT(*) AS n FROM users WHERE id = ?1 OR email = ?2", id, email),
    sessions: await count("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1", id),
    // The account's tokens, and any token left without its session.
    refresh_tokens: await count("SELECT COUNT(*) AS n FROM refresh_tokens t WHERE t.session_id IN (SELECT id FROM sessions WHERE user_id = ?1) OR NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.session_id)", id),
    // Emailed codes share one table: the reset code, and the verification and email-change ones.
    password_resets: await count("SELECT COUNT(*) AS n FROM email_codes WHERE user_id = ?1 AND purpose = 'reset'", id),
    email_codes: await count("SELECT COUNT(*) AS n FROM email_codes WHERE user_id = ?1 AND purpose <> 'reset'", id),
    code_events: await count("SELECT COUNT(*) AS n FROM code_events WHERE user_id = ?1", id),
    login_attempts: await count("SELECT COUNT(*) AS n FROM login_attempts WHERE email = ?1", email),
  };
}

const NOTHING = { users: 0, sessions: 0, refresh_tokens: 0, password_resets: 0, email_codes: 0, code_events: 0, login_attempts: 0 };

test("deleting the account removes every row it owns, ends its tokens at once, and mails a notice", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("leaver");
  const { id } = (await target.me(user.token)).body;
  const other = (await target.login(user.email, user.password)).body;
  await target.login(user.email, "a wrong password"); // a login-attempt count
  await target.resetPassword(user.email); // a reset code and its event
  await target.mailbox.codeFor(user.email);
  const before = await rowsOwnedBy(target, id, user.email);
  assert.ok(before.users && before.sessions && before.refresh_tokens && before.password_resets && before.email_codes && before.code_events && before.login_attempts, JSON.stringify(before));

  const deleted = await target.deleteMe(user.token, user.password);
  assert.equal(deleted.status, 200, deleted.text);
  assert.deepEqual(deleted.body, { message: "Account deleted" });
  assert.deepEqual(await rowsOwnedBy(target, id, user.email), NOTHING);
  for (const token of [user.token, other.token]) assert.equal((await target.me(token)).status, 401);
  for (const refresh of [user.refresh, other.refresh]) assert.equal((await target.refresh(refresh)).status, 401);
  assert.equal((await target.login(user.email, user.password)).status, 401);
  const [notice] = await target.mailbox.to(user.email, { subject: /account was deleted/ });
  assert.match(notice.text, /wasn't you/);
  assert.equal((await target.register({ email: user.email, password: STRONG_PASSWORD })).status, 201, "the address is free again");
});

test("a wrong or missing password, or a bad token, deletes nothing", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("stayer");
  const wrong = await target.deleteMe(user.token, "not my password");
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error, "invalid_password");
  const missing = await target.request("DELETE", "/me", { token: user.token, json: {} });
  assert.deepEqual([missing.status, missing.body.fields], [400, { password: "missing" }]);
  const noBody = await target.request("DELETE", "/me", { token: user.token });
  assert.equal(noBody.status, 400);
  assert.equal((await target.deleteMe(undefined, user.password)).status, 401);
  assert.equal((await target.deleteMe("bad.token.here", user.password)).status, 401);
  assert.equal((await target.me(user.token)).status, 200);
});

test("a delete racing a refresh leaves no working token and no session row", async () => {
  const target = await app({ mail: true });
  for (let round = 0; round < 3; round++) {
    const user = await target.signedInUser(`race${round}`);
    const { id } = (await target.me(user.token)).body;
    const [deleted, refreshed] = await Promise.all([target.deleteMe(user.token, user.password), target.refresh(user.refresh)]);
    assert.equal(deleted.status, 200, deleted.text);
    assert.ok([200, 401].includes(refreshed.status));
    if (refreshed.status === 200) {
      assert.equal((await target.me(refreshed.body.token)).status, 401, "the token the refresh won dies with the account");
      assert.equal((await target.refresh(refreshed.body.refresh)).status, 401);
    }
    assert.deepEqual(await rowsOwnedBy(target, id, user.email), NOTHING);
  }
});

test("another user's data is untouched", async () => {
  const target = await app({ mail: true });
  const leaver = await target.signedInUser("leaves");
  const stayer = await target.signedInUser("stays");
  assert.equal((await target.deleteMe(leaver.token, leaver.password)).status, 200);
  assert.equal((await target.me(stayer.token)).status, 200);
  assert.equal((await target.refresh(stayer.refresh)).status, 200);
});
