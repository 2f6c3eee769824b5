// Why argon2 is slower inside workerd than in node: the same wasm (bench/argon2) timed, in
// interleaved rounds, in node 22 (V8 12.4) and node 25 (V8 14.1), each with V8's default
// guard-page bounds checks and with `--wasm-enforce-bounds-checks` (an explicit check per memory
// access), and bare inside workerd (bench/engines/worker.mjs) with and without that flag, passed
// through workerd's `v8Flags`. Prints medians; asserts nothing.
// Usage: node bench/engines/engines.mjs <node25> <workerd> <argon2_bench.wasm> [rounds]
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [node25, workerd, wasm, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 5);
const here = new URL(".", import.meta.url).pathname;
const argon2Script = join(here, "..", "argon2", "argon2.mjs");
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const dir = mkdtempSync(join(tmpdir(), "edge-auth-engines-"));
copyFileSync(join(here, "worker.mjs"), join(dir, "worker.mjs"));
copyFileSync(wasm, join(dir, "argon2_bench.wasm"));

/** Starts workerd serving the bare worker on `port` with `flags`; resolves once it answers. */
async function serve(port, flags) {
  const config = join(dir, `${port}.capnp`);
  writeFileSync(config, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
  v8Flags = [ ${flags.map((f) => JSON.stringify(f)).join(", ")} ],
);
const w :Workerd.Worker = (
  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs"),
              (name = "argon2_bench.wasm", wasm = embed "argon2_bench.wasm") ],
  compatibilityDate = "2025-01-01",
);
`);
  const child = spawn(workerd, ["serve", config], { stdio: "ignore" });
  process.on("exit", () => child.kill());
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`workerd on ${port} did not start`);
}

/** Median of 20 hash requests minus the median of 20 empty ones, after 5 warm-ups (tier-up). */
async function inWorkerd(port) {
  const time = async (path) => {
    const start = performance.now();
    await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
    return performance.now() - start;
  };
  for (let i = 0; i < 5; i++) await time("/hash");
  const hash = [], empty = [];
  for (let i = 0; i < 20; i++) {
    hash.push(await time("/hash"));
    empty.push(await time("/"));
  }
  return median(hash) - median(empty);
}

const inNode = (node, flags) =>
  JSON.parse(execFileSync(node, [...flags, argon2Script, wasm], { encoding: "utf8" })).median_ms;

await serve(8831, []);
await serve(8832, ["--wasm-enforce-bounds-checks"]);
const cases = {
  "node 22, guard pages": () => inNode(process.execPath, []),
  "node 22, explicit bounds checks": () => inNode(process.execPath, ["--wasm-enforce-bounds-checks"]),
  "node 25, guard pages": () => inNode(node25, []),
  "node 25, explicit bounds checks": () => inNode(node25, ["--wasm-enforce-bounds-checks"]),
  "workerd, its defaults": () => inWorkerd(8831),
  "workerd, --wasm-enforce-bounds-checks": () => inWorkerd(8832),
};
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(cases)) results[name].push(await run());
}
console.log(`| one argon2id hash, bench/argon2's wasm (median of ${rounds} interleaved rounds) | ms |`);
console.log("|---|---|");
for (const [name, times] of Object.entries(results)) console.log(`| ${name} | ${median(times).toFixed(2)} |`);
process.exit(0);
