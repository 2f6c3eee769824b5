// The README's way in: `wrangler d1 migrations apply --local` and `wrangler dev`, then the seed
// flow as a newcomer would try it with curl, and a reset code read from the dev server's log
// (EMAIL_PROVIDER=console, the local default).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { freePort } from "./support/ports.mjs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WRANGLER = `${ROOT}node_modules/.bin/wrangler`;
const persist = mkdtempSync(`${tmpdir()}/edge-auth-dev-`);
let server;
let base;
let log = "";


async function waitFor(check, what, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}; wrangler said:\n${log.slice(-4000)}`);
}

before(async () => {
  // Node 22 from node_modules/.bin first: wrangler needs it, whatever node runs the tests.
  const PATH = `${ROOT}node_modules/.bin:${process.env.PATH}`;
  const env = { ...process.env, PATH, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
  execFileSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], { cwd: ROOT, env, stdio: "pipe" });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(WRANGLER, ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist, "--show-interactive-dev-session=false"], {
    cwd: ROOT,
    env,
    detached: true,
  });
  server.stdout.on("data", (chunk) => (log += chunk));
  server.stderr.on("data", (chunk) => (log += chunk));
  await waitFor(async () => (await fetch(`${base}/health`)).ok, "wrangler dev to serve /health");
});

after(() => {
  if (server) {
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {}
  }
  rmSync(persist, { recursive: true, force: true });
});

async function call(method, path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

test("wrangler dev serves the whole flow on a migrated local D1", async () => {
  const email = `newcomer-${Date.now()}@example.com`;
  assert.equal((await call("POST", "/register", { email, password: "securepassword1", username: "John Doe" })).status, 201);
  const login = await call("POST", "/login", { email, password: "securepassword1" });
  assert.equal(login.status, 200);
  assert.equal(login.body.username, "John Doe");
  assert.equal((await call("GET", "/me", undefined, login.body.token)).body.email, email);
  assert.equal((await call("PUT", "/update-profile", { name: "New Name" }, login.body.token)).status, 200);
  assert.equal((await call("POST", "/refresh", { refresh: login.body.refresh })).status, 200);

  assert.equal((await call("POST", "/reset-password", { email })).status, 200);
  let code;
  await waitFor(async () => {
    code = log.match(/Your password reset code: (\d{6})/)?.[1];
    return Boolean(code);
  }, "the reset code in the dev server's log", 15_000);
  const reset = await call("POST", "/update-password", { email, otp: Number(code), new_password: "another securepassword" });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.equal((await call("GET", "/me", undefined, login.body.token)).status, 401, "the reset ended the session");
  assert.equal((await call("POST", "/login", { email, password: "another securepassword" })).status, 200);
});
