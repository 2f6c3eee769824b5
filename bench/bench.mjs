// Drives the benchmark: see bench/run.sh. Prints a markdown table and writes bench/results/.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir, cpus, totalmem } from "node:os";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { cpuSeconds, groupPids, workerdPids, workerdRssKiB } from "./workerd.mjs";
import { comparePeers } from "./peers.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CONCURRENCY = 16;
const LOGIN_MEMORY_CONCURRENCY = 32;
const DURATION = process.env.BENCH_DURATION ?? "10s";
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

// ---- the worker, served as `wrangler dev` serves it -----------------------------------------
// One load generator is one IP: the per-IP flood shield would measure itself, so the benchmark's
// config is wrangler.toml without the [[ratelimits]] block.
const config = `${ROOT}.bench.wrangler.toml`;
writeFileSync(config, readFileSync(`${ROOT}wrangler.toml`, "utf8").replace(/\n# The per-IP flood shield[\s\S]*$/, "\n"));
const persist = mkdtempSync(`${tmpdir()}/edge-auth-bench-`);
execFileSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist, "-c", config], { cwd: ROOT, env, stdio: "pipe" });

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const base = `http://127.0.0.1:${port}`;
const server = spawn("wrangler", [
  "dev", "-c", config, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist,
  "--var", "LOGIN_MAX_FAILURES:1000000", "--var", "REFRESH_REUSE_GRACE_SECONDS:86400",
  "--show-interactive-dev-session=false",
], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
let serverLog = "";
server.stdout.on("data", (chunk) => (serverLog += chunk));
server.stderr.on("data", (chunk) => (serverLog += chunk));
/** The worker's wasm memory: it logs each new peak ("wasm memory: N KiB"). */
const wasmMemoryKiB = () => Math.max(0, ...[...serverLog.matchAll(/wasm memory: (\d+) KiB/g)].map((m) => Number(m[1])));
const stop = () => {
  try { process.kill(-server.pid, "SIGTERM"); } catch {}
  rmSync(persist, { recursive: true, force: true });
  rmSync(config, { force: true });
};
process.on("exit", stop);
// The first response of a fresh isolate: the poll that first succeeds is the first request the
// worker serves (the ones before it found no server), so its latency includes instantiating the
// wasm and reading the configuration.
let firstResponseMs;
for (let i = 0; ; i++) {
  const sent = performance.now();
  try {
    if ((await fetch(`${base}/health`)).ok) {
      firstResponseMs = Number((performance.now() - sent).toFixed(1));
      break;
    }
  } catch {}
  if (i > 600) throw new Error("wrangler dev did not start");
  await new Promise((r) => setTimeout(r, 200));
}

// ---- memory and CPU of the worker's processes, from /proc --------------------------------------
/** wrangler's own processes (they proxy every request and print every log line): the process
 *  group `wrangler dev` was started in, less workerd. */
const wranglerPids = () => groupPids(server.pid, { workerd: false });
const rss = () => workerdRssKiB() * 1024;
// Before any password was hashed: the worker has served /health only.
const idleRss = rss();

/** A wrk Lua script for one kind of request; returns its path. */
function wrkScript(name, { method = "GET", body, token: bearer }) {
  const script = `${persist}/${name.replace(/[^A-Za-z]+/g, "-")}.lua`;
  const headers = { "Content-Type": "application/json", ...(bearer && { Authorization: `Bearer ${bearer}` }) };
  writeFileSync(script, [
    `wrk.method = "${method}"`,
    body ? `wrk.body = '${JSON.stringify(body)}'` : "",
    ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
  ].join("\n"));
  return script;
}

const post = (path, body, token) => fetch(`${base}${path}`, {
  method: path === "/update-profile" ? "PUT" : "POST",
  headers: { "Content-Type": "application/json", ...(token && { Authorization: `Bearer ${token}` }) },
  body: JSON.stringify(body),
}).then((r) => r.json());
const credentials = { email: "bench@example.com", password: "benchmark passphrase" };
await post("/register", { ...credentials, username: "Bench" });
const { token, refresh } = await post("/login", credentials);

// 32 concurrent logins on a worker that has hashed twice so far: how far does its memory grow?
const wasmBeforeLogins = wasmMemoryKiB();
let peakRss = rss();
const sampler = setInterval(() => { peakRss = Math.max(peakRss, rss()); }, 50);
{
  const script = wrkScript("login memory", { method: "POST", body: credentials });
  await new Promise((resolve) => {
    spawn("wrk", ["-t1", `-c${LOGIN_MEMORY_CONCURRENCY}`, "-d5s", "-s", script, `${base}/login`], { stdio: "ignore" }).on("exit", resolve);
  });
}
clearInterval(sampler);
const wasmAfterLogins = wasmMemoryKiB();

// ---- unknown email against wrong password: interleaved samples, medians ---------------------
const TIMING_SAMPLES = 60;
async function timedLogin(email) {
  const start = performance.now();
  const response = await fetch(`${base}/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: "not the password" }) });
  await response.text();
  return { ms: performance.now() - start, status: response.status };
}
const timing = { unknown: [], wrong: [] };
for (let i = 0; i < TIMING_SAMPLES; i++) {
  const order = i % 2 ? ["unknown", "wrong"] : ["wrong", "unknown"];
  for (const kind of order) {
    const sample = await timedLogin(kind === "wrong" ? credentials.email : "nobody@example.com");
    if (sample.status !== 401) throw new Error(`timing sample answered ${sample.status}`);
    timing[kind].push(sample.ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// One hash as the worker pays it inside workerd: a registration of a taken email (one hash, one
// D1 statement) against /health, sequential medians.
async function sequentialMedian(request, samples = 30) {
  const times = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await (await request()).text();
    times.push(performance.now() - start);
  }
  return median(times);
}
const healthLatency = await sequentialMedian(() => fetch(`${base}/health`));
const registerTakenLatency = await sequentialMedian(() => fetch(`${base}/register`, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(credentials),
}));
const inWorkerHashMs = Number((registerTakenLatency - healthLatency).toFixed(2));
const TIMING_TOLERANCE = 0.1;
const timingReport = {
  samples_each: TIMING_SAMPLES,
  unknown_email_median_ms: Number(median(timing.unknown).toFixed(2)),
  wrong_password_median_ms: Number(median(timing.wrong).toFixed(2)),
};
timingReport.relative_difference = Number((Math.abs(timingReport.unknown_email_median_ms - timingReport.wrong_password_median_ms) / timingReport.wrong_password_median_ms).toFixed(3));
timingReport.within_tolerance = timingReport.relative_difference <= TIMING_TOLERANCE;

// ---- load ------------------------------------------------------------------------------------
function wrk(name, { method = "GET", path, body, token: bearer, connections = CONCURRENCY, target = base, pids = { workerd: workerdPids, wrangler: wranglerPids } }) {
  const script = wrkScript(name, { method, body, token: bearer });
  const before = { workerd: cpuSeconds(pids.workerd()), wrangler: cpuSeconds(pids.wrangler()) };
  const out = execFileSync("wrk", ["-t1", `-c${connections}`, `-d${DURATION}`, "--latency", "-s", script, `${target}${path}`], { encoding: "utf8" });
  const requests = Number(out.match(/(\d+) requests in/)[1]);
  // CPU time per request of the worker's process (workerd: the worker, its local D1 and the
  // runtime) and of wrangler's (the dev proxy, and printing the log lines).
  const cpuMs = (key) => Number((((cpuSeconds(pids[key]()) - before[key]) * 1000) / requests).toFixed(3));
  const cpu = { workerd_ms: cpuMs("workerd"), wrangler_ms: cpuMs("wrangler") };
  const ms = (label) => {
    const m = out.match(new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, "m"));
    return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : null;
  };
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return { route: name, rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]), p50_ms: ms("50"), p99_ms: ms("99"), non2xx, cpu_ms_per_request: cpu };
}

// The machine is shared and noisy: the light routes run in interleaved rounds and report the
// round with the median throughput, so a passing disturbance skews no single route.
const ROUNDS = 3;
const light = [
  ["GET /health", { path: "/health" }],
  ["GET /me", { path: "/me", token }],
  ["PUT /update-profile", { method: "PUT", path: "/update-profile", body: { name: "Bench Updated" }, token }],
  // One refresh token presented again and again: inside the (benchmark-long) grace window each is
  // the full rotation batch of a concurrent double refresh.
  ["POST /refresh", { method: "POST", path: "/refresh", body: { refresh } }],
];
const rounds = light.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  light.forEach(([name, options], i) => rounds[i].push(wrk(name, options)));
}
const medianRound = (results) => [...results].sort((a, b) => a.rps - b.rps)[results.length >> 1];
const load = [
  ...rounds.map(medianRound),
  wrk("POST /login", { method: "POST", path: "/login", body: credentials }),
];
const loginLoad = load.find((r) => r.route === "POST /login");
try { process.kill(-server.pid, "SIGTERM"); } catch {}
await new Promise((r) => setTimeout(r, 1500));

// ---- the platform's floor: a JS worker answering a constant, served the same way ------------
// What `wrangler dev` and workerd spend on any request (proxying, HTTP, the runtime); what a
// route costs above it is ours.
const floorPort = port + 1;
const floorServer = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", String(floorPort), "--show-interactive-dev-session=false"],
  { cwd: `${ROOT}bench/floor`, env, detached: true, stdio: "ignore" });
for (let i = 0; ; i++) {
  try { if ((await fetch(`http://127.0.0.1:${floorPort}/`)).ok) break; } catch {}
  if (i > 600) throw new Error("the floor worker did not start");
  await new Promise((r) => setTimeout(r, 200));
}
const floorRounds = [0, 1, 2].map(() => wrk("floor: a JS worker answering a constant", {
  path: "/", target: `http://127.0.0.1:${floorPort}`, pids: { workerd: workerdPids, wrangler: () => groupPids(floorServer.pid, { workerd: false }) },
}));
const floor = medianRound(floorRounds);
try { process.kill(-floorServer.pid, "SIGTERM"); } catch {}

// ---- startup: `wrangler check startup` profiles the worker's global scope ----------------------
const startupOut = execFileSync("wrangler", ["check", "startup", "--outfile", `${persist}-startup.cpuprofile`],
  { cwd: ROOT, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const startupActiveMs = Number(startupOut.match(/Active: ([\d.]+) ms/)?.[1] ?? NaN);
const startupWindowMs = Number(startupOut.match(/Profile window: ([\d.]+) ms/)?.[1] ?? NaN);
rmSync(`${persist}-startup.cpuprofile`, { force: true });

// ---- the dev loop: `npm run dev` from its start to its first 200, and from a saved change to it served
const changed = `${ROOT}src/edge/meta/health.rs`;
const original = readFileSync(changed, "utf8");
/** `src/edge/meta/health.rs` with its answer changed to carry `tag`: a change to code, not a comment. */
const withTag = (tag) => {
  const edited = original.replace('"status": "ok"', `"status": "ok ${tag}"`);
  if (edited === original) throw new Error("the dev loop's edit of health.rs no longer applies");
  return edited;
};
/**
 * Seconds from starting `scripts/dev.sh` (what `npm run dev` runs) to its first answer; with
 * `hotEdit`, then also from saving that edit, with the server running, to the first answer that
 * carries it.
 */
async function devStart(hotEdit) {
  const devPort = port + 2;
  const health = async () => {
    try {
      const response = await fetch(`http://127.0.0.1:${devPort}/health`);
      return response.ok ? await response.text() : null;
    } catch {
      return null;
    }
  };
  const waitFor = async (accept) => {
    for (let i = 0; ; i++) {
      if (accept(await health())) return;
      if (i > 3000) throw new Error("npm run dev did not answer");
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const started = performance.now();
  const dev = spawn("bash", ["scripts/dev.sh", "--ip", "127.0.0.1", "--port", String(devPort), "--show-interactive-dev-session=false"],
    { cwd: ROOT, env, detached: true, stdio: "ignore" });
  try {
    await waitFor((body) => body !== null);
    const startS = Number(((performance.now() - started) / 1000).toFixed(1));
    if (!hotEdit) return startS;
    await new Promise((r) => setTimeout(r, 3000)); // wrangler's watcher settles
    const saved = performance.now();
    writeFileSync(changed, withTag(hotEdit));
    await waitFor((body) => body?.includes(hotEdit));
    return Number(((performance.now() - saved) / 1000).toFixed(1));
  } finally {
    try { process.kill(-dev.pid, "SIGTERM"); } catch {}
    await new Promise((r) => setTimeout(r, 1500));
  }
}
const devLoop = {};
try {
  devLoop.after_release_build_s = await devStart(); // the benchmark built for release: a dev build follows
  devLoop.unchanged_s = await devStart();
  writeFileSync(changed, withTag("restart"));
  devLoop.one_file_changed_s = await devStart();
  writeFileSync(changed, original);
  devLoop.saved_to_served_s = await devStart("saved"); // the build of `original` is current again
} finally {
  writeFileSync(changed, original);
}
execFileSync("bash", ["scripts/build.sh"], { cwd: ROOT, env, stdio: "ignore" }); // back to the release build

// ---- argon2id: wasm in V8 against the same code native -------------------------------------
const run = (cmd, args) => JSON.parse(execFileSync(cmd, args, { cwd: `${ROOT}bench/argon2`, encoding: "utf8" }));
// Native and wasm alternate for three rounds; each reports the median of its rounds.
const argonRuns = { native: [], wasm: [], simd: [] };
for (let round = 0; round < 3; round++) {
  argonRuns.native.push(run(`${ROOT}bench/argon2/target/release/argon2-native`, []).median_ms);
  argonRuns.wasm.push(run(process.execPath, ["argon2.mjs", "target/wasm32-unknown-unknown/release/argon2_bench.wasm"]).median_ms);
  argonRuns.simd.push(run(process.execPath, ["argon2.mjs", "target/simd/wasm32-unknown-unknown/release/argon2_bench.wasm"]).median_ms);
}
const native = { median_ms: median(argonRuns.native) };
const wasm = { median_ms: median(argonRuns.wasm) };
const simd = { median_ms: median(argonRuns.simd) };

// ---- access tokens: EdDSA (now) and HS256 (before), signed and verified in wasm (V8) ----------
const tokenRuns = [0, 1, 2].map(() => JSON.parse(execFileSync(process.execPath,
  ["tokens.mjs", "target/wasm32-unknown-unknown/release/ed25519_bench.wasm"],
  { cwd: `${ROOT}bench/ed25519`, encoding: "utf8" })));
const tokens = Object.fromEntries(Object.keys(tokenRuns[0]).map((k) => [k, median(tokenRuns.map((r) => r[k]))]));

// ---- bundle ----------------------------------------------------------------------------------
const size = (file) => {
  const bytes = readFileSync(`${ROOT}build/${file}`);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const bundle = { wasm: size("index_bg.wasm"), js: size("index.js") };

// ---- D1 statements per request, by construction (src/edge/<capability>/sql) -----------------
const d1 = {
  "GET /health": "0",
  "GET /me": "1 (one SELECT joining the session check)",
  "PUT /update-profile": "1 (one UPDATE guarded by the session check)",
  "POST /login": "7 in 2 round trips (batch: count attempt per address + account-wide + read account; batch: session if the hash is unchanged + refresh token + clear address count + release account place); 3 in 1 on failure",
  "POST /refresh": "5 in 1 batch",
  "POST /logout": "4–5 in 1 batch (end the session, and its ceremonies in flight)",
  "POST /register": "1",
  "POST /reset-password": "2 in 1 batch",
  "POST /update-password": "16 in 1 batch (with the first proof's clean-up)",
};

// ---- beside better-auth and the floor, on workerd's own port and under `wrangler dev` ------------
const peers = await comparePeers();

const health = load[0].rps;
const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version },
  concurrency: CONCURRENCY,
  duration: DURATION,
  bundle,
  load: load.map((r) => ({ ...r, share_of_health: Number((r.rps / health).toFixed(3)) })),
  argon2: { native_ms: native.median_ms, wasm_ms: wasm.median_ms, wasm_simd128_ms: simd.median_ms, ratio: Number((wasm.median_ms / native.median_ms).toFixed(2)) },
  access_tokens_us: tokens,
  login_vs_hash: Number((loginLoad.rps / (1000 / wasm.median_ms)).toFixed(3)),
  in_worker_hash_ms: inWorkerHashMs,
  login_vs_in_worker_hash: Number((loginLoad.rps / (1000 / inWorkerHashMs)).toFixed(3)),
  floor,
  dev_loop: devLoop,
  startup: { check_startup_active_ms: startupActiveMs, check_startup_window_ms: startupWindowMs, first_response_ms: firstResponseMs, warm_health_median_ms: Number(healthLatency.toFixed(1)) },
  login_timing: timingReport,
  wasm_memory_mib: { after_register_and_login: Number((wasmBeforeLogins / 1024).toFixed(1)), peak_during_32_logins: Number((wasmAfterLogins / 1024).toFixed(1)) },
  memory: { idle_rss_mb: Number((idleRss / 2 ** 20).toFixed(1)), peak_rss_mb_32_logins: Number((peakRss / 2 ** 20).toFixed(1)), growth_mb: Number(((peakRss - idleRss) / 2 ** 20).toFixed(1)) },
  d1_statements: d1,
  peers: peers.results,
};

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const md = [
  `Run ${results.date} on ${results.machine.cpus} × ${results.machine.model}, ${results.machine.memory_gib} GiB, node ${results.machine.node}; wrk -t1 -c${CONCURRENCY} -d${DURATION} against \`wrangler dev\` on 127.0.0.1.`,
  "",
  "| bundle | raw | gzip |",
  "|---|---|---|",
  `| wasm | ${kb(bundle.wasm.raw)} | ${kb(bundle.wasm.gzip)} |`,
  `| JS glue | ${kb(bundle.js.raw)} | ${kb(bundle.js.gzip)} |`,
  `| total | ${kb(bundle.wasm.raw + bundle.js.raw)} | ${kb(bundle.wasm.gzip + bundle.js.gzip)} |`,
  "",
  "| route | req/s | p50 | p99 | share of /health | non-2xx | D1 statements per request |",
  "|---|---|---|---|---|---|---|",
  ...results.load.map((r) => `| ${r.route} | ${r.rps.toFixed(0)} | ${r.p50_ms} ms | ${r.p99_ms} ms | ${(r.share_of_health * 100).toFixed(0)}% | ${r.non2xx} | ${d1[r.route]} |`),
  "",
  "| CPU per request (user + system, from /proc, during the run above) | workerd | wrangler | workerd above the floor | ÷ GET /health |",
  "|---|---|---|---|---|",
  ...[...results.load, floor].map((r) => `| ${r.route} | ${r.cpu_ms_per_request.workerd_ms} ms | ${r.cpu_ms_per_request.wrangler_ms} ms | ${(r.cpu_ms_per_request.workerd_ms - floor.cpu_ms_per_request.workerd_ms).toFixed(3)} ms | ${(r.cpu_ms_per_request.workerd_ms / results.load[0].cpu_ms_per_request.workerd_ms).toFixed(2)}× |`),
  "",
  `Dev loop (from starting \`npm run dev\` to its first 200): ${devLoop.unchanged_s} s when nothing changed since the last build, ${devLoop.after_release_build_s} s after a release build (the same sources, built once more without the size pass), ${devLoop.one_file_changed_s} s to restart after one Rust file changed, ${devLoop.saved_to_served_s} s from saving a change to one Rust file, while it serves, to the first answer of the new build.`,
  "",
  `Startup: \`wrangler check startup\` profiles ${startupActiveMs} ms of CPU in a ${startupWindowMs} ms window (Workers allow 1 s for the global scope). The first response of a fresh \`wrangler dev\` isolate took ${firstResponseMs} ms; a warm GET /health takes ${results.startup.warm_health_median_ms} ms (sequential median).`,
  "",
  "| argon2id (m = 19456 KiB, t = 2, p = 1), one hash | median |",
  "|---|---|",
  `| native (same code, same profile; median of 3 rounds of 15) | ${native.median_ms} ms |`,
  `| wasm in V8 (node ${process.version}) | ${wasm.median_ms} ms (${results.argon2.ratio}× native) |`,
  `| wasm + simd128 | ${simd.median_ms} ms |`,
  `| POST /login throughput ÷ (1 / wasm hash time in node) | ${(results.login_vs_hash * 100).toFixed(0)}% |`,
  `| one hash inside workerd (taken-email /register − /health, sequential medians) | ${inWorkerHashMs} ms |`,
  `| POST /login throughput ÷ (1 / hash time inside workerd) | ${(results.login_vs_in_worker_hash * 100).toFixed(0)}% |`,
  "",
  "| access token in wasm (V8; jwt-compact as the worker uses it; median of 3 runs) | sign | verify |",
  "|---|---|---|",
  `| EdDSA (Ed25519, ed25519-dalek) | ${tokens.eddsa_sign_us} µs | ${tokens.eddsa_verify_us} µs |`,
  `| HS256 (before) | ${tokens.hs256_sign_us} µs | ${tokens.hs256_verify_us} µs |`,
  "",
  `The worker's wasm memory (its own log of each new peak): ${results.wasm_memory_mib.after_register_and_login} MiB after one registration and one login, ${results.wasm_memory_mib.peak_during_32_logins} MiB at its peak during ${LOGIN_MEMORY_CONCURRENCY} concurrent logins.`,
  "",
  `Whole process memory (workerd RSS, every workerd process of \`wrangler dev\`): ${results.memory.idle_rss_mb} MB before any login, peak ${results.memory.peak_rss_mb_32_logins} MB during ${LOGIN_MEMORY_CONCURRENCY} concurrent logins: +${results.memory.growth_mb} MB.`,
  "",
  `Login timing, ${TIMING_SAMPLES} interleaved samples each: unknown email ${timingReport.unknown_email_median_ms} ms, wrong password ${timingReport.wrong_password_median_ms} ms (median); difference ${(timingReport.relative_difference * 100).toFixed(1)}%, ${timingReport.within_tolerance ? "within" : "outside"} the stated ±${TIMING_TOLERANCE * 100}% tolerance.`,
  "",
  peers.markdown,
].join("\n");

mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(`${ROOT}bench/results/latest.json`, JSON.stringify(results, null, 2) + "\n");
writeFileSync(`${ROOT}bench/results/latest.md`, md + "\n");
console.log(md);
stop();
process.exit(0);
