// The request log: one JSON object per request, with its id, route pattern, status, duration, user
// and D1 figures; never an email, password, token or code.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD, TEST_SECRET, TEST_SIGNING_KEY } from "./support/app.mjs";

const app = appsClosedAfter(after);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The request line with this id. It is written as the response leaves and reaches this process
 * through workerd's stdout, which may come after the answer: wait for it (a condition, with a
 * deadline far beyond any load, not a guess at how long the pipe takes).
 */
async function lineOf(target, requestId) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = target.logs().find((l) => l.request_id === requestId && "status" in l);
    if (line) return line;
    if (Date.now() > deadline) assert.fail(`no log line for request ${requestId}:\n${target.logOutput()}`);
    await sleep(25);
  }
}

test("every request writes one line: id (X-Request-Id), route pattern, status, duration, user, D1 figures", async () => {
  const target = await app({});
  const user = await target.signedInUser("log");
  const me = await target.me(user.token);
  const id = me.headers.get("x-request-id");
  assert.match(id, /^[0-9a-f]{16}$/);
  const line = await lineOf(target, id);
  assert.equal(line.level, "info");
  assert.equal(line.method, "GET");
  assert.equal(line.route, "/me");
  assert.equal(line.status, 200);
  assert.equal(line.user_id, me.body.id);
  assert.ok(Number.isInteger(line.duration_ms) && line.duration_ms >= 0);
  assert.ok(!Number.isNaN(Date.parse(line.time)));
  assert.deepEqual(Object.keys(line.d1).sort(), ["round_trips", "rows_read", "rows_written", "statements"]);
  assert.deepEqual([line.d1.statements, line.d1.round_trips, line.d1.rows_written], [1, 1, 0]);
  assert.ok(line.d1.rows_read >= 1);
  assert.equal(target.logs().filter((l) => l.request_id === id).length, 1, "one line per request");

  // Cloudflare's ray id, when present, is the request id.
  const rayed = await target.request("GET", "/health", { headers: { "cf-ray": "8f1e2d3c4b5a6978-AMS" } });
  assert.equal(rayed.headers.get("x-request-id"), "8f1e2d3c4b5a6978-AMS");
  assert.equal((await lineOf(target, "8f1e2d3c4b5a6978-AMS")).route, "/health");

  // Failures: the error code and a warn level; the pattern, not the raw path.
  const missing = await target.request("GET", "/users/12345/secret-path");
  const missingLine = await lineOf(target, missing.headers.get("x-request-id"));
  assert.deepEqual([missingLine.status, missingLine.error, missingLine.level, missingLine.route], [404, "not_found", "warn", "unmatched"]);
  assert.ok(!target.logOutput().includes("secret-path"));
  const denied = await target.me("not-a-token");
  const deniedLine = await lineOf(target, denied.headers.get("x-request-id"));
  assert.deepEqual([deniedLine.status, deniedLine.error, deniedLine.user_id], [401, "unauthorized", undefined]);
});

test("a server error's line carries its cause, at level error, under the id the client got", async () => {
  const target = await app({ production: true, vars: { CORS_ALLOWED_ORIGINS: "https://app.example" } });
  const response = await target.resetPassword(uniqueEmail("nomail"));
  assert.equal(response.status, 500);
  const line = await lineOf(target, response.headers.get("x-request-id"));
  assert.deepEqual([line.level, line.error, line.route], ["error", "server_misconfigured", "/reset-password"]);
  assert.match(line.cause, /EMAIL_PROVIDER/);
  const cors = await target.request("GET", "/health", { headers: { Origin: "https://app.example" } });
  assert.match(cors.headers.get("access-control-expose-headers"), /X-Request-Id/, "a browser can read the id");
});

test("a full flow leaves no email, password, token or code anywhere in the log", async () => {
  const target = await app({ mail: true, vars: { OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  const email = uniqueEmail("secret-keeper");
  const newPassword = "a brand new passphrase 42";
  const secrets = [email, email.split("@")[0], STRONG_PASSWORD, newPassword, TEST_SECRET, TEST_SIGNING_KEY.privateJwk.d];

  assert.equal((await target.register({ email, password: STRONG_PASSWORD, username: "Keeper" })).status, 201);
  assert.equal((await target.login(email, "a wrong password here")).status, 401);
  const login = await target.login(email, STRONG_PASSWORD);
  assert.equal(login.status, 200);
  secrets.push(login.body.token, login.body.refresh);
  const refreshed = await target.refresh(login.body.refresh);
  assert.equal(refreshed.status, 200);
  secrets.push(refreshed.body.token, refreshed.body.refresh);
  assert.equal((await target.me(refreshed.body.token)).status, 200);
  assert.equal((await target.resetPassword(email)).status, 200);
  const code = await target.mailbox.codeFor(email);
  secrets.push(code);
  const wrong = code === "000000" ? "000001" : "000000";
  assert.equal((await target.updatePassword({ email, otp: wrong, new_password: newPassword })).status, 400);
  assert.equal((await target.updatePassword({ email, otp: code, new_password: newPassword })).status, 200);
  const again = await target.login(email, newPassword);
  assert.equal(again.status, 200);
  secrets.push(again.body.token, again.body.refresh);
  const loggedOut = await target.logout(again.body.token);
  assert.equal(loggedOut.status, 200);
  // The notice mail goes out after the response; the mailer logs nothing once it is delivered.
  assert.equal((await target.mailbox.to(email, { subject: /password was changed/, ms: 30_000 })).length, 1, "the notice was mailed");
  await lineOf(target, loggedOut.headers.get("x-request-id")); // the last request's line is in

  const output = target.logOutput();
  assert.equal(target.logs().filter((l) => "status" in l).length, 10, "every request was logged, once");
  for (const secret of secrets) {
    assert.ok(!output.includes(secret), `the log contains a secret (${secret.slice(0, 6)}…)`);
  }
});

test("an account's later life leaves no password, code or token in the log, nor any code or token in the database", async () => {
  const target = await app({ mail: true });
  const email = uniqueEmail("lifelog");
  const moved = uniqueEmail("lifemoved");
  const changed = "a changed passphrase 43";
  const secrets = [email, email.split("@")[0], moved, STRONG_PASSWORD, changed];
  const stored = []; // what must not be in the database either

  assert.equal((await target.register({ email, password: STRONG_PASSWORD })).status, 201);
  const verifyCode = await target.mailbox.codeFor(email, { kind: "verification" });
  assert.equal((await target.verifyEmail(email, verifyCode)).status, 200);
  const first = (await target.login(email, STRONG_PASSWORD)).body;
  const second = (await target.login(email, STRONG_PASSWORD)).body;
  assert.equal((await target.sessions(first.token)).status, 200);
  assert.equal((await target.changePassword(first.token, STRONG_PASSWORD, changed)).status, 200);
  assert.equal((await target.changeEmail(first.token, moved, changed)).status, 200);
  const changeCode = await target.mailbox.codeFor(moved, { kind: "email change" });
  assert.equal((await target.confirmEmailChange(first.token, changeCode)).status, 200);
  const third = (await target.login(moved, changed)).body;
  // A code is six digits, which a timestamp can contain by chance: it is looked for as a value.
  stored.push(...[verifyCode, changeCode].flatMap((code) => [`"${code}"`, `:${code},`, `:${code}}`]), STRONG_PASSWORD, changed);
  for (const session of [first, second, third]) stored.push(session.token, session.refresh);

  const db = await target.database();
  const tables = (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all()).results;
  let dump = "";
  for (const { name } of tables) dump += JSON.stringify((await db.prepare(`SELECT * FROM "${name}"`).all()).results);
  assert.ok(dump.includes(moved), "the dump holds the account (the check can see)");
  for (const secret of stored) {
    assert.ok(!dump.includes(secret), `the database holds a secret in plain text (${secret.slice(0, 6)}…)`);
  }

  assert.equal((await target.deleteMe(third.token, changed)).status, 200);
  await sleep(300);
  const output = target.logOutput();
  for (const secret of [...secrets, ...stored, verifyCode, changeCode]) {
    assert.ok(!output.includes(secret), `the log contains a secret (${secret.slice(0, 6)}…)`);
  }
});
