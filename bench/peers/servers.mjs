// The servers of the peer comparison (bench/peers.mjs): edge-auth's release build, bench/floor and
// better-auth (bench/peers/better-auth), each started two ways:
//
// - `inWorkerd`: by Miniflare (the root package.json's, as tests/support runs the worker), whose
//   URL is workerd's own listening socket: no `wrangler dev` proxy in front, and each server is its
//   own workerd process, a child of this one, so /proc gives each server's CPU alone. The workerd
//   binary is wrangler's own (newer than the root Miniflare's), so the two ways differ by wrangler
//   alone;
// - `inWranglerDev`: by plain `wrangler dev`, each in a process group of its own. It runs two
//   workerd processes: the worker's (with its inspector, on a port of its own) and its proxy's (on
//   the port asked for), and its node processes print the log: the three measured apart.
//
// Every server is { label, base, workerd(), proxy(), wrangler(): pids, stop() }.
import { Miniflare } from "miniflare";
import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { spawnApp } from "../../tests/support/app.mjs";
import { groupPids, workerdChildPids } from "../workerd.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PEER = `${ROOT}bench/peers/better-auth/`;
const FLOOR = `${ROOT}bench/floor/`;
const ARGON2_WASM = `${ROOT}bench/argon2/target/wasm32-unknown-unknown/release/argon2_bench.wasm`;
/** The workerd that `wrangler dev` runs (its own Miniflare's), which Miniflare here runs too. */
const { default: WRANGLER_WORKERD, version: workerdVersion } = createRequire(`${ROOT}node_modules/wrangler/package.json`)("workerd");
export { workerdVersion };
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
/** As `npm run bench` serves ours: logins never lock out, one refresh token may be presented again. */
const OUR_VARS = { LOGIN_MAX_FAILURES: "1000000", REFRESH_REUSE_GRACE_SECONDS: "86400" };
/** workerd's log lines are read by nobody here: drained, so they cost workerd what printing costs. */
const drain = (stdout, stderr) => { stdout.resume(); stderr.resume(); };

const tomlString = (toml, key) => toml.match(new RegExp(`^${key}\\s*=\\s*"([^"]+)"`, "m"))?.[1];
const tomlVars = (toml) => Object.fromEntries(
  [...(toml.split(/^\[vars\]$/m)[1] ?? "").matchAll(/^([A-Z_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));

/** Applies a worker's migrations in order through its D1 binding, as tests/support does. */
async function migrate(db, dir) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const sql = readFileSync(`${dir}/${file}`, "utf8").replace(/--.*$/gm, "");
    for (const statement of sql.split(";").map((s) => s.trim()).filter(Boolean)) await db.prepare(statement).run();
  }
}

/** Starts one Miniflare and tells which workerd process is its own. */
async function ownWorkerd(label, start) {
  const before = new Set(workerdChildPids(process.pid));
  const { base, dispose } = await start();
  const pids = workerdChildPids(process.pid).filter((pid) => !before.has(pid));
  if (pids.length === 0) throw new Error(`no workerd process of its own for ${label}`);
  return { label, base, workerd: () => pids, proxy: () => [], wrangler: () => [], stop: dispose };
}

const miniflare = async (options) => {
  const mf = new Miniflare({ host: "127.0.0.1", port: 0, handleRuntimeStdio: drain, ...options });
  const base = (await mf.ready).href.replace(/\/$/, "");
  return { mf, base, dispose: () => mf.dispose() };
};

/** better-auth bundled by wrangler (esbuild) as `wrangler deploy` would upload it, into `dir`. */
function bundlePeer(dir) {
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", dir], { cwd: PEER, env, stdio: "pipe" });
  return `${dir}/index.js`;
}

/** The four servers on workerd's own ports: ours, the floor, better-auth and a bare argon2 hash. */
export async function inWorkerd() {
  process.env.MINIFLARE_WORKERD_PATH = WRANGLER_WORKERD; // read by Miniflare as it starts workerd
  const scratch = mkdtempSync(`${tmpdir()}/edge-auth-peers-`);
  const servers = {};
  servers.ours = await ownWorkerd("edge-auth", async () => {
    const app = await spawnApp({ vars: OUR_VARS, miniflare: { handleRuntimeStdio: drain } });
    return { base: app.base, dispose: () => app.close() };
  });
  servers.floor = await ownWorkerd("floor", () => miniflare({
    modules: true, scriptPath: `${FLOOR}index.js`, compatibilityDate: tomlString(readFileSync(`${FLOOR}wrangler.toml`, "utf8"), "compatibility_date"),
  }));
  servers.peer = await ownWorkerd("better-auth", async () => {
    const toml = readFileSync(`${PEER}wrangler.toml`, "utf8");
    const script = bundlePeer(`${scratch}/better-auth`);
    const started = await miniflare({
      modulesRoot: `${scratch}/better-auth`,
      modules: [{ type: "ESModule", path: script, contents: readFileSync(script, "utf8") }],
      compatibilityDate: tomlString(toml, "compatibility_date"),
      compatibilityFlags: JSON.parse(toml.match(/^compatibility_flags\s*=\s*(\[.*\])/m)[1]),
      d1Databases: { DB: "better-auth-peer" },
      bindings: tomlVars(toml),
    });
    await migrate(await started.mf.getD1Database("DB"), `${PEER}migrations`);
    return started;
  });
  // bench/engines' bare worker: one argon2id hash at our parameters per GET /hash, nothing else.
  servers.hash = await ownWorkerd("argon2id alone", () => {
    copyFileSync(`${ROOT}bench/engines/worker.mjs`, `${scratch}/worker.mjs`);
    copyFileSync(ARGON2_WASM, `${scratch}/argon2_bench.wasm`);
    return miniflare({
      modules: true, modulesRoot: scratch, scriptPath: `${scratch}/worker.mjs`, compatibilityDate: "2026-08-01",
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    });
  });
  const stop = async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
  };
  return { servers, stop };
}

const freePort = () => new Promise((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/** Of `wrangler dev`'s two workerd processes, the worker's is the one with the inspector. */
const isWorkersWorkerd = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector-addr");
  } catch {
    return false;
  }
};

/** `wrangler dev` in `cwd` with `args`, in a process group of its own; resolves once `path` answers. */
async function wranglerDev(label, cwd, args, path) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const child = spawn("wrangler", ["dev", ...args, "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(inspectorPort), "--show-interactive-dev-session=false"],
  { cwd, env, detached: true, stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}${path}`)).ok) break; } catch {}
    if (i > 600) throw new Error(`wrangler dev did not start ${label}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    label, base,
    workerd: () => groupPids(child.pid, { workerd: true }).filter(isWorkersWorkerd),
    proxy: () => groupPids(child.pid, { workerd: true }).filter((pid) => !isWorkersWorkerd(pid)),
    wrangler: () => groupPids(child.pid, { workerd: false }),
    stop: async () => {
      try { process.kill(-child.pid, "SIGTERM"); } catch {}
      await new Promise((r) => setTimeout(r, 1000));
    },
  };
}

/** Ours, the floor and better-auth, each under its own plain `wrangler dev` on a local D1. */
export async function inWranglerDev() {
  const scratch = mkdtempSync(`${tmpdir()}/edge-auth-peers-dev-`);
  // As bench.mjs: wrangler.toml without the per-IP flood shield (the load comes from one IP).
  const config = `${ROOT}.peers.wrangler.toml`;
  writeFileSync(config, readFileSync(`${ROOT}wrangler.toml`, "utf8").replace(/\n# The per-IP flood shield[\s\S]*$/, "\n"));
  const migrations = (cwd, persist, extra = []) => execFileSync("wrangler",
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist, ...extra], { cwd, env, stdio: "pipe" });
  migrations(ROOT, `${scratch}/ours`, ["-c", config]);
  migrations(PEER, `${scratch}/peer`);
  const vars = Object.entries(OUR_VARS).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const [ours, floor, peer] = await Promise.all([
    wranglerDev("edge-auth", ROOT, ["-c", config, "--persist-to", `${scratch}/ours`, ...vars], "/health"),
    wranglerDev("floor", FLOOR, [], "/"),
    wranglerDev("better-auth", PEER, ["--persist-to", `${scratch}/peer`], "/api/auth/ok"),
  ]);
  const stop = async () => {
    await Promise.all([ours, floor, peer].map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
    rmSync(config, { force: true });
  };
  return { servers: { ours, floor, peer }, stop };
}
