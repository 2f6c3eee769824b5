// Signing in: the refresh grace window reaches one rotation back, the lockout counts per (email,
// client address) under an account-wide ceiling, and a login racing a reset does not survive it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import bcrypt from "bcryptjs";
import { appsClosedAfter, uniqueEmail } from "./support/app.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const NEW_PASSWORD = "a brand new passphrase";

const app = appsClosedAfter(after);

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
