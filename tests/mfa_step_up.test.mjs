// A second factor means step-up: sensitive changes ask for a current code, factor changes are
// atomic and end other sessions, and an mfa_token is bound to the login that made it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail } from "./support/app.mjs";
import { totpCode as code, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);

/** A verified, signed-in user with the factor on: its secret and recovery codes. */
const userWithFactor = (target, tag) => target.userWithFactor(tag, code, awayFromStepEdge);

async function mfaLogin(target, user, value, { ip, headers } = {}) {
  const first = await target.request("POST", "/login", { json: { email: user.email, password: user.password }, ip, headers });
  assert.equal(first.body.mfa_required, true, first.text);
  return target.request("POST", "/login/mfa", { json: { mfa_token: first.body.mfa_token, code: value }, ip, headers });
}

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
