// Sustained load: `wrangler dev` serving the release build, loaded for SUSTAINED_MINUTES (10) by
// wrk at 16 connections with a mix of GET /health, GET /me, PUT /update-profile, POST /refresh and
// POST /login, in windows of 30 seconds. Reports each window's throughput, the worker's wasm
// memory (its own log of each new peak) and workerd's RSS, and writes
// bench/results/sustained.{json,md}. It measures; it asserts nothing.
import { spawn, execFileSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { workerdRssKiB } from "./workerd.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MINUTES = Number(process.env.SUSTAINED_MINUTES ?? 10);
const WINDOW_SECONDS = 30;
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

// The benchmark's configuration: no flood shield (one load generator is one address), a refresh
// grace window longer than the run (so one refresh token can be presented again and again, the
// path of a concurrent double refresh), and no login lockout.
const config = `${ROOT}.sustained.wrangler.toml`;
writeFileSync(config, readFileSync(`${ROOT}wrangler.toml`, "utf8").replace(/\n# The per-IP flood shield[\s\S]*$/, "\n"));
const persist = mkdtempSync(`${tmpdir()}/edge-auth-sustained-`);
execFileSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist, "-c", config], { cwd: ROOT, env, stdio: "pipe" });
const port = 8600 + Math.floor(Math.random() * 99);
const base = `http://127.0.0.1:${port}`;
const logFile = `${persist}/worker.log`;
const logStream = createWriteStream(logFile);
const server = spawn("wrangler", [
  "dev", "-c", config, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist,
  "--var", "LOGIN_MAX_FAILURES:1000000", "--var", "REFRESH_REUSE_GRACE_SECONDS:86400",
  "--show-interactive-dev-session=false",
], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
server.stdout.pipe(logStream);
server.stderr.pipe(logStream);
const stop = () => {
  try { process.kill(-server.pid, "SIGTERM"); } catch {}
  rmSync(config, { force: true });
};
process.on("exit", stop);
for (let i = 0; ; i++) {
  try { if ((await fetch(`${base}/health`)).ok) break; } catch {}
  if (i > 600) throw new Error("wrangler dev did not start");
  await new Promise((r) => setTimeout(r, 200));
}

const post = (path, body, token) => fetch(`${base}${path}`, {
  method: "POST",
  headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
}).then((r) => r.json());
const credentials = { email: "sustained@example.com", password: "sustained passphrase" };
await post("/register", credentials);
const login = await post("/login", credentials);

// One request in twenty is a login (an argon2id hash, about 20 ms of CPU: at an even mix logins
// would be all the machine does); the rest share the light routes evenly.
const lua = `${persist}/mix.lua`;
const json = (o) => JSON.stringify(o).replace(/"/g, '\\"');
writeFileSync(lua, `
local auth = { ["Authorization"] = "Bearer ${login.token}", ["Content-Type"] = "application/json" }
local plain = { ["Content-Type"] = "application/json" }
local requests = {}
init = function(args)
  local light = {
    wrk.format("GET", "/health"),
    wrk.format("GET", "/me", auth),
    wrk.format("PUT", "/update-profile", auth, "${json({ name: "Sustained" })}"),
    wrk.format("POST", "/refresh", plain, "${json({ refresh: login.refresh })}"),
  }
  for i = 1, 19 do requests[#requests + 1] = light[(i - 1) % #light + 1] end
  requests[#requests + 1] = wrk.format("POST", "/login", plain, "${json(credentials)}")
end
local n = 0
request = function()
  n = n + 1
  return requests[(n - 1) % #requests + 1]
end
`);

const rssMB = () => workerdRssKiB() / 1024;
const wasmMemoryKiB = () => Math.max(0, ...[...readFileSync(logFile, "utf8").matchAll(/wasm memory: (\d+) KiB/g)].map((m) => Number(m[1])));

const windows = [];
const started = Date.now();
const count = Math.max(1, Math.round((MINUTES * 60) / WINDOW_SECONDS));
for (let i = 0; i < count; i++) {
  const out = execFileSync("wrk", ["-t1", "-c16", `-d${WINDOW_SECONDS}s`, "--latency", "-s", lua, `${base}/`], { encoding: "utf8" });
  const ms = (label) => {
    const m = out.match(new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, "m"));
    return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : null;
  };
  const window = {
    minute: Number(((Date.now() - started) / 60000).toFixed(1)),
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50_ms: ms("50"),
    p99_ms: ms("99"),
    non2xx: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    errors: Number(out.match(/Socket errors: .*?(\d+) timeout/)?.[1] ?? 0),
    wasm_memory_kib: wasmMemoryKiB(),
    workerd_rss_mb: Number(rssMB().toFixed(1)),
  };
  windows.push(window);
  console.log(JSON.stringify(window));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const first = windows.slice(0, 3).map((w) => w.rps);
const last = windows.slice(-3).map((w) => w.rps);
const summary = {
  minutes: MINUTES,
  machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
  mix: "19 light requests (GET /health, GET /me, PUT /update-profile, POST /refresh in turn) to 1 POST /login",
  first_windows_rps: median(first),
  last_windows_rps: median(last),
  change: Number(((median(last) - median(first)) / median(first)).toFixed(3)),
  wasm_memory_kib_first: windows[0].wasm_memory_kib,
  wasm_memory_kib_last: windows.at(-1).wasm_memory_kib,
  workerd_rss_mb_first: windows[0].workerd_rss_mb,
  workerd_rss_mb_last: windows.at(-1).workerd_rss_mb,
  non2xx: windows.reduce((s, w) => s + w.non2xx, 0),
  windows,
};
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(`${ROOT}bench/results/sustained.json`, `${JSON.stringify(summary, null, 2)}\n`);
const md = [
  `Sustained run ${new Date(started).toISOString()}: ${MINUTES} minutes, wrk -t1 -c16 against \`wrangler dev\`, ${summary.mix}.`,
  "",
  `Throughput: ${summary.first_windows_rps} req/s (median of the first three ${WINDOW_SECONDS}-second windows) → ${summary.last_windows_rps} req/s (last three): ${(summary.change * 100).toFixed(1)}%. Non-2xx answers: ${summary.non2xx}.`,
  `Worker wasm memory: ${summary.wasm_memory_kib_first} KiB after the first window, ${summary.wasm_memory_kib_last} KiB after the last. workerd RSS: ${summary.workerd_rss_mb_first} MB → ${summary.workerd_rss_mb_last} MB.`,
  "",
  "| minute | req/s | p50 | p99 | non-2xx | wasm memory | workerd RSS |",
  "|---|---|---|---|---|---|---|",
  ...windows.map((w) => `| ${w.minute} | ${w.rps} | ${w.p50_ms} ms | ${w.p99_ms} ms | ${w.non2xx} | ${w.wasm_memory_kib} KiB | ${w.workerd_rss_mb} MB |`),
];
writeFileSync(`${ROOT}bench/results/sustained.md`, `${md.join("\n")}\n`);
console.log(md.slice(0, 4).join("\n"));
rmSync(persist, { recursive: true, force: true });
process.exit(0);
