// The OAuth peer comparison: edge-auth's OAuth 2.1 authorization server (`/oauth2/…`, on with
// OAUTH_PROVIDER="true") beside @cloudflare/workers-oauth-provider (bench/peers/workers-oauth-provider),
// each served by workerd on a port of its own (Miniflare, wrangler's workerd, no `wrangler dev`
// proxy), doing the same work at the token endpoint:
//
//  (a) the authorization-code exchange (grant_type=authorization_code, a public client, PKCE S256);
//  (b) the refresh (grant_type=refresh_token), every request presenting an unspent refresh token;
//  (c) ten parallel refreshes of ONE refresh token: how many succeed, how many distinct successor
//      refresh tokens come back, and whether the family still refreshes afterwards.
//
// Run it alone (no npm), from the repository's root, after building the worker and installing the
// peers' dependencies:
//
//     bash scripts/build.sh && bash bench/peers/install.sh
//     PATH="$PWD/node_modules/.bin:$PATH" node bench/oauth_peers.mjs
//
// or `bash bench/run.sh --oauth-peers-only`, which does the three steps. `npm run bench` runs it
// after the main benchmark (bench/run.sh). It writes its part of bench/results/latest.{json,md}
// (`oauth_peers`, `## OAuth peers`), keeping the rest. Reports only; it asserts nothing about timings.
//
// Method. Codes are single use (ours live 60 s), so wrk, which repeats one request, does not fit:
// a Node loop keeps CONCURRENCY requests in flight over keep-alive connections (node:http),
// each with its own input, until COUNT requests are done; the same loop for both servers.
// Throughput: requests ÷ wall time. CPU per request: user + system of that server's own workerd
// process (from /proc, bench/workerd.mjs), read before the loop and 200 ms after its last answer
// (so work a worker finishes after answering, `waitUntil`, is counted), ÷ requests. Each round
// measures, for each kind of request, both servers one after the other, the order alternating
// from round to round; the rounds are pooled. The codes of a run are minted just before it, at
// /authorize (not measured): ours by a signed-in browser session (the `__Host-provider` cookie)
// and a `skip_consent` client, the peer by an /authorize that approves at once for a fixed user.
// Refreshes: FAMILIES grants per server (one code exchange each), shared by the CONCURRENCY loops
// as a queue: a loop takes a family, presents its latest refresh token, and puts the family back
// with the successor the answer carried. So every refresh presents a token never presented
// before, and no family ever has two refreshes in flight: neither server's allowance for a
// repeated token (ours: the same successor again within REFRESH_REUSE_GRACE_SECONDS; the peer:
// the previous token stays valid until its successor is first used) is exercised by (b).
//
// Settings (environment): OAUTH_PEER_EXCHANGES (800) and OAUTH_PEER_REFRESHES (800) requests per
// server per round, OAUTH_PEER_ROUNDS (2), OAUTH_PEER_CONCURRENCY (16), OAUTH_PEER_FAMILIES (64),
// OAUTH_PEER_WARMUP (300) unmeasured requests of each kind per server before the rounds,
// OAUTH_PEER_RACE_TRIALS (5) runs of (c), OAUTH_PEER_SCOPE ("openid offline_access").
// OAUTH_PEERS_ONLY_PEER=1 measures the peer alone; ours is also skipped, with a message, when its
// `POST /oauth2/token` answers 404 (a build without the OAuth server).
import { Miniflare } from "miniflare";
import { build } from "esbuild";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Agent, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { cpuSeconds, workerdChildPids } from "./workerd.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PEER_DIR = `${ROOT}bench/peers/workers-oauth-provider/`;
const PEER_VERSION = JSON.parse(readFileSync(`${PEER_DIR}package.json`, "utf8")).dependencies["@cloudflare/workers-oauth-provider"];
/** The workerd that `wrangler dev` runs, as bench/peers/servers.mjs serves the other peers. */
const { default: WRANGLER_WORKERD, version: WORKERD_VERSION } = createRequire(`${ROOT}node_modules/wrangler/package.json`)("workerd");

const setting = (name, fallback) => Number(process.env[name] ?? fallback);
const CONCURRENCY = setting("OAUTH_PEER_CONCURRENCY", 16);
const EXCHANGES = setting("OAUTH_PEER_EXCHANGES", 800);
const REFRESHES = setting("OAUTH_PEER_REFRESHES", 800);
const ROUNDS = setting("OAUTH_PEER_ROUNDS", 2);
const FAMILIES = Math.max(setting("OAUTH_PEER_FAMILIES", 64), CONCURRENCY);
const RACE_TRIALS = setting("OAUTH_PEER_RACE_TRIALS", 5);
const RACE_WIDTH = 10;
/** An unmeasured run of each kind per server before the rounds (V8's tiers warm up over hundreds). */
const WARMUP = setting("OAUTH_PEER_WARMUP", 300);
const SCOPE = process.env.OAUTH_PEER_SCOPE ?? "openid offline_access";
const ONLY_PEER = process.env.OAUTH_PEERS_ONLY_PEER === "1";
/** How many codes are minted at once before a run (minting is not measured). */
const MINT_CONCURRENCY = 8;
/** After a run's last answer, before the CPU is read: what a worker does after answering. */
const SETTLE_MS = 200;
const REDIRECT_URI = "http://127.0.0.1/callback";
const form = { "Content-Type": "application/x-www-form-urlencoded" };
const json = { "Content-Type": "application/json" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** workerd's log lines are read by nobody here: drained, so they cost workerd what printing costs. */
const drain = (stdout, stderr) => { stdout.resume(); stderr.resume(); };

const freePort = () => new Promise((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/** Starts one Miniflare and tells which workerd process is its own (a child of this process). */
async function ownWorkerd(start) {
  const before = new Set(workerdChildPids(process.pid));
  const started = await start();
  const pids = workerdChildPids(process.pid).filter((pid) => !before.has(pid));
  if (pids.length === 0) throw new Error(`no workerd process of its own for ${started.label}`);
  return { ...started, workerd: () => pids };
}

/** A PKCE pair (RFC 7636, S256). */
function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** A response's body as JSON (or its text), read to the end either way. */
async function answer(response) {
  const text = typeof response.text === "function" ? await response.text() : response.text;
  try {
    return { status: response.status, body: JSON.parse(text), text };
  } catch {
    return { status: response.status, body: undefined, text };
  }
}

async function expectStatus(label, response, ...statuses) {
  const got = await answer(response);
  if (!statuses.includes(got.status)) throw new Error(`${label} answered ${got.status}: ${got.text.slice(0, 300)}`);
  return got;
}

// ---- the servers ------------------------------------------------------------------------------
// Each is { label, base, workerd(), stop(), clientId, tokenUrl, authorizeUrl, headers (sent with
// /authorize), accessCheck?(token) }.

/** The authorization request both servers get: a public client, PKCE S256, a random state. */
function authorizeQuery(server, challenge, state) {
  return new URLSearchParams({
    response_type: "code", client_id: server.clientId, redirect_uri: REDIRECT_URI, scope: SCOPE, state,
    code_challenge: challenge, code_challenge_method: "S256",
  });
}

/** One code, as a browser would get it: /authorize answers a redirect to the client with it. */
async function mintCode(server) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(12).toString("base64url");
  const response = await fetch(`${server.authorizeUrl}?${authorizeQuery(server, challenge, state)}`,
    { headers: server.headers, redirect: "manual" });
  const { status, text } = await answer(response);
  const location = response.headers.get("location");
  if (![302, 303].includes(status) || !location) throw new Error(`${server.label} /authorize answered ${status}: ${text.slice(0, 300)}`);
  const redirect = new URL(location, server.base);
  const code = redirect.searchParams.get("code");
  if (!code || redirect.searchParams.get("state") !== state) throw new Error(`${server.label} /authorize redirected without the code or the state: ${location.slice(0, 300)}`);
  return { code, verifier };
}

/** `count` codes, minted MINT_CONCURRENCY at a time. */
async function mintCodes(server, count) {
  const codes = [];
  await pool(count, MINT_CONCURRENCY, async () => codes.push(await mintCode(server)));
  return codes;
}

const exchangeBody = (server, { code, verifier }) => new URLSearchParams({
  grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id: server.clientId, code_verifier: verifier,
});
const refreshBody = (server, token) => new URLSearchParams({ grant_type: "refresh_token", refresh_token: token, client_id: server.clientId });
/** The load's client: node:http over keep-alive connections, one per request in flight (about
 *  half the CPU per request of Node's fetch, on cores the servers share). */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
/** A form POST to the token endpoint; resolves to { status, text } once the answer is read. */
const token = (server, body) => new Promise((resolve, reject) => {
  const payload = body.toString();
  const req = httpRequest(server.tokenUrl, {
    method: "POST", agent, headers: { ...form, "Content-Length": Buffer.byteLength(payload) },
  }, (res) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk) => (text += chunk));
    res.on("end", () => resolve({ status: res.statusCode, text }));
    res.on("error", reject);
  });
  req.on("error", reject);
  req.end(payload);
});

/** Ours: the release build in workerd on a migrated local D1 (tests/support's spawnApp, as
 *  bench/peers/servers.mjs starts it), with the OAuth server on, one admin key, an RS256 ID-token
 *  key; a public skip-consent client, one user and its provider session. Null when the build has
 *  no OAuth server (its token endpoint answers 404). */
async function startOurs() {
  const { spawnApp } = await import("../tests/support/app.mjs");
  const port = await freePort();
  const adminKey = randomBytes(32).toString("base64url");
  const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  const vars = {
    OAUTH_PROVIDER: "true",
    ADMIN_API_KEYS: `bench:${adminKey}`,
    ID_TOKEN_RSA_KEY: JSON.stringify({ ...jwk, kid: "bench-rs256", alg: "RS256" }),
  };
  const server = await ownWorkerd(async () => {
    const app = await spawnApp({ vars, miniflare: { handleRuntimeStdio: drain, port } });
    return { label: "edge-auth", base: app.base, stop: () => app.close() };
  });
  try {
    const probe = await answer(await fetch(`${server.base}/oauth2/token`, { method: "POST", headers: form, body: "grant_type=refresh_token" }));
    if (probe.status === 404) {
      await server.stop();
      return { skipped: "its `POST /oauth2/token` answered 404: this build has no OAuth server (OAUTH_PROVIDER)" };
    }
    const client = await expectStatus("ours POST /admin/clients", await fetch(`${server.base}/admin/clients`, {
      method: "POST", headers: { ...json, Authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ name: "Bench", redirect_uris: [REDIRECT_URI], type: "public", skip_consent: true, scopes: ["openid", "email", "profile", "offline_access"] }),
    }), 201);
    const credentials = { email: "oauth-bench@example.com", password: "benchmark passphrase" };
    await expectStatus("ours POST /register", await fetch(`${server.base}/register`, {
      method: "POST", headers: json, body: JSON.stringify({ ...credentials, username: "OAuth Bench" }),
    }), 200, 201);
    const login = await expectStatus("ours POST /login", await fetch(`${server.base}/login`, {
      method: "POST", headers: json, body: JSON.stringify(credentials),
    }), 200);
    const session = await fetch(`${server.base}/oauth2/session`, { method: "POST", headers: { Authorization: `Bearer ${login.body.token}` } });
    await expectStatus("ours POST /oauth2/session", session, 200, 201, 204);
    const cookie = session.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c.startsWith("__Host-provider="));
    if (!cookie) throw new Error(`ours POST /oauth2/session set no __Host-provider cookie: ${session.headers.getSetCookie().join(" | ")}`);
    return {
      ...server,
      clientId: client.body.client.client_id,
      tokenUrl: `${server.base}/oauth2/token`,
      authorizeUrl: `${server.base}/oauth2/authorize`,
      headers: { Cookie: cookie },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** The peer: bench/peers/workers-oauth-provider's worker bundled by esbuild (as wrangler would),
 *  in workerd on a local KV; its public client by its own dynamic client registration. */
async function startPeer(scratch) {
  const toml = readFileSync(`${PEER_DIR}wrangler.toml`, "utf8");
  const bundled = await build({
    entryPoints: [`${PEER_DIR}src/index.js`], bundle: true, format: "esm", platform: "browser",
    conditions: ["workerd", "worker", "browser"], external: ["cloudflare:*"], target: "es2022", write: false,
  });
  const script = `${scratch}/workers-oauth-provider/index.js`;
  mkdirSync(`${scratch}/workers-oauth-provider`, { recursive: true });
  writeFileSync(script, bundled.outputFiles[0].text);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await ownWorkerd(async () => {
    const mf = new Miniflare({
      host: "127.0.0.1", port, handleRuntimeStdio: drain,
      modulesRoot: `${scratch}/workers-oauth-provider`,
      modules: [{ type: "ESModule", path: script, contents: readFileSync(script, "utf8") }],
      compatibilityDate: toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1],
      kvNamespaces: ["OAUTH_KV"],
      bindings: { RESOURCE: `${base}/api/` },
    });
    await mf.ready;
    return { label: `workers-oauth-provider ${PEER_VERSION}`, base, stop: () => mf.dispose() };
  });
  try {
    const registered = await expectStatus("the peer's POST /register", await fetch(`${base}/register`, {
      method: "POST", headers: json,
      body: JSON.stringify({
        client_name: "Bench", redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"], response_types: ["code"],
      }),
    }), 201);
    return {
      ...server,
      clientId: registered.body.client_id,
      tokenUrl: `${base}/token`,
      authorizeUrl: `${base}/authorize`,
      headers: {},
      // Its resource answers the props of any access token it issued and still holds.
      accessCheck: async (accessToken) => (await answer(await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${accessToken}` } }))).status === 200,
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

// ---- the load ---------------------------------------------------------------------------------

/** Runs `task(i)` for i < count, `concurrency` at a time. */
async function pool(count, concurrency, task) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

/** One run: `count` requests (`send(i)` → { ok, status, error?, idToken? }) at CONCURRENCY, with
 *  the server's workerd CPU and this process's (the load generator's) over it. */
async function run(server, count, send) {
  const latencies = [];
  const failures = {};
  let completed = 0;
  let idTokens = 0;
  const workerdBefore = cpuSeconds(server.workerd());
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await pool(count, CONCURRENCY, async (i) => {
    const sent = performance.now();
    const result = await send(i);
    if (result === null) return; // nothing left to send (every refresh family failed)
    latencies.push(performance.now() - sent);
    completed += 1;
    if (result.idToken) idTokens += 1;
    if (!result.ok) {
      const key = `${result.status} ${result.error ?? ""}`.trim();
      failures[key] = (failures[key] ?? 0) + 1;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  await sleep(SETTLE_MS);
  const client = process.cpuUsage(clientBefore);
  return {
    requests: completed, seconds, latencies, failures, id_tokens: idTokens,
    workerd_s: cpuSeconds(server.workerd()) - workerdBefore,
    client_s: (client.user + client.system) / 1e6,
  };
}

/** A token-endpoint answer as the loops count it. */
async function tokenAnswer(response) {
  const { status, body } = await answer(response);
  const ok = status === 200 && typeof body?.access_token === "string";
  return { ok, status, error: body?.error, idToken: typeof body?.id_token === "string", body };
}

/** (a): `count` codes minted first (not measured), then exchanged under load. */
async function exchangeRun(server, count) {
  const minting = performance.now();
  const codes = await mintCodes(server, count);
  const mintSeconds = (performance.now() - minting) / 1000;
  if (mintSeconds > 30) console.log(`[bench] oauth peers: ${server.label} took ${mintSeconds.toFixed(1)} s to mint ${count} codes: the first may expire (ours live 60 s) before the run reaches them; lower OAUTH_PEER_EXCHANGES`);
  return run(server, count, async (i) => tokenAnswer(await token(server, exchangeBody(server, codes[i]))));
}

/** The refresh families of (b): one code exchange each (also the servers' warm-up). */
async function families(server) {
  const codes = await mintCodes(server, FAMILIES);
  const queue = [];
  await pool(codes.length, MINT_CONCURRENCY, async (i) => {
    const got = await tokenAnswer(await token(server, exchangeBody(server, codes[i])));
    if (!got.ok || !got.body.refresh_token) throw new Error(`${server.label}'s code exchange answered ${got.status} ${got.error ?? ""}${got.ok ? " without a refresh_token (scope: " + SCOPE + ")" : ""}`);
    queue.push(got.body.refresh_token);
  });
  return queue;
}

/** (b): each request takes a family off the queue, presents its latest refresh token, and puts the
 *  family back with the successor; a family whose refresh fails is dropped (and counted). */
function refreshRun(server, queue, count) {
  return run(server, count, async () => {
    const current = queue.shift();
    if (current === undefined) return null;
    const got = await tokenAnswer(await token(server, refreshBody(server, current)));
    if (got.ok && got.body.refresh_token) queue.push(got.body.refresh_token);
    else if (got.ok) return { ...got, ok: false, error: "no refresh_token" };
    return got;
  });
}

const percentile = (sorted, p) => (sorted.length ? Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2)) : null);

/** The runs of one kind of request pooled over the rounds. */
function pooled(runs) {
  const sum = (key) => runs.reduce((total, r) => total + r[key], 0);
  const requests = sum("requests");
  const failures = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + n;
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const perRequest = (key) => (requests ? Number(((sum(key) * 1000) / requests).toFixed(3)) : null);
  return {
    rps: Number((requests / sum("seconds")).toFixed(1)),
    workerd_ms: perRequest("workerd_s"),
    client_ms: perRequest("client_s"),
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    requests,
    non200: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    id_tokens: sum("id_tokens"),
    per_round_rps: runs.map((r) => Number((r.requests / r.seconds).toFixed(1))),
    per_round_workerd_ms: runs.map((r) => (r.requests ? Number(((r.workerd_s * 1000) / r.requests).toFixed(3)) : null)),
  };
}

// ---- (c) the race -----------------------------------------------------------------------------

/** One trial: a fresh family, RACE_WIDTH refreshes of its one refresh token sent at once; then each
 *  distinct successor presented once (one after the other), and the family refreshed once more
 *  from the successor that worked. */
async function raceTrial(server) {
  const code = await mintCode(server);
  const first = await tokenAnswer(await token(server, exchangeBody(server, code)));
  if (!first.ok) throw new Error(`${server.label}'s code exchange answered ${first.status} ${first.error ?? ""}`);
  const original = first.body.refresh_token;
  const answers = await Promise.all(Array.from({ length: RACE_WIDTH }, async () => tokenAnswer(await token(server, refreshBody(server, original)))));
  const succeeded = answers.filter((a) => a.ok);
  const outcomes = {};
  for (const a of answers) {
    const key = a.ok ? "200" : `${a.status} ${a.error ?? ""}`.trim();
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const successors = [...new Set(succeeded.map((a) => a.body.refresh_token).filter(Boolean))];
  const accessTokens = [...new Set(succeeded.map((a) => a.body.access_token))];
  // Which access tokens the race handed out still open the resource (the peer's /api/); ours has
  // no resource in this benchmark's contract.
  const liveAccess = server.accessCheck
    ? (await Promise.all(accessTokens.map((t) => server.accessCheck(t)))).filter(Boolean).length
    : null;
  // Then each distinct successor once: does it refresh? (One after the other: on the peer only the
  // grant's current token or its previous one refreshes, so the order does not change the count.)
  let working = 0;
  let next = null;
  for (const successor of successors) {
    const got = await tokenAnswer(await token(server, refreshBody(server, successor)));
    if (got.ok) {
      working += 1;
      next ??= got.body.refresh_token;
    }
  }
  // The family after the race: the successor of a working successor refreshes once more.
  let continues = false;
  if (next) continues = (await tokenAnswer(await token(server, refreshBody(server, next)))).ok;
  return {
    succeeded: succeeded.length, outcomes, distinct_successors: successors.length,
    distinct_access_tokens: accessTokens.length, live_access_tokens: liveAccess,
    successors_that_refresh: working, family_continues: continues,
  };
}

async function race(server) {
  const trials = [];
  for (let i = 0; i < RACE_TRIALS; i++) trials.push(await raceTrial(server));
  return trials;
}

// ---- the whole comparison ---------------------------------------------------------------------

/** Both servers, both kinds of request in interleaved rounds, then the race. { results, markdown } */
export async function compareOAuthPeers() {
  process.env.MINIFLARE_WORKERD_PATH = WRANGLER_WORKERD; // read by Miniflare as it starts workerd
  const scratch = mkdtempSync(`${tmpdir()}/edge-auth-oauth-peers-`);
  const results = {
    date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version },
    concurrency: CONCURRENCY, exchanges_per_round: EXCHANGES, refreshes_per_round: REFRESHES, rounds: ROUNDS,
    families: FAMILIES, race_width: RACE_WIDTH, race_trials: RACE_TRIALS, scope: SCOPE,
    workerd_version: WORKERD_VERSION, peer_version: PEER_VERSION,
    // ours runs with wrangler.toml's [vars] (tests/support's spawnApp), this one included.
    ours_refresh_reuse_grace_seconds: Number(readFileSync(`${ROOT}wrangler.toml`, "utf8").match(/^REFRESH_REUSE_GRACE_SECONDS\s*=\s*"(\d+)"/m)?.[1] ?? NaN),
  };
  const servers = {};
  try {
    if (ONLY_PEER) {
      results.ours = { skipped: "OAUTH_PEERS_ONLY_PEER=1" };
    } else {
      console.log("[bench] oauth peers: starting ours");
      const ours = await startOurs();
      if (ours.skipped) {
        console.log(`[bench] oauth peers: ours skipped: ${ours.skipped}`);
        results.ours = { skipped: ours.skipped };
      } else {
        servers.ours = ours;
      }
    }
    console.log("[bench] oauth peers: starting the peer");
    servers.peer = await startPeer(scratch);
    const who = Object.keys(servers);
    results.workerd_processes = Object.fromEntries(who.map((w) => [w, servers[w].workerd().length]));

    console.log("[bench] oauth peers: refresh families, and a warm-up run of each kind");
    const queues = {};
    for (const w of who) {
      queues[w] = await families(servers[w]);
      await exchangeRun(servers[w], WARMUP);
      await refreshRun(servers[w], queues[w], WARMUP);
    }
    const runs = { exchange: {}, refresh: {} };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? who : [...who].reverse();
      for (const w of order) {
        console.log(`[bench] oauth peers: round ${round + 1}, ${w}: code exchange`);
        (runs.exchange[w] ??= []).push(await exchangeRun(servers[w], EXCHANGES));
      }
      for (const w of order) {
        console.log(`[bench] oauth peers: round ${round + 1}, ${w}: refresh`);
        (runs.refresh[w] ??= []).push(await refreshRun(servers[w], queues[w], REFRESHES));
      }
    }
    for (const w of who) {
      console.log(`[bench] oauth peers: ${w}: ${RACE_WIDTH} parallel refreshes of one token, ${RACE_TRIALS} times`);
      results[w] = {
        exchange: pooled(runs.exchange[w]),
        refresh: pooled(runs.refresh[w]),
        race: await race(servers[w]),
      };
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
  }
  return { results, markdown: oauthPeersMarkdown(results) };
}

// ---- the report -------------------------------------------------------------------------------

const ratio = (a, b) => (a && b ? `**${(a / b).toFixed(2)}×**` : "–");
const failures = (f) => (f.non200 ? `${f.non200} (${Object.entries(f.failures).map(([k, n]) => `${n}× ${k}`).join(", ")})` : "0");

/** The `## OAuth peers` section of bench/results/latest.md. */
export function oauthPeersMarkdown(r) {
  const peer = `workers-oauth-provider ${r.peer_version}`;
  const has = (w) => r[w] && !r[w].skipped;
  const cell = (w, kind, show) => (has(w) ? show(r[w][kind]) : "–");
  const rows = [["exchange", "(a) code exchange (`authorization_code`, PKCE S256)"], ["refresh", "(b) refresh (`refresh_token`, an unspent token each)"]].map(([kind, label]) =>
    `| ${label} | ${cell("ours", kind, (f) => f.rps)} | ${cell("peer", kind, (f) => f.rps)} | ${has("ours") ? ratio(r.ours[kind].rps, r.peer[kind].rps) : "–"} | ${cell("ours", kind, (f) => `${f.workerd_ms} ms`)} | ${cell("peer", kind, (f) => `${f.workerd_ms} ms`)} | ${has("ours") ? ratio(r.ours[kind].workerd_ms, r.peer[kind].workerd_ms) : "–"} | ${cell("ours", kind, (f) => `${f.p50_ms} / ${f.p99_ms} ms`)} | ${cell("peer", kind, (f) => `${f.p50_ms} / ${f.p99_ms} ms`)} | ${cell("ours", kind, failures)} / ${cell("peer", kind, failures)} | ${cell("ours", kind, (f) => f.id_tokens)} / ${cell("peer", kind, (f) => f.id_tokens)} |`);
  const trialsRow = (label, read) => `| ${label} | ${["ours", "peer"].map((w) => {
    if (!has(w)) return "–";
    const values = r[w].race.map(read);
    return values.every((v) => v == null) ? "not checked" : values.join(", ");
  }).join(" | ")} |`;
  const outcomes = (t) => Object.entries(t.outcomes).map(([k, n]) => `${n}× ${k}`).join(" + ");
  return [
    `## OAuth peers: ${peer}`,
    "",
    `Run ${r.date}, ${r.machine.cpus} cores, node ${r.machine.node}; both servers in workerd ${r.workerd_version} (wrangler's) on workerd's own port (Miniflare, no \`wrangler dev\` proxy): ours the release build on a local D1, the peer (\`bench/peers/workers-oauth-provider\`) bundled by esbuild on a local KV. A Node loop keeps ${r.concurrency} requests in flight; ${r.exchanges_per_round} code exchanges and ${r.refreshes_per_round} refreshes per server per round, ${r.rounds} interleaved rounds (order alternating), pooled. CPU per request: user + system of that server's own workerd process (from /proc) from the start of a run to ${SETTLE_MS} ms after its last answer, divided by the requests completed. Codes minted beforehand at /authorize (not measured); refreshes over ${r.families} families per server, each request presenting the latest (never presented) refresh token of its family. Scope requested: \`${r.scope}\`.`,
    has("ours") ? "" : `\n**Ours not measured**: ${r.ours.skipped}.\n`,
    `| request | ours req/s | ${peer} req/s | throughput ours ÷ peer | ours CPU/request | peer CPU/request | CPU ours ÷ peer | ours p50 / p99 | peer p50 / p99 | non-200 (ours / peer) | answers with an id_token (ours / peer) |`,
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `The load generator (this Node process) used ${["ours", "peer"].filter(has).map((w) => `${r[w].exchange.client_ms} / ${r[w].refresh.client_ms} ms (${w})`).join(", ")} of CPU per exchange / refresh, on the same cores. workerd processes measured per server: ${Object.entries(r.workerd_processes).map(([w, n]) => `${w} ${n}`).join(", ")}.`,
    "",
    `### (c) ${r.race_width} parallel refreshes of one refresh token, ${r.race_trials} trials (one value per trial)`,
    "",
    `| | ours | ${peer} |`,
    "|---|---|---|",
    trialsRow(`answers (of ${r.race_width})`, outcomes),
    trialsRow("distinct successor refresh tokens", (t) => t.distinct_successors),
    trialsRow("distinct access tokens handed out", (t) => t.distinct_access_tokens),
    trialsRow("of those, accepted by the resource afterwards", (t) => t.live_access_tokens),
    trialsRow("successors that refresh when presented afterwards", (t) => t.successors_that_refresh),
    trialsRow("the family refreshes once more after that", (t) => (t.family_continues ? "yes" : "**no**")),
    "",
    `Rotation. Both rotate the refresh token on every use. (b) never presents a token twice, so neither server's allowance for a repeat is exercised: ours answers a repeat within REFRESH_REUSE_GRACE_SECONDS (${r.ours_refresh_reuse_grace_seconds} s here, wrangler.toml's) with the very same successor; the peer keeps a grant's previous refresh token valid until its successor is first used. In (c), "successors that refresh" presents each distinct successor once, one after the other, then refreshes once more from the first that worked. The peer reads the grant from KV, checks the token against the grant's current and previous token ids and writes the grant back with a new successor, with no compare-and-swap between the read and the write (cloudflare/workers-oauth-provider#214): every parallel refresh that read the grant before the first write succeeds with a successor of its own and an access token of its own, and the last write decides which single successor survives; the holders of the others get \`invalid_grant\` at their next refresh. "Accepted by the resource": the peer's \`/api/\` route; this benchmark has no resource route of ours to ask. The peer is no OpenID provider: its answers carry no id_token, while ours, by its contract, answers with an RS256 id_token when the scope has \`openid\` (the last column counts the answers that carried one, each exchange or refresh).`,
  ].join("\n");
}

/** Puts this part into bench/results/latest.{json,md}, keeping what other runs wrote there. */
export function writeOAuthPeers({ results, markdown }) {
  const dir = `${ROOT}bench/results`;
  mkdirSync(dir, { recursive: true });
  const jsonFile = `${dir}/latest.json`;
  const mdFile = `${dir}/latest.md`;
  const previous = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, "utf8")) : {};
  writeFileSync(jsonFile, JSON.stringify({ ...previous, oauth_peers: results }, null, 2) + "\n");
  // This section replaced where it stands (up to the next `## ` heading), or appended.
  const old = existsSync(mdFile) ? readFileSync(mdFile, "utf8").trimEnd() : "";
  const section = /^## OAuth peers\b[\s\S]*?(?=^## (?!OAuth peers\b)|(?![\s\S]))/m;
  const text = section.test(old)
    ? old.replace(section, `${markdown}\n\n`).trimEnd()
    : (old ? `${old}\n\n` : "") + markdown;
  writeFileSync(mdFile, text + "\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await compareOAuthPeers();
  writeOAuthPeers(report);
  console.log(report.markdown);
  process.exit(0);
}
