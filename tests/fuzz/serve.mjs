// The contract fuzzer (scripts/fuzz.sh): schemathesis, from PyPI, generates requests from
// api/openapi.json and holds every answer against it. This starts the compiled worker as the
// black-box tests do (tests/support/app.mjs: workerd through Miniflare, a fresh migrated D1, the
// settings of `wrangler dev`), signs two users in, and runs schemathesis against it with the
// configuration of tests/fuzz/schemathesis.toml and the hooks of tests/fuzz/hooks.py. Its exit
// code is schemathesis's: non-zero on any failed check, error or 5xx.
//
// The flood shield is off: spawnApp binds no RATE_LIMITER (the tests that want the shield add
// `miniflare: { ratelimits }`), and without the binding the worker skips it (src/edge/entry.rs).
// Generated traffic from one address would otherwise spend its 100 requests a minute in seconds,
// and the rest of the run would see only 429s. The login lockout is raised out of reach too: the
// routes that ask for the password again count the fuzzer's wrong ones, and after ten they would
// all answer 429 before reading further. (The lockout's own tests are in tests/abuse.test.mjs.)
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { spawnApp, uniqueEmail, STRONG_PASSWORD } from "../support/app.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN_KEY = "fuzz-admin-key-0123456789-abcdefghij";
const extraArgs = process.argv.slice(2);

const app = await spawnApp({
  vars: {
    LOGIN_MAX_FAILURES: "1000000",
    LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000000",
    // Social sign-in and passkeys on, so their routes are fuzzed rather than all 404: GitHub needs
    // no discovery (its start only builds a URL; the provider is never reached), and passkeys
    // need only their relying party.
    GITHUB_CLIENT_ID: "fuzz-client",
    GITHUB_CLIENT_SECRET: "fuzz-secret",
    GITHUB_WEB_BASE: "http://127.0.0.1:9",
    GITHUB_API_BASE: "http://127.0.0.1:9",
    OAUTH_REDIRECT_URLS: "https://app.example/auth/done",
    RP_ID: "localhost",
    RP_ORIGINS: "http://localhost:5173",
    // The admin API on, with a key the hooks send on its routes (tests/fuzz/hooks.py, AdminKey).
    ADMIN_API_KEYS: `fuzz:${ADMIN_KEY}`,
  },
});
let code = 1;
try {
  // The main user: its token is the run's Authorization header.
  const main = await app.signedInUser("fuzz");
  // The user whose sessions the session-ending routes end, signed in afresh for each of their
  // requests (tests/fuzz/hooks.py, FreshSession).
  const sessions = await app.signedInUser("fuzz-sessions");
  const env = {
    ...process.env,
    FUZZ_BASE_URL: app.base,
    FUZZ_TOKEN: main.token,
    FUZZ_SESSIONS_EMAIL: sessions.email,
    FUZZ_SESSIONS_PASSWORD: sessions.password,
    FUZZ_ADMIN_KEY: ADMIN_KEY,
    // The admin API must not disable, delete or sign out the run's own users.
    FUZZ_PROTECTED_IDS: (await (await app.database()).prepare("SELECT id FROM users").all()).results.map((r) => r.id).join(","),
  };
  const args = [
    "--config-file", "tests/fuzz/schemathesis.toml",
    "run", "api/openapi.json",
    "--url", app.base,
    "--checks", "all",
    ...extraArgs,
  ];
  console.log(`[fuzz] worker on ${app.base}; schemathesis ${args.join(" ")}`);
  code = await new Promise((resolve, reject) => {
    const child = spawn(`${ROOT}.venv-fuzz/bin/schemathesis`, args, { cwd: ROOT, env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
} finally {
  await app.close();
}
process.exit(code);
