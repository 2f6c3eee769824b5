// The contract fuzzer (scripts/fuzz.sh): schemathesis, from PyPI, generates requests from the
// API's OpenAPI document and holds every answer against it. This starts the compiled worker as the
// black-box tests do (tests/support/app.mjs: workerd through Miniflare, a fresh migrated D1, the
// settings of `wrangler dev`), signs two users in, and runs schemathesis against it with the
// configuration of tests/fuzz/schemathesis.toml and the hooks of tests/fuzz/hooks.py. Its exit
// code is schemathesis's: non-zero on any failed check, error or 5xx.
//
// `--config on|off` (first; the other arguments go to `schemathesis run`) picks the deployment:
// - `on`: every capability on (tests/support/capabilities.mjs: the admin API, passkeys, social
//   sign-in), so their routes are fuzzed rather than all 404.
// - `off`: all three off, as spawnApp starts the worker: their routes answer 404.
// Either way the document fuzzed is the one the worker serves at /openapi.json, which leaves out
// the routes of what is off (src/core/meta/openapi.rs; with everything on it is api/openapi.json
// itself): a deployment must agree with the document it hands out.
// Each has its share of the time budget (SECONDS below); schemathesis.toml's max-time is the
// budget of a run that names none.
//
// The flood shield is off: spawnApp binds no RATE_LIMITER (the tests that want the shield add
// `miniflare: { ratelimits }`), and without the binding the worker skips it (src/edge/entry.rs).
// Generated traffic from one address would otherwise spend its 100 requests a minute in seconds,
// and the rest of the run would see only 429s. The login lockout is raised out of reach too: the
// routes that ask for the password again count the fuzzer's wrong ones, and after ten they would
// all answer 429 before reading further. (The lockout's own tests are in tests/abuse.test.mjs.)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnApp } from "../support/app.mjs";
import { ADMIN_KEY, EVERYTHING_ON } from "../support/capabilities.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Seconds of fuzzing per configuration: `off` has fewer routes, and shares them with `on`. */
const SECONDS = { off: 50, on: 100 };
const [flag, config, ...extraArgs] = process.argv.slice(2);
if (flag !== "--config" || !(config in SECONDS)) {
  console.error("usage: node tests/fuzz/serve.mjs --config on|off [schemathesis run arguments]");
  process.exit(2);
}

const app = await spawnApp({
  vars: {
    LOGIN_MAX_FAILURES: "1000000",
    LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000000",
    ...(config === "on" ? EVERYTHING_ON : {}),
  },
});
let code = 1;
let temporary;

/** The document the worker serves, in a file of its own for schemathesis. */
async function servedDocument() {
  const response = await fetch(`${app.base}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json: ${response.status}`);
  temporary = mkdtempSync(join(tmpdir(), "fuzz-"));
  const file = join(temporary, "openapi.json");
  writeFileSync(file, await response.text());
  return file;
}

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
    ...(config === "on" && { FUZZ_ADMIN_KEY: ADMIN_KEY }),
    // The admin API must not disable, delete or sign out the run's own users.
    FUZZ_PROTECTED_IDS: (await (await app.database()).prepare("SELECT id FROM users").all()).results.map((r) => r.id).join(","),
  };
  const args = [
    "--config-file", "tests/fuzz/schemathesis.toml",
    "run", await servedDocument(),
    "--url", app.base,
    "--checks", "all",
    // The admin API's paths have no CORS preflight (OPTIONS answers 404 by design): the stateful
    // phase takes that 404, right after POST /admin/clients made a client, for a missing resource.
    // That a created account or client is found is asserted in tests/admin.test.mjs and
    // tests/provider_admin.test.mjs. Likewise every other path answers a preflight (204) for its
    // methods, not for a resource: after DELETE /organizations/{id} the stateful phase takes the
    // preflight of a path under it for a deleted resource still there (use_after_free; `--checks
    // all` outranks a per-operation setting). That deleted organizations, sessions, passkeys and
    // clients are gone is asserted in tests/organizations.test.mjs, session_list, passkeys and
    // provider_admin.
    "--exclude-checks", "ensure_resource_availability,use_after_free",
    "--max-time", String(SECONDS[config]),
    ...extraArgs,
  ];
  console.log(`[fuzz] ${config}: worker on ${app.base}; schemathesis ${args.join(" ")}`);
  code = await new Promise((resolve, reject) => {
    const child = spawn(`${ROOT}.venv-fuzz/bin/schemathesis`, args, { cwd: ROOT, env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
} finally {
  await app.close();
  if (temporary) rmSync(temporary, { recursive: true, force: true });
}
process.exit(code);
