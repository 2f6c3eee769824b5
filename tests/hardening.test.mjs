// Hardening II: the reset-code budget and mail cap, safe shipped defaults, the one-step grace
// window, lockout per (email, client address), a login racing a reset, and the smaller items.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import bcrypt from "bcryptjs";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
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

// ---- 2. What `wrangler deploy` ships is safe -------------------------------------------------------

test("wrangler.toml's [vars] ship neither console mail nor any-origin CORS", () => {
  const toml = readFileSync(`${ROOT}wrangler.toml`, "utf8");
  const vars = toml.split(/^\[vars\]$/m)[1].split(/^\[/m)[0];
  const active = vars.split("\n").filter((line) => !line.trim().startsWith("#"));
  assert.equal(active.some((line) => /^EMAIL_PROVIDER\s*=/.test(line)), false);
  assert.equal(active.some((line) => /^CORS_ALLOWED_ORIGINS\s*=/.test(line)), false);
  const example = readFileSync(`${ROOT}.dev.vars.example`, "utf8");
  assert.match(example, /^EMAIL_PROVIDER="console"$/m, "local development keeps console mail");
  assert.match(example, /^CORS_ALLOWED_ORIGINS="\*"$/m);
});

test("deployed without EMAIL_PROVIDER, the mail routes answer 500 naming it and store no code", async () => {
  const production = await app({ production: true });
  const user = await production.signedInUser("prod");
  for (const response of [
    await production.resetPassword(user.email),
    await production.updatePassword({ email: user.email, otp: "123456", new_password: NEW_PASSWORD }),
  ]) {
    assert.equal(response.status, 500, response.text);
    assert.equal(response.body.error, "server_misconfigured");
    assert.equal(response.body.variable, "EMAIL_PROVIDER");
  }
  const stored = await (await production.database()).prepare("SELECT COUNT(*) AS n FROM email_codes WHERE purpose = 'reset'").first();
  assert.equal(stored.n, 0, "no code exists that nobody was sent");
  assert.equal((await production.me(user.token)).status, 200, "the other routes work");
});

test("deployed without CORS_ALLOWED_ORIGINS, no origin gets CORS headers", async () => {
  const production = await app({ production: true });
  const response = await production.request("GET", "/health", { headers: { Origin: "http://localhost:5173" } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-origin"), null);
  const preflight = await production.request("OPTIONS", "/login", { headers: { Origin: "http://localhost:5173" } });
  assert.equal(preflight.headers.get("access-control-allow-origin"), null);
});

test("npm run dev's settings still serve the seed's React client on http://localhost:5173", async () => {
  const dev = await app({});
  const response = await dev.request("GET", "/health", { headers: { Origin: "http://localhost:5173" } });
  assert.equal(response.headers.get("access-control-allow-origin"), "http://localhost:5173");
  assert.equal(response.headers.get("access-control-allow-credentials"), "true");
});

test("a server_misconfigured answer carries CORS headers, so the browser can read it", async () => {
  const broken = await app({ production: true, secret: null, vars: { CORS_ALLOWED_ORIGINS: "https://app.example" } });
  const response = await broken.request("GET", "/health", { headers: { Origin: "https://app.example" } });
  assert.equal(response.status, 500);
  assert.equal(response.body.variable, "JWT_SECRET");
  assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example");
  const other = await broken.request("GET", "/health", { headers: { Origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});

// ---- 3. The refresh grace window reaches one rotation back, no more --------------------------------

test("a token whose successor was itself rotated is reuse, even inside the grace window", async () => {
  const target = await app({});
  const t0 = await target.signedInUser("grace");
  const t1 = (await target.refresh(t0.refresh)).body;
  const t2 = (await target.refresh(t1.refresh)).body;
  assert.ok(t2.refresh);
  const replay = await target.refresh(t0.refresh);
  assert.equal(replay.status, 401, "T0 is two rotations old");
  assert.equal((await target.refresh(t2.refresh)).status, 401, "reuse ended the session");
  assert.equal((await target.me(t2.token)).status, 401);
});

// ---- 5. The lockout counts per (email, client address) -------------------------------------------

test("ten wrong tries from address A lock A out; the owner at address B still logs in", async () => {
  const target = await app({}); // the shipped LOGIN_MAX_FAILURES = 10
  const user = await target.signedInUser("pair");
  const a = "2001:db8:a:b::1";
  for (let i = 0; i < 10; i++) assert.equal((await target.login(user.email, `wrong ${i}`, { ip: a })).status, 401);
  const locked = await target.login(user.email, user.password, { ip: a });
  assert.equal(locked.status, 429, locked.text);
  assert.ok(Number(locked.headers.get("retry-after")) > 0);
  assert.equal((await target.login(user.email, user.password, { ip: "2001:db8:a:b:ffff::9" })).status, 429, "one /64 is one client");
  assert.equal((await target.login(user.email, user.password, { ip: "2001:db8:a:c::1" })).status, 200, "another /64");
  assert.equal((await target.login(user.email, user.password, { ip: "198.51.100.7" })).status, 200);
});

test("the account-wide ceiling locks every address, exactly under parallel tries", async () => {
  const target = await app({ vars: { LOGIN_MAX_FAILURES: "10", LOGIN_MAX_FAILURES_PER_ACCOUNT: "12" } });
  const user = await target.signedInUser("ceiling");
  const addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"];
  const tries = addresses.flatMap((ip) => Array.from({ length: 10 }, (_, i) => target.login(user.email, `wrong ${i}`, { ip })));
  const statuses = (await Promise.all(tries)).map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 401).length, 12, statuses.join());
  assert.equal(statuses.filter((s) => s === 429).length, 28);
  const fresh = await target.login(user.email, user.password, { ip: "203.0.113.50" });
  assert.equal(fresh.status, 429, "a new address is refused too");
  assert.ok(Number(fresh.headers.get("retry-after")) > 0);
});

test("a success gives back its place under the ceiling: the owner's logins never lock the account", async () => {
  const target = await app({ vars: { LOGIN_MAX_FAILURES_PER_ACCOUNT: "3" } });
  const user = await target.signedInUser("owner");
  for (let i = 0; i < 6; i++) {
    assert.equal((await target.login(user.email, user.password, { ip: "192.0.2.77" })).status, 200, `login ${i}`);
  }
});

// ---- 6. A login racing a password reset does not survive it --------------------------------------

test("a login whose password was reset while it was being checked gets no live session", async () => {
  // Two instances of the worker on one D1, as on Cloudflare: A checks a login against a legacy
  // bcrypt hash of cost 13 (about half a second of CPU), and B completes a reset meanwhile.
  const shared = mkdtempSync(`${tmpdir()}/edge-auth-race-`);
  try {
    const a = await app({ mail: true, persistTo: shared, migrate: true });
    const b = await app({ mail: true, persistTo: shared });
    const email = uniqueEmail("race");
    const oldPassword = "the old flask password";
    await (await a.database())
      .prepare("INSERT INTO users (email, password_hash, name, created_at, updated_at) VALUES (?1, ?2, NULL, 0, 0)")
      .bind(email, bcrypt.hashSync(oldPassword, 13))
      .run();
    assert.equal((await a.resetPassword(email)).status, 200);
    const code = await a.mailbox.codeFor(email);

    const login = a.login(email, oldPassword);
    await sleep(100); // A is verifying the old password now
    const reset = await b.updatePassword({ email, otp: code, new_password: NEW_PASSWORD });
    assert.equal(reset.status, 200, reset.text);
    const loggedIn = await login;
    assert.equal(loggedIn.status, 401, `a session was made with the replaced password: ${loggedIn.text}`);
    assert.equal((await b.login(email, NEW_PASSWORD)).status, 200, "the new password works");
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
});

// ---- 7. Smaller items ---------------------------------------------------------------------------

test("the flood shield keys IPv6 by its /64, and requests without an address share one bucket", async () => {
  const shielded = await app({
    miniflare: { ratelimits: { RATE_LIMITER: { namespace_id: "1001", simple: { limit: 2, period: 60 } } } },
  });
  const login = (ip) => shielded.login(uniqueEmail("flood"), "whatever", { ip }).then((r) => r.status);
  assert.deepEqual([await login("2001:db8:1:2::1"), await login("2001:db8:1:2::2")], [401, 401]);
  assert.equal(await login("2001:db8:1:2:abcd::3"), 429, "same /64");
  assert.equal(await login("2001:db8:1:3::1"), 401, "another /64");
  assert.deepEqual([await login(undefined), await login(undefined), await login(undefined)], [401, 401, 429]);
  assert.equal(await login("192.0.2.10"), 401, "an address is not in the unknown bucket");
});

test("a breached-password lookup that hangs is given up after a timeout (fails open)", { timeout: 15_000 }, async () => {
  const hung = [];
  const server = createServer((req) => hung.push(req)); // never answers
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const target = await app({ vars: { HIBP_CHECK: "true", HIBP_API_BASE: `http://127.0.0.1:${server.address().port}` } });
    const started = Date.now();
    const response = await target.register({ email: uniqueEmail("hibp-hang"), password: STRONG_PASSWORD });
    const took = Date.now() - started;
    assert.equal(response.status, 201, response.text);
    assert.ok(hung.length >= 1, "the lookup was made");
    assert.ok(took < 5000, `answered after ${took} ms`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("every 401 names the Bearer scheme (RFC 6750 §3)", async () => {
  const target = await app({});
  const user = await target.signedInUser("www");
  for (const response of [
    await target.me(undefined),
    await target.me("not-a-token"),
    await target.login(user.email, "wrong password"),
    await target.refresh("x".repeat(43)),
  ]) {
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="edge-auth"');
  }
});
