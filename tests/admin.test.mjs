// The operator's admin API as its backend sees it (an admin key as the bearer), and each action's
// effect as the account's own client sees it; the security event trail of a whole flow, in
// order, with no secret in any row.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { totpCode, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);
const OPS_KEY = "ops-key-0123456789-abcdefghijklmnop";
const CI_KEY = "ci-key-0123456789-abcdefghijklmnopq";
const ADMIN = { ADMIN_API_KEYS: `ops:${OPS_KEY}, ci:${CI_KEY}` };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function admin(target, method, path, { json, key = OPS_KEY } = {}) {
  return target.request(method, path, { json, headers: { Authorization: `Bearer ${key}` } });
}

/** The account id of `email`, as the admin list finds it. */
async function idOf(target, email) {
  const found = await admin(target, "GET", `/admin/users?email_prefix=${encodeURIComponent(email)}`);
  assert.equal(found.status, 200, found.text);
  return found.body.users.find((u) => u.email === email)?.id;
}

/**
 * The trail of account `id` once `count` events are in (they are stored after the answer): waits
 * for that condition, up to a deadline far beyond any load (it was 5 s), then answers what is there.
 */
async function trail(target, id, count) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const page = await admin(target, "GET", `/admin/users/${id}/events?limit=100`);
    if (page.body.events.length >= count || Date.now() > deadline) return page.body.events;
    await sleep(100);
  }
}

/** Waits until the trail of account `id` holds each of `kinds` (as many times as listed); fails after 30 s. */
async function trailHolding(target, id, kinds) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const have = (await admin(target, "GET", `/admin/users/${id}/events?limit=100`)).body.events.map((e) => e.type);
    const missing = [...kinds];
    for (const kind of have) {
      const at = missing.indexOf(kind);
      if (at >= 0) missing.splice(at, 1);
    }
    if (missing.length === 0) return;
    if (Date.now() > deadline) assert.fail(`the trail lacks ${missing.join(", ")} (has ${have.join(", ")})`);
    await sleep(100);
  }
}

test("no admin key, a wrong one, or a user's token: refused; without ADMIN_API_KEYS the routes do not exist", async () => {
  const target = await app({ mail: true, vars: ADMIN });
  const user = await target.signedInUser("notadmin");
  assert.equal((await target.request("GET", "/admin/users")).status, 401);
  assert.equal((await admin(target, "GET", "/admin/users", { key: `${OPS_KEY}x` })).status, 401);
  assert.equal((await admin(target, "GET", "/admin/users", { key: user.token })).status, 401, "a user's token is no admin key");
  assert.equal((await admin(target, "GET", "/admin/users", { key: CI_KEY })).status, 200, "any configured key");
  const listed = await admin(target, "GET", "/admin/users");
  assert.ok(listed.body.users.some((u) => u.email === user.email));
  const line = target.logs().find((l) => l.route === "/admin/users" && l.status === 200);
  assert.ok(line.admin_key === "ops" || line.admin_key === "ci", "the log names the key by its id");
  assert.ok(!JSON.stringify(target.logs()).includes(OPS_KEY), "never the key itself");
  // No CORS preflight: no page may call the admin API cross-origin, key or not.
  const preflight = await target.request("OPTIONS", "/admin/users", { headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" } });
  assert.equal(preflight.status, 404);
  const off = await app({});
  assert.equal((await admin(off, "GET", "/admin/users")).status, 404);
  const bad = await app({ vars: { ADMIN_API_KEYS: "ops:short" } });
  const misconfigured = await admin(bad, "GET", "/admin/users");
  assert.deepEqual([misconfigured.status, misconfigured.body.variable], [500, "ADMIN_API_KEYS"]);
  assert.equal((await bad.health()).status, 200, "only the admin routes fail");
});

test("create with or without a password, list with filters a page at a time, get, edit", async () => {
  const target = await app({ mail: true, vars: ADMIN });
  const prefix = `adm${Date.now()}`;
  const emails = [1, 2, 3].map((n) => `${prefix}-${n}@example.com`);
  const made = await admin(target, "POST", "/admin/users", { json: { email: emails[0], password: STRONG_PASSWORD, name: "One", email_verified: true } });
  assert.equal(made.status, 201, made.text);
  assert.deepEqual([made.body.user.email, made.body.user.name, made.body.user.email_verified, made.body.user.has_password], [emails[0], "One", true, true]);
  assert.equal((await target.login(emails[0], STRONG_PASSWORD)).status, 200, "its password signs in");
  const passwordless = await admin(target, "POST", "/admin/users", { json: { email: emails[1], send_verification: true } });
  assert.deepEqual([passwordless.status, passwordless.body.user.has_password, passwordless.body.user.email_verified], [201, false, false]);
  assert.ok(await target.mailbox.codeFor(emails[1], { kind: "verification" }), "a verification code was mailed");
  assert.equal((await admin(target, "POST", "/admin/users", { json: { email: emails[2] } })).status, 201);
  const twice = await admin(target, "POST", "/admin/users", { json: { email: emails[0] } });
  assert.deepEqual([twice.status, twice.body.error], [409, "user_exists"]);
  const invalid = await admin(target, "POST", "/admin/users", { json: { email: "nope", password: "short" } });
  assert.deepEqual([invalid.status, invalid.body.fields], [400, { email: "invalid", password: "too_short" }]);

  const first = await admin(target, "GET", `/admin/users?email_prefix=${prefix}&limit=2`);
  assert.deepEqual(first.body.users.map((u) => u.email), emails.slice(0, 2));
  assert.ok(first.body.next_cursor);
  const second = await admin(target, "GET", `/admin/users?email_prefix=${prefix}&limit=2&cursor=${first.body.next_cursor}`);
  assert.deepEqual([second.body.users.map((u) => u.email), second.body.next_cursor], [emails.slice(2), null]);
  const verified = await admin(target, "GET", `/admin/users?email_prefix=${prefix}&verified=true`);
  assert.deepEqual(verified.body.users.map((u) => u.email), [emails[0]]);
  const later = await admin(target, "GET", `/admin/users?email_prefix=${prefix}&created_after=2999-01-01T00:00:00Z`);
  assert.deepEqual(later.body.users, []);
  const refused = await admin(target, "GET", "/admin/users?limit=0&verified=maybe");
  assert.deepEqual([refused.status, refused.body.fields], [400, { limit: "invalid", verified: "invalid" }]);

  const id = made.body.user.id;
  const one = await admin(target, "GET", `/admin/users/${id}`);
  assert.deepEqual(one.body.user.factors, { totp: false, recovery_codes_left: 0, passkeys: 0 });
  assert.deepEqual([one.body.user.providers, one.body.user.live_sessions], [[], 1]);
  assert.ok(one.body.user.last_sign_in_at);
  assert.equal((await admin(target, "GET", "/admin/users/999999")).status, 404);
  assert.equal((await admin(target, "GET", "/admin/users/abc")).status, 404);

  const renamed = await admin(target, "PATCH", `/admin/users/${id}`, { json: { name: "Renamed", email: `${prefix}-moved@example.com` } });
  assert.equal(renamed.status, 200, renamed.text);
  assert.deepEqual([renamed.body.user.name, renamed.body.user.email, renamed.body.user.email_verified], ["Renamed", `${prefix}-moved@example.com`, false]);
  assert.equal((await target.login(`${prefix}-moved@example.com`, STRONG_PASSWORD)).status, 200, "signs in with the new address");
  const taken = await admin(target, "PATCH", `/admin/users/${id}`, { json: { email: emails[1] } });
  assert.deepEqual([taken.status, taken.body.error], [409, "email_taken"]);
  const reverified = await admin(target, "PATCH", `/admin/users/${id}`, { json: { email_verified: true, name: null } });
  assert.deepEqual([reverified.body.user.email_verified, reverified.body.user.name], [true, null]);
  assert.equal((await admin(target, "PATCH", `/admin/users/${id}`, { json: {} })).status, 400);
});

test("a disabled account is signed out at once and cannot sign in or refresh until enabled", async () => {
  const target = await app({ mail: true, vars: ADMIN });
  const user = await target.signedInUser("disabled");
  const id = await idOf(target, user.email);
  const refused = await admin(target, "POST", `/admin/users/${id}/disable`, { json: { until: "2001-01-01T00:00:00Z" } });
  assert.deepEqual([refused.status, refused.body.fields], [400, { reason: "missing", until: "invalid" }]);
  const disabled = await admin(target, "POST", `/admin/users/${id}/disable`, { json: { reason: "chargeback review" } });
  assert.equal(disabled.status, 200, disabled.text);
  assert.deepEqual([disabled.body.user.disabled.reason, disabled.body.user.disabled.until, disabled.body.user.live_sessions], ["chargeback review", null, 0]);
  assert.equal((await target.me(user.token)).status, 401, "its access token stops at once");
  assert.equal((await target.refresh(user.refresh)).status, 401, "and its refresh token");
  const login = await target.login(user.email, user.password);
  assert.deepEqual([login.status, login.body.error], [403, "account_disabled"]);
  assert.equal((await target.login(user.email, "a wrong password")).status, 401, "a wrong password learns nothing more");
  const listed = await admin(target, "GET", `/admin/users?email_prefix=${encodeURIComponent(user.email)}&disabled=true`);
  assert.deepEqual(listed.body.users.map((u) => u.id), [id]);
  const enabled = await admin(target, "POST", `/admin/users/${id}/enable`);
  assert.equal(enabled.body.user.disabled, null);
  assert.equal((await target.login(user.email, user.password)).status, 200);
  // With an end: disabled until then, and signed in again after it without an enable. A login
  // answered before the end must be refused; one answered after it (a slow machine) proves
  // nothing, so the disable is done again with a longer end.
  let until;
  for (let window = 2_500; ; window *= 2) {
    assert.ok(window <= 40_000, "the machine is too slow for a 40 s disable to outlast one login");
    until = Date.now() + window;
    assert.equal((await admin(target, "POST", `/admin/users/${id}/disable`, { json: { reason: "cool-off", until: new Date(until).toISOString() } })).status, 200);
    const refused = await target.login(user.email, user.password);
    if (Date.now() < Math.floor(until / 1000) * 1000) { // the server may count whole seconds
      assert.equal(refused.status, 403);
      break;
    }
  }
  await sleep(until - Date.now() + 1_000);
  assert.equal((await target.login(user.email, user.password)).status, 200, "after its end the account signs in");
});

test("recovery: second factors removed (the user told), every session ended, a reset code mailed; delete", async () => {
  const target = await app({ mail: true, vars: ADMIN });
  const user = await target.userWithFactor("lostphone", totpCode, awayFromStepEdge);
  const id = await idOf(target, user.email);
  assert.equal((await target.login(user.email, user.password)).body.mfa_required, true);
  const removed = await admin(target, "DELETE", `/admin/users/${id}/factors`);
  assert.deepEqual(removed.body, { message: "Second factors removed", totp_removed: true, passkeys_removed: 0 });
  const [told] = await target.mailbox.to(user.email, { subject: /Support removed your second factor/ });
  assert.ok(told, "the user is told by mail");
  const signedIn = await target.login(user.email, user.password);
  assert.ok(signedIn.body.token, "a password alone signs in again");
  assert.equal((await admin(target, "DELETE", `/admin/users/${id}/factors?passkeys=maybe`)).status, 400);

  const ended = await admin(target, "DELETE", `/admin/users/${id}/sessions`);
  assert.equal(ended.body.message, "Sessions ended");
  assert.ok(ended.body.ended >= 2);
  assert.equal((await target.me(signedIn.body.token)).status, 401);

  const reset = await admin(target, "POST", `/admin/users/${id}/password-reset`);
  assert.deepEqual(reset.body, { message: "Reset code requested", mailed: true });
  const code = await target.mailbox.codeFor(user.email);
  const updated = await target.request("POST", "/update-password", { json: { email: user.email, otp: code, new_password: `${STRONG_PASSWORD} new` } });
  assert.equal(updated.status, 200, updated.text);

  // Each request above stores its events after its answer; one landing after the deletion would
  // stay in the trail. Wait until every one of them is in (by kind), then delete.
  await trailHolding(target, id, ["account.created", "email.verified", "sign_in.succeeded", "factor.added", "factor.removed", "sign_in.succeeded", "session.ended", "password.reset_mailed", "password.reset"]);
  const deleted = await admin(target, "DELETE", `/admin/users/${id}`);
  assert.deepEqual(deleted.body, { message: "User deleted" });
  assert.equal((await target.login(user.email, `${STRONG_PASSWORD} new`)).status, 401);
  assert.equal((await admin(target, "GET", `/admin/users/${id}`)).status, 404);
  assert.equal((await admin(target, "DELETE", `/admin/users/${id}`)).status, 404);
  const events = await trail(target, id, 1);
  assert.deepEqual(events.map((e) => [e.type, e.actor, e.client]), [["account.deleted", "admin:ops", null]], "only the deletion stays, without client data");
});

test("the trail of a whole flow: each event in order, by whom, with no secret in any row", async () => {
  const target = await app({ mail: true, vars: { ...ADMIN, REFRESH_REUSE_GRACE_SECONDS: "0" } });
  const email = uniqueEmail("trail");
  const password = STRONG_PASSWORD;
  assert.equal((await target.register({ email, password })).status, 201);
  const code = await target.mailbox.codeFor(email, { kind: "verification" });
  assert.equal((await target.verifyEmail(email, code)).status, 200);
  assert.equal((await target.login(email, "wrong password here")).status, 401);
  const login = await target.request("POST", "/login", { json: { email, password }, headers: { "User-Agent": "TrailBrowser/1.0" } });
  const token = login.body.token;
  const newPassword = `${password} changed`;
  assert.equal((await target.request("POST", "/change-password", { token, json: { current_password: password, new_password: newPassword } })).status, 200);
  const refreshed = await target.refresh(login.body.refresh);
  assert.equal(refreshed.status, 200);
  await sleep(1_100);
  assert.equal((await target.refresh(login.body.refresh)).status, 401, "a spent token after the grace window");
  const id = await idOf(target, email);
  await admin(target, "POST", `/admin/users/${id}/disable`, { json: { reason: "test" } });
  const expected = [
    ["account.disabled", "admin:ops"],
    ["session.refresh_reuse_detected", "user"],
    ["password.changed", "user"],
    ["sign_in.succeeded", "user"],
    ["sign_in.failed", "user"],
    ["email.verified", "user"],
    ["account.created", "user"],
  ];
  const events = await trail(target, id, expected.length);
  assert.deepEqual(events.map((e) => [e.type, e.actor]), expected, "newest first");
  assert.deepEqual(events.find((e) => e.type === "sign_in.failed").detail, { reason: "password" });
  const signedIn = events.find((e) => e.type === "sign_in.succeeded");
  assert.equal(signedIn.detail.method, "password");
  assert.equal(signedIn.user_agent, "TrailBrowser/1.0");
  assert.equal(events.find((e) => e.type === "account.disabled").detail.reason, "test");
  // The account's own view: the same events (its session ended when it was disabled, so another).
  await admin(target, "POST", `/admin/users/${id}/enable`);
  const again = await target.login(email, newPassword);
  const own = await target.request("GET", "/me/events?limit=3", { token: again.body.token });
  assert.equal(own.status, 200, own.text);
  assert.equal(own.body.events.length, 3);
  const older = await target.request("GET", `/me/events?limit=100&cursor=${own.body.next_cursor}`, { token: again.body.token });
  assert.ok(older.body.events.length >= expected.length - 2);
  assert.equal((await target.request("GET", "/me/events")).status, 401);
  // Everyone's, for the operator.
  const all = await admin(target, "GET", "/admin/events?limit=5");
  assert.ok(all.body.events.every((e) => typeof e.user_id === "number"));
  // No secret anywhere in the table: passwords, the code, tokens.
  const rows = await (await target.database()).prepare("SELECT * FROM security_events").all();
  const stored = JSON.stringify(rows.results);
  for (const secret of [password, newPassword, "wrong password here", code, token, login.body.refresh, refreshed.body.refresh, OPS_KEY]) {
    assert.ok(!stored.includes(secret), `no ${secret.slice(0, 6)}… in the trail`);
  }
});
