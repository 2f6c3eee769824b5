// D1 cost per request stays constant as the tables grow: every route is driven on a database seeded
// with 1,000 users and on one with 10,000 (each with a session, refresh tokens, a reset code, login
// counts and code events), and the rows read that the worker's log reports must be the same on
// both (within two rows: an index range ends at the next key, which depends on the random emails
// around it), and within the bound stated for each route (README, "D1 cost per request").
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { totpCode, awayFromStepEdge } from "./support/totp.mjs";

const SEEDED_USERS = 10_000;
const FEWER_USERS = 1_000;
/** The most rows a request of each kind may read (README, "D1 cost per request"). */
const MAX_ROWS_READ = {
  "POST /register": 12, // the account, its verification code and the code's mail cap
  "POST /login (wrong password)": 8,
  "POST /login": 20,
  "GET /me": 4,
  "PUT /update-profile": 4,
  "POST /refresh": 12,
  "POST /reset-password": 12,
  // With the candidate hashes of the code (json_each: 2 per key), and the first proof's clean-up
  // (db/first_proof.rs): one index probe for each of the 8 tables it clears, right code or wrong.
  "POST /update-password (wrong code)": 44,
  "POST /update-password": 60, // the right code: the clean-up also reads the account (3 rows a table)
  "POST /logout": 6,
  "POST /logout?scope=all": 8, // 1 + 2 per session of the user (3 here), whatever the table holds
  "GET /health": 0,
  "GET /.well-known/jwks.json": 0,
  "POST /verify-email (wrong code)": 32, // the first proof's clean-up too, as above
  "POST /verify-email": 44, // the right code: the clean-up also reads the account
  "POST /resend-verification": 10,
  "GET /sessions": 8, // 1 + 2 per live session of the user (3 here), at most 100 listed
  "DELETE /sessions/{id}": 6,
  "POST /change-password": 24,
  "POST /change-email": 24,
  "POST /confirm-email-change": 30,
  "POST /mfa/totp/enroll": 24,
  "POST /mfa/totp/confirm": 48, // 10 recovery codes written, the other sessions ended
  "POST /login (second factor on)": 12,
  "POST /login/mfa": 30,
  "POST /mfa/totp/disable": 72, // 10 recovery codes deleted, the other sessions ended
  "DELETE /me": 115, // grows with the rows the user owns (3 sessions, 7 tokens, codes, a dozen security events here), never with the tables
};

/**
 * How many rows a route's reads may differ by between the two databases without growing with them
 * (2 unless named): each index range a statement reads ends on the next key, which is there or
 * not depending on where random values (session ids, emails) sort among the seeded ones. `DELETE
 * /me` ends such a range once per session of the user (3 here: its refresh tokens by session id)
 * and once per keyed-by-email table; a run saw 107 and 111. A scan would read thousands more.
 */
const NEIGHBOUR_ROWS = { "DELETE /me": 6 };

const app = appsClosedAfter(after);

async function seed(db, users) {
  const now = Math.floor(Date.now() / 1000);
  const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${users})`;
  for (const sql of [
    `${series} INSERT INTO users (email, password_hash, name, created_at, updated_at)
       SELECT 'seed-' || i || '@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2VlZHNlZWRzZWVk$' || i, 'Seed ' || i, ${now}, ${now} FROM n`,
    `INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at)
       SELECT 'seed-session-' || id, id, ${now}, ${now + 86_400}, CASE WHEN id % 10 = 0 THEN ${now} END FROM users`,
    `INSERT INTO refresh_tokens (digest, session_id, issued_at, rotated_at)
       SELECT 'seed-digest-a-' || id, 'seed-session-' || id, ${now}, ${now} FROM users`,
    `INSERT INTO refresh_tokens (digest, session_id, issued_at, rotated_at)
       SELECT 'seed-digest-b-' || id, 'seed-session-' || id, ${now}, NULL FROM users`,
    `INSERT INTO email_codes (user_id, purpose, code_hash, new_email, issued_at, expires_at, wrong_attempts, used_by)
       SELECT id, 'reset', 'seed-code-' || id, NULL, ${now}, ${now + 300}, 1, NULL FROM users`,
    `INSERT INTO code_events (user_id, purpose, kind, at) SELECT id, 'reset', 'sent', ${now} FROM users`,
    `INSERT INTO code_events (user_id, purpose, kind, at) SELECT id, 'reset', 'wrong', ${now} FROM users`,
    `INSERT INTO email_codes (user_id, purpose, code_hash, new_email, issued_at, expires_at, wrong_attempts, used_by)
       SELECT id, 'verify', 'seed-verify-' || id, NULL, ${now}, ${now + 300}, 1, NULL FROM users`,
    `INSERT INTO email_codes (user_id, purpose, code_hash, new_email, issued_at, expires_at, wrong_attempts, used_by)
       SELECT id, 'change', 'seed-change-' || id, 'seed-new-' || id || '@example.com', ${now}, ${now + 300}, 0, NULL FROM users`,
    `INSERT INTO code_events (user_id, purpose, kind, at) SELECT id, 'verify', 'wrong', ${now} FROM users`,
    `INSERT INTO login_attempts (email, client, attempts, locked_until, window_started_at, last_attempt_at)
       SELECT email, '203.0.113.7', 3, NULL, ${now}, ${now} FROM users`,
    `INSERT INTO login_attempts (email, client, attempts, locked_until, window_started_at, last_attempt_at)
       SELECT email, '*', 3, NULL, ${now}, ${now} FROM users`,
  ]) {
    await db.prepare(sql).run();
  }
  const { n } = await db.prepare("SELECT COUNT(*) AS n FROM users").first();
  assert.equal(n, users);
}

/** Polls `check` until it returns a truthy value (that value), failing after `ms`. A condition, not a pause. */
async function until(check, what, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Drives every route once, as a new user, and returns each request's D1 figures by label. */
async function measure(target) {
  const sent = [];
  const track = async (label, response) => {
    sent.push([label, response.headers.get("x-request-id")]);
    if (!label.includes("wrong")) assert.ok(response.status < 400, `${label}: ${response.status} ${response.text}`);
    return response;
  };
  const email = uniqueEmail("cost");
  await track("POST /register", await target.register({ email, password: STRONG_PASSWORD, username: "Cost" }));
  await track("POST /login (wrong password)", await target.login(email, "not the password at all"));
  const login = await track("POST /login", await target.login(email, STRONG_PASSWORD));
  await track("GET /me", await target.me(login.body.token));
  await track("PUT /update-profile", await target.request("PUT", "/update-profile", { json: { name: "Cost Renamed" }, token: login.body.token }));
  const refreshed = await track("POST /refresh", await target.refresh(login.body.refresh));
  await track("POST /reset-password", await target.resetPassword(email));
  const code = await target.mailbox.codeFor(email);
  const wrong = code === "000000" ? "000001" : "000000";
  await track("POST /update-password (wrong code)", await target.updatePassword({ email, otp: wrong, new_password: "a new passphrase 4 cost" }));
  await track("POST /update-password", await target.updatePassword({ email, otp: code, new_password: "a new passphrase 4 cost" }));
  const again = await target.login(email, "a new passphrase 4 cost");
  const other = await target.login(email, "a new passphrase 4 cost");
  await track("POST /logout", await target.request("POST", "/logout", { token: again.body.token, json: { refresh: again.body.refresh } }));
  await track("POST /logout?scope=all", await target.request("POST", "/logout?scope=all", { token: other.body.token }));
  await track("GET /health", await target.health());
  await track("GET /.well-known/jwks.json", await target.request("GET", "/.well-known/jwks.json"));

  // The rest of the account's life, on a second account.
  const life = uniqueEmail("life");
  await target.register({ email: life, password: STRONG_PASSWORD });
  const firstCode = await target.mailbox.codeFor(life, { kind: "verification" });
  const wrongCode = firstCode === "000000" ? "000001" : "000000";
  await track("POST /verify-email (wrong code)", await target.request("POST", "/verify-email", { json: { email: life, code: wrongCode } }));
  await track("POST /resend-verification", await target.request("POST", "/resend-verification", { json: { email: life } }));
  const verifyCode = await target.mailbox.codeFor(life, { kind: "verification", count: 2 });
  await track("POST /verify-email", await target.request("POST", "/verify-email", { json: { email: life, code: verifyCode } }));
  const devices = [];
  for (let i = 0; i < 3; i++) devices.push((await target.login(life, STRONG_PASSWORD)).body);
  const listed = await track("GET /sessions", await target.request("GET", "/sessions", { token: devices[0].token }));
  assert.equal(listed.body.sessions.length, 3);
  await track("DELETE /sessions/{id}", await target.request("DELETE", `/sessions/${listed.body.sessions.find((session) => !session.current).id}`, { token: devices[0].token }));
  await track("POST /change-password", await target.request("POST", "/change-password", { token: devices[0].token, json: { current_password: STRONG_PASSWORD, new_password: "another passphrase 4 cost" } }));
  const moved = uniqueEmail("moved");
  await track("POST /change-email", await target.request("POST", "/change-email", { token: devices[0].token, json: { new_email: moved, password: "another passphrase 4 cost" } }));
  const changeCode = await target.mailbox.codeFor(moved, { kind: "email change" });
  await track("POST /confirm-email-change", await target.request("POST", "/confirm-email-change", { token: devices[0].token, json: { code: changeCode } }));
  const password = "another passphrase 4 cost";
  const enrolled = await track("POST /mfa/totp/enroll", await target.request("POST", "/mfa/totp/enroll", { token: devices[0].token, json: { password } }));
  await awayFromStepEdge();
  const confirmed = await track("POST /mfa/totp/confirm", await target.request("POST", "/mfa/totp/confirm", { token: devices[0].token, json: { code: totpCode(enrolled.body.secret) } }));
  const challenged = await track("POST /login (second factor on)", await target.login(moved, password));
  await track("POST /login/mfa", await target.request("POST", "/login/mfa", { json: { mfa_token: challenged.body.mfa_token, code: totpCode(enrolled.body.secret, 1) } }));
  await track("POST /mfa/totp/disable", await target.request("POST", "/mfa/totp/disable", { token: devices[0].token, json: { password, code: confirmed.body.recovery_codes[0] } }));
  // The deletion reads the account's security events, which each request stores after its answer
  // (wait_until): wait until exactly the trail these requests make has landed, so both runs delete
  // the same rows whatever the machine's load. Nothing else writes this account's events before
  // the deletion, and the deletion's own event (account.deleted) is stored after it.
  const trail = [
    "account.created", // POST /register
    "email.verified", // POST /verify-email
    "sign_in.succeeded", "sign_in.succeeded", "sign_in.succeeded", // three devices
    "session.ended", // DELETE /sessions/{id}
    "password.changed", // POST /change-password
    "email.changed", // POST /confirm-email-change
    "factor.added", // POST /mfa/totp/confirm
    "sign_in.succeeded", // POST /login/mfa
    "factor.removed", // POST /mfa/totp/disable
  ].sort();
  const db = await target.database();
  const stored = async () =>
    (await db.prepare("SELECT kind FROM security_events WHERE user_id = (SELECT id FROM users WHERE email = ?1)").bind(moved).all()).results.map((r) => r.kind).sort();
  const landed = await until(async () => {
    const kinds = await stored();
    return kinds.length >= trail.length && kinds;
  }, `the ${trail.length} security events of ${moved}`);
  assert.deepEqual(landed, trail, "the account's trail before its deletion");
  await track("DELETE /me", await target.request("DELETE", "/me", { token: devices[0].token, json: { password } }));
  assert.ok(refreshed.status === 200);
  // Each request's log line is written as its answer leaves: wait for every one of them.
  await until(() => sent.every(([, id]) => target.logs().some((l) => l.request_id === id && "status" in l)), "a log line for every request");
  const lines = target.logs();
  return Object.fromEntries(sent.map(([label, id]) => {
    const line = lines.find((l) => l.request_id === id && "status" in l);
    assert.ok(line, `no log line for ${label}`);
    return [label, { status: line.status, ...line.d1 }];
  }));
}

test(`rows read per request are the same at ${FEWER_USERS.toLocaleString("en")} and ${SEEDED_USERS.toLocaleString("en")} users, and within the stated bounds`, async () => {
  const options = { mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "0" } };
  const fewer = await app(options);
  await seed(await fewer.database(), FEWER_USERS);
  const seeded = await app(options);
  await seed(await seeded.database(), SEEDED_USERS);

  const small = await measure(fewer);
  const large = await measure(seeded);
  const table = Object.keys(MAX_ROWS_READ).map((label) => ({
    route: label,
    status: large[label].status,
    rows_read_1k: small[label].rows_read,
    rows_read_10k: large[label].rows_read,
    rows_written_10k: large[label].rows_written,
    statements: large[label].statements,
    round_trips: large[label].round_trips,
  }));
  console.log(`# D1 per request at ${SEEDED_USERS} users: ${JSON.stringify(table)}`);
  for (const row of table) {
    // A scan would read ten times more; an index range may read one or two rows more or fewer,
    // as its end lands on a neighbouring key (the emails are random) or on none.
    const tolerance = NEIGHBOUR_ROWS[row.route] ?? 2;
    assert.ok(Math.abs(row.rows_read_10k - row.rows_read_1k) <= tolerance, `${row.route}: rows read grow with the tables (${row.rows_read_1k} → ${row.rows_read_10k})`);
    assert.ok(row.rows_read_10k <= MAX_ROWS_READ[row.route], `${row.route}: ${row.rows_read_10k} rows read, over ${MAX_ROWS_READ[row.route]}`);
  }
});
