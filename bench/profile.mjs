// Where the CPU of a request goes: V8's CPU profiler, through `wrangler dev`'s inspector, over a
// few seconds of wrk per route; prints microseconds per request by kind (our wasm and what in it,
// the JS glue, the log line's console.log, D1's JS API, the rest). The inspector inflates what it
// watches (each console.log is serialised to it): rank causes with it, price them with
// `npm run bench`. See bench/profile.sh. Reports only.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
// As in bench.mjs: no flood shield (one load generator is one IP); and no build command, since
// bench/profile.sh made the build with names kept.
const config = `${ROOT}.profile.wrangler.toml`;
writeFileSync(config, readFileSync(`${ROOT}wrangler.toml`, "utf8")
  .replace(/\n# The per-IP flood shield[\s\S]*$/, "\n").replace(/^command = .*$/m, 'command = "true"'));
const persist = mkdtempSync(`${tmpdir()}/edge-auth-profile-`);
execFileSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist, "-c", config], { cwd: ROOT, env, stdio: "pipe" });
const port = 8960 + Math.floor(Math.random() * 30);
const inspectorPort = port + 100;
const base = `http://127.0.0.1:${port}`;
const server = spawn("wrangler", ["dev", "-c", config, "--ip", "127.0.0.1", "--port", String(port),
  "--inspector-port", String(inspectorPort), "--persist-to", persist,
  "--var", "LOGIN_MAX_FAILURES:1000000", "--var", "REFRESH_REUSE_GRACE_SECONDS:86400",
  "--show-interactive-dev-session=false"], { cwd: ROOT, env, detached: true, stdio: "ignore" });
process.on("exit", () => {
  try { process.kill(-server.pid, "SIGTERM"); } catch {}
  rmSync(persist, { recursive: true, force: true });
  rmSync(config, { force: true });
});
for (let i = 0; ; i++) {
  try { if ((await fetch(`${base}/health`)).ok) break; } catch {}
  if (i > 300) throw new Error("wrangler dev did not start");
  await new Promise((r) => setTimeout(r, 200));
}

const post = (path, body) => fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
const creds = { email: "profile@example.com", password: "benchmark passphrase" };
await post("/register", creds);
const login = await post("/login", creds);
const bearer = `wrk.headers["Authorization"] = "Bearer ${login.token}"`;
const json = `wrk.headers["Content-Type"] = "application/json"`;
const routes = {
  "GET /health": { path: "/health", lua: "" },
  "GET /me": { path: "/me", lua: bearer },
  "PUT /update-profile": { path: "/update-profile", lua: `wrk.method = "PUT"\nwrk.body = '{"name":"Profile"}'\n${json}\n${bearer}` },
  "POST /refresh": { path: "/refresh", lua: `wrk.method = "POST"\nwrk.body = '{"refresh":"${login.refresh}"}'\n${json}` },
};

// The inspector: Chrome DevTools Protocol over a WebSocket.
const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: "https://devtools.devprod.cloudflare.dev" } });
await new Promise((resolve, reject) => { ws.addEventListener("open", resolve); ws.addEventListener("error", reject); });
let nextId = 0;
const waiting = new Map();
ws.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  waiting.get(message.id)?.(message);
  waiting.delete(message.id);
});
const call = (method, params = {}) => new Promise((resolve) => {
  const id = ++nextId;
  waiting.set(id, resolve);
  ws.send(JSON.stringify({ id, method, params }));
});
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 100 });

/** The kind a profile node's own time is counted under. */
function kind(node, parentOf, byId) {
  const { url, functionName: name } = node.callFrame;
  if (name === "(idle)" || name === "(program)") return "idle";
  if (name === "(garbage collector)") return "the rest";
  // Anything under the log's console.log import (its JS wrapper, console's formatting, the
  // inspector's serialisation) is the log line.
  for (let id = node.id, depth = 0; depth < 8; depth++) {
    const frame = byId.get(id).callFrame;
    if (/console_log_value|__wbg_log_/.test(frame.functionName)) return "console.log of the log line";
    if (!parentOf.has(id)) break;
    id = parentOf.get(id);
  }
  if (url.includes(".wasm")) {
    if (/curve25519|ed25519|sha2::sha512/.test(name)) return "wasm: Ed25519";
    if (name.includes("serde_wasm_bindgen")) return "wasm: D1 row decoding";
    if (name.includes("serde_json")) return "wasm: JSON";
    return "wasm: the rest";
  }
  if (url.endsWith("index.js")) return "JS glue (workers-rs, wasm-bindgen, wrangler's dev facade)";
  if (url.startsWith("cloudflare-internal")) return "D1's JS API";
  return "the rest";
}

const columns = [];
for (const [name, route] of Object.entries(routes)) {
  const script = `${persist}/profile.lua`;
  writeFileSync(script, route.lua);
  execFileSync("wrk", ["-t1", "-c8", "-d2s", "-s", script, `${base}${route.path}`]); // warm-up, tier-up
  await call("Profiler.start");
  const out = execFileSync("wrk", ["-t1", "-c8", "-d6s", "-s", script, `${base}${route.path}`], { encoding: "utf8" });
  const { result } = await call("Profiler.stop");
  const requests = Number(out.match(/(\d+) requests in/)[1]);
  const profile = result.profile;
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const totals = new Map();
  for (const node of profile.nodes) {
    const k = kind(node, parentOf, byId);
    totals.set(k, (totals.get(k) ?? 0) + (self.get(node.id) ?? 0));
  }
  columns.push({ name, requests, totals });
}

const kinds = ["console.log of the log line", "JS glue (workers-rs, wasm-bindgen, wrangler's dev facade)",
  "wasm: Ed25519", "wasm: D1 row decoding", "wasm: JSON", "wasm: the rest", "D1's JS API", "the rest"];
const perRequest = (column, k) => Math.round((column.totals.get(k) ?? 0) / column.requests);
console.log(`| µs per request on the isolate thread (inspector attached) | ${columns.map((c) => `${c.name} (${c.requests} requests)`).join(" | ")} |`);
console.log(`|---|${columns.map(() => "---").join("|")}|`);
console.log(`| busy (idle excluded) | ${columns.map((c) => kinds.reduce((sum, k) => sum + perRequest(c, k), 0)).join(" | ")} |`);
for (const k of kinds) console.log(`| ${k} | ${columns.map((c) => perRequest(c, k)).join(" | ")} |`);
process.exit(0);
