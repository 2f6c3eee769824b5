// Migrating from the Flask API: a users.db with the seed's schema and real bcrypt hashes, imported
// into a fresh local D1 with the importer and wrangler, then logged into through the worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { DatabaseSync } from "node:sqlite";
import bcrypt from "bcryptjs";
import { spawnApp } from "./support/app.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const dir = mkdtempSync(`${tmpdir()}/edge-auth-import-`);
const state = `${dir}/state`;
const env = { ...process.env, PATH: `${ROOT}node_modules/.bin:${process.env.PATH}`, CI: "true", WRANGLER_SEND_METRICS: "false" };

/** The seed's users, as Flask-SQLAlchemy created the table, with what each should become. */
const USERS = [
  { id: 1, email: "alice@example.com", password: "alice's flask password", name: "Alice", cost: 12 },
  { id: 2, email: "  Bob@Example.COM ", password: "bob password", name: null, cost: 4 },
  { id: 3, email: "Dup@example.com", password: "dup one", name: "Dup 1", cost: 4 },
  { id: 4, email: "dup@example.com ", password: "dup two", name: "Dup 2", cost: 4 },
  { id: 5, email: "not-an-email", password: "whatever", name: null, cost: 4 },
  { id: 6, email: "plain@example.com", password: null, hash: "plaintext-password", name: null },
  { id: 7, email: "longname@example.com", password: "long name pw", name: "n".repeat(150), cost: 4 },
  { id: 8, email: "carol@example.com", password: "carol's 2y password", name: "Carol", cost: 4, prefix: "$2y$" },
  { id: 9, email: "short@example.com", password: "abc", name: "Legacy", cost: 4 },
  // Cost 15 (relabelled from a cost-4 hash: only the cost matters) would take seconds of CPU per login.
  { id: 10, email: "slow@example.com", password: "slow one", name: null, cost: 4, relabel: "$15$" },
];

let app;
let firstRun;
let secondRun;

function importer(...args) {
  return execFileSync(`${ROOT}target/debug/import-flask-users`, [`${dir}/users.db`, "--local", "--persist-to", state, ...args], {
    cwd: ROOT,
    env,
    encoding: "utf8",
  });
}

before(async () => {
  const db = new DatabaseSync(`${dir}/users.db`);
  db.exec(`CREATE TABLE user (
    id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, password VARCHAR(200) NOT NULL,
    name VARCHAR(100), otp INTEGER, otp_expiry DATETIME)`);
  const insert = db.prepare("INSERT INTO user (id, email, password, name, otp, otp_expiry) VALUES (?, ?, ?, ?, 123456, '2025-01-01 00:00:00')");
  for (const user of USERS) {
    let hash = user.hash ?? bcrypt.hashSync(user.password, user.cost);
    if (user.prefix) hash = user.prefix + hash.slice(4);
    if (user.relabel) hash = hash.slice(0, 3) + user.relabel + hash.slice(7);
    insert.run(user.id, user.email, hash, user.name);
  }
  db.close();

  execFileSync(`${ROOT}node_modules/.bin/wrangler`, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: ROOT, env, stdio: "pipe" });
  firstRun = importer();
  secondRun = importer();
  app = await spawnApp({ persistTo: state });
});

after(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the importer reports every skipped row by id, and imports the rest", () => {
  assert.match(firstRun, /row id=3: skipped: email dup@example\.com collides after normalisation with id 4/);
  assert.match(firstRun, /row id=4: skipped: email dup@example\.com collides after normalisation with id 3/);
  assert.match(firstRun, /row id=5: skipped: invalid email/);
  assert.match(firstRun, /row id=6: skipped: the password is not a usable bcrypt hash/);
  assert.match(firstRun, /row id=7: name dropped/);
  assert.match(firstRun, /row id=10: skipped: the password is a bcrypt hash of cost 15, above 14/);
  assert.match(firstRun, /read 10 rows: 5 to import, 5 skipped/);
  assert.match(firstRun, /has 5 new users; 0 of the 5 were there already/);
});

test("a second import changes nothing", () => {
  assert.match(secondRun, /has 0 new users; 5 of the 5 were there already/);
});

async function storedHash(email) {
  const row = await (await app.database()).prepare("SELECT password_hash FROM users WHERE email = ?1").bind(email).first();
  return row?.password_hash;
}

test("every imported user logs in with the original password, and is upgraded to argon2id", async () => {
  const expected = { 1: "alice@example.com", 2: "bob@example.com", 7: "longname@example.com", 8: "carol@example.com", 9: "short@example.com" };
  for (const [id, email] of Object.entries(expected)) {
    const user = USERS.find((u) => u.id === Number(id));
    assert.match(await storedHash(email), /^\$2[by]\$/, `${email} starts as bcrypt`);
    const login = await app.login(email, user.password);
    assert.equal(login.status, 200, `${email}: ${login.text}`);
    assert.equal(login.body.email, email);
    assert.equal(login.body.username, id === "7" ? null : user.name);
    assert.match(await storedHash(email), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, `${email} is argon2id now`);
    assert.equal((await app.login(email, user.password)).status, 200, `${email} logs in again with argon2id`);
  }
});

test("wrong passwords against bcrypt hashes get the same 401 as any other", async () => {
  // Use a fresh copy of a bcrypt hash so the account is still bcrypt when it is tried.
  const db = await app.database();
  const hash = bcrypt.hashSync("the right one", 4);
  await db.prepare("INSERT INTO users (email, password_hash, name, created_at, updated_at) VALUES ('legacy@example.com', ?1, NULL, 0, 0)").bind(hash).run();
  const wrong = await app.login("legacy@example.com", "the wrong one");
  const unknown = await app.login("nobody-at-all@example.com", "the wrong one");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.text, unknown.text);
  assert.equal(await storedHash("legacy@example.com"), hash, "a failed login changes nothing");
  assert.equal((await app.login("legacy@example.com", "the right one")).status, 200);
});

test("skipped rows did not become accounts", async () => {
  for (const email of ["dup@example.com", "plain@example.com", "not-an-email", "slow@example.com"]) {
    assert.equal(await storedHash(email), undefined, email);
  }
});

test("the SQL (every password hash) is written to a new private directory each run", () => {
  const temp = `${dir}/tmp`;
  mkdirSync(temp, { recursive: true });
  const run = () =>
    execFileSync(`${ROOT}target/debug/import-flask-users`, [`${dir}/users.db`, "--local", "--dry-run"], {
      cwd: ROOT,
      env: { ...env, TMPDIR: temp },
      encoding: "utf8",
    }).match(/SQL in (\S+)/)[1];
  const first = run();
  const second = run();
  assert.notEqual(first, second, "never reused");
  for (const out of [first, second]) {
    assert.ok(out.startsWith(temp), out);
    assert.equal(statSync(out).mode & 0o777, 0o700, `${out} is private`);
    assert.ok(readdirSync(out).length > 0, "the SQL was written there");
  }
});

test("the importer's command line: --help names every option; a usage error says what is missing and exits 2", () => {
  const help = execFileSync(`${ROOT}target/debug/import-flask-users`, ["--help"], { encoding: "utf8" });
  for (const option of ["--local", "--remote", "--database", "--persist-to", "--sql-out", "--dry-run"]) {
    assert.match(help, new RegExp(option), option);
  }
  let failure;
  try {
    execFileSync(`${ROOT}target/debug/import-flask-users`, ["users.db"], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    failure = e;
  }
  assert.equal(failure?.status, 2);
  assert.match(failure.stderr, /--local\|--remote/);
});
