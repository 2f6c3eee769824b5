// The peer comparison (issue 26): edge-auth beside better-auth (bench/peers/better-auth) and the
// floor (bench/floor), served side by side, first each by workerd on its own port, then each by
// plain `wrangler dev` (bench/peers/servers.mjs). wrk loads each pair of routes in interleaved
// rounds; the CPU of a request is the user + system time of that server's own workerd process
// (from /proc) over the rounds, divided by the requests completed. Prints the absolute figures and
// the ratios against the targets; reports only, asserts nothing.
//
// `npm run bench` calls comparePeers(); `npm run bench:peers` (node bench/peers.mjs) runs it alone
// and writes its part of bench/results/latest.{json,md}, keeping the rest. PEER_DURATION (2s),
// PEER_LOGIN_DURATION (4s) and PEER_ROUNDS (2) set each wrk run's length and the rounds.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { cpuSeconds } from "./workerd.mjs";
import { inWorkerd, inWranglerDev, workerdVersion } from "./peers/servers.mjs";
import { peersMarkdown } from "./peers/report.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CONCURRENCY = 16;
const DURATION = process.env.PEER_DURATION ?? "2s";
// A login costs one password hash (tens of ms, one at a time per isolate): a longer run completes
// enough of them that the few still in flight when wrk stops (their CPU counted, not them) weigh
// little; and wrk waits for a queued one rather than dropping it after its default 2 s.
const LOGIN_DURATION = process.env.PEER_LOGIN_DURATION ?? "4s";
const TIMEOUT = "30s";
const ROUNDS = Number(process.env.PEER_ROUNDS ?? 2);
const credentials = { email: "bench@example.com", password: "benchmark passphrase" };
// better-auth refuses a POST without a trusted Origin (its CSRF check), which a browser always
// sends: its baseURL's origin, as in bench/peers/better-auth/wrangler.toml.
const PEER_ORIGIN = "http://127.0.0.1";

/** The pairs compared: ours and better-auth's answer to the same need. */
export const PAIRS = [
  { key: "trivial", ours: "GET /health", peer: "GET /api/auth/ok" },
  { key: "session", ours: "GET /me", peer: "GET /api/auth/get-session" },
  { key: "write", ours: "PUT /update-profile", peer: "POST /api/auth/update-user" },
  { key: "login", ours: "POST /login", peer: "POST /api/auth/sign-in/email" },
];

const json = { "Content-Type": "application/json" };
const bearer = (token) => ({ Authorization: `Bearer ${token}` });

/** Registers and signs in once on ours; returns the requests of each pair, as wrk will send them. */
async function ourRequests(base) {
  const send = (method, path, body) => fetch(`${base}${path}`, { method, headers: json, body: JSON.stringify(body) });
  await (await send("POST", "/register", { ...credentials, username: "Bench" })).text();
  const { token } = await (await send("POST", "/login", credentials)).json();
  return {
    trivial: { method: "GET", path: "/health" },
    session: { method: "GET", path: "/me", headers: bearer(token) },
    write: { method: "PUT", path: "/update-profile", headers: { ...json, ...bearer(token) }, body: { name: "Bench Updated" } },
    login: { method: "POST", path: "/login", headers: json, body: credentials },
  };
}

/** The same for better-auth: sign-up, sign-in, and the bearer token its plugin hands out. */
async function peerRequests(base) {
  const headers = { ...json, Origin: PEER_ORIGIN };
  const send = (path, body) => fetch(`${base}/api/auth${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  await (await send("/sign-up/email", { ...credentials, name: "Bench" })).text();
  const signedIn = await send("/sign-in/email", credentials);
  await signedIn.text();
  const token = signedIn.headers.get("set-auth-token");
  if (!token) throw new Error(`better-auth's sign-in answered ${signedIn.status} without a bearer token`);
  return {
    trivial: { method: "GET", path: "/api/auth/ok" },
    session: { method: "GET", path: "/api/auth/get-session", headers: bearer(token) },
    write: { method: "POST", path: "/api/auth/update-user", headers: { ...headers, ...bearer(token) }, body: { name: "Bench Updated" } },
    login: { method: "POST", path: "/api/auth/sign-in/email", headers, body: credentials },
  };
}

/** One request as fetch sends it: it must succeed before wrk repeats it. */
async function checked(server, { method, path, headers, body }) {
  const response = await fetch(`${server.base}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${server.label} ${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
}

/** wrk's output, run without blocking: this process must keep reading the stdout of the workerd
 *  processes Miniflare started, or a worker that logs stalls once the pipe is full. */
const wrk = (args) => new Promise((resolve, reject) => {
  let out = "";
  const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.on("data", (chunk) => (out += chunk));
  child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}`))));
});

/** wrk on one request for `duration`; the CPU of the server's processes meanwhile. */
async function load(scratch, server, { method, path, headers = {}, body }, duration) {
  const script = `${scratch}/request.lua`;
  writeFileSync(script, [
    `wrk.method = "${method}"`,
    body ? `wrk.body = '${JSON.stringify(body)}'` : "",
    ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
  ].join("\n"));
  const cpu = () => ({ workerd: cpuSeconds(server.workerd()), proxy: cpuSeconds(server.proxy()), wrangler: cpuSeconds(server.wrangler()) });
  const before = cpu();
  const out = await wrk(["-t1", `-c${CONCURRENCY}`, `-d${duration}`, `--timeout=${TIMEOUT}`, "-s", script, `${server.base}${path}`]);
  const after = cpu();
  return {
    requests: Number(out.match(/(\d+) requests in/)[1]),
    seconds: Number(out.match(/requests in ([\d.]+)s/)[1]),
    non2xx: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    workerd_s: after.workerd - before.workerd,
    proxy_s: after.proxy - before.proxy,
    wrangler_s: after.wrangler - before.wrangler,
  };
}

/** The runs of one route pooled: throughput and CPU per request over all its rounds. */
function pooled(runs) {
  const sum = (key) => runs.reduce((total, run) => total + run[key], 0);
  const requests = sum("requests");
  const perRequest = (key) => (requests ? Number(((sum(key) * 1000) / requests).toFixed(3)) : null);
  return {
    rps: Number((requests / sum("seconds")).toFixed(1)),
    workerd_ms: perRequest("workerd_s"),
    proxy_ms: perRequest("proxy_s"),
    wrangler_ms: perRequest("wrangler_s"),
    requests,
    non2xx: sum("non2xx"),
  };
}

/** Every pair in interleaved rounds (ours, better-auth, then the floor or the bare hash). */
async function measure(scratch, { servers }) {
  const requests = { ours: await ourRequests(servers.ours.base), peer: await peerRequests(servers.peer.base) };
  const extra = { trivial: servers.floor && ["floor", { method: "GET", path: "/" }], login: servers.hash && ["hash", { method: "GET", path: "/hash" }] };
  const jobs = PAIRS.flatMap(({ key }) => [
    [key, "ours", requests.ours[key]],
    [key, "peer", requests.peer[key]],
    ...(extra[key] ? [[key, ...extra[key]]] : []),
  ]);
  for (const [, who, request] of jobs) await checked(servers[who], request);
  const runs = jobs.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [key, who, request]] of jobs.entries()) {
      runs[i].push(await load(scratch, servers[who], request, key === "login" ? LOGIN_DURATION : DURATION));
    }
  }
  const result = {};
  jobs.forEach(([key, who], i) => ((result[key] ??= {})[who] = pooled(runs[i])));
  result.workerd_processes = Object.fromEntries(Object.values(servers).map((server) => [server.label, server.workerd().length]));
  return result;
}

/** The whole comparison: both ways of serving, one after the other. Returns { results, markdown }. */
export async function comparePeers() {
  const scratch = mkdtempSync(`${tmpdir()}/edge-auth-peers-wrk-`);
  const results = { concurrency: CONCURRENCY, duration: DURATION, login_duration: LOGIN_DURATION, rounds: ROUNDS, workerd_version: workerdVersion };
  try {
    for (const [mode, start] of [["workerd", inWorkerd], ["wrangler_dev", inWranglerDev]]) {
      console.log(`[bench] peers: ${mode}`);
      const started = await start();
      try {
        results[mode] = await measure(scratch, started);
      } finally {
        await started.stop();
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { results, markdown: peersMarkdown(results, PAIRS) };
}

/** Puts the peers' part into bench/results/latest.{json,md}, keeping what an earlier run wrote. */
export function writePeers({ results, markdown }) {
  const dir = `${ROOT}bench/results`;
  mkdirSync(dir, { recursive: true });
  const jsonFile = `${dir}/latest.json`;
  const mdFile = `${dir}/latest.md`;
  const previous = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, "utf8")) : {};
  writeFileSync(jsonFile, JSON.stringify({ ...previous, peers: results }, null, 2) + "\n");
  const [rest, after = ""] = existsSync(mdFile) ? readFileSync(mdFile, "utf8").split(/^## Peers\b/m) : [""];
  // What follows this section (bench/oauth_peers.mjs's `## OAuth peers`) is kept after it.
  const next = after.search(/^## /m);
  const tail = next >= 0 ? `\n\n${after.slice(next).trimEnd()}` : "";
  writeFileSync(mdFile, (rest.trimEnd() ? `${rest.trimEnd()}\n\n` : "") + markdown + tail + "\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await comparePeers();
  writePeers(report);
  console.log(report.markdown);
  process.exit(0);
}
