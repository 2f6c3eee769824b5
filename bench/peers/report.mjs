// The peer comparison's markdown (bench/peers.mjs): absolute figures per way of serving, and the
// ratios against issue 26's targets.
import { readFileSync } from "node:fs";

const PEER_VERSION = JSON.parse(readFileSync(new URL("better-auth/package.json", import.meta.url), "utf8")).dependencies["better-auth"];
const MODES = { workerd: "workerd's own port (Miniflare, no wrangler proxy)", wrangler_dev: "plain `wrangler dev`" };

/** a ÷ b, or null when either was not measured (no request completed). */
const ratio = (a, b) => (a && b ? Number((a / b).toFixed(2)) : null);
const times = (x) => (x == null ? "–" : `**${x}×**`);
const ms = (figure, mode) => (figure.workerd_ms == null ? "none completed"
  : `${figure.workerd_ms} ms${mode === "wrangler_dev" ? ` (+${figure.proxy_ms} proxy, +${figure.wrangler_ms} node)` : ""}`);

/** Issue 26's targets: each reads one way of serving's results, null where it was not measured. */
const TARGETS = [
  ["`GET /health` CPU ≤ 1.2× the floor's", (r) => r.trivial.floor && ratio(r.trivial.ours.workerd_ms, r.trivial.floor.workerd_ms), (x) => x <= 1.2],
  ["`GET /health` CPU below better-auth's `/ok` (ours ÷ theirs < 1)", (r) => ratio(r.trivial.ours.workerd_ms, r.trivial.peer.workerd_ms), (x) => x < 1],
  ["`GET /me` CPU ≤ 2× the floor's", (r) => r.trivial.floor && ratio(r.session.ours.workerd_ms, r.trivial.floor.workerd_ms), (x) => x <= 2],
  ["`GET /me` throughput ≥ 2× better-auth's `get-session`", (r) => ratio(r.session.ours.rps, r.session.peer.rps), (x) => x >= 2],
  ["`POST /login` throughput ≥ 2.2× better-auth's `sign-in/email`", (r) => ratio(r.login.ours.rps, r.login.peer.rps), (x) => x >= 2.2],
  ["`POST /login` CPU ≤ 1.15× one argon2id hash alone in workerd", (r) => r.login.hash && ratio(r.login.ours.workerd_ms, r.login.hash.workerd_ms), (x) => x <= 1.15],
];

/** Who wins each pair, by throughput and by CPU: what "the same order" compares across modes. */
const orders = (r, pairs) => pairs.flatMap(({ key }) => [
  [`${key} throughput`, r[key].ours.rps > r[key].peer.rps],
  [`${key} CPU`, r[key].ours.workerd_ms < r[key].peer.workerd_ms],
]);

function modeTable(r, mode, pairs) {
  const rows = pairs.map(({ key, ours, peer }) => {
    const [o, p] = [r[key].ours, r[key].peer];
    return `| ${key} | \`${ours}\` | \`${peer}\` | ${o.rps} | ${p.rps} | ${times(ratio(o.rps, p.rps))} | ${ms(o, mode)} | ${ms(p, mode)} | ${times(ratio(o.workerd_ms, p.workerd_ms))} | ${o.non2xx} / ${p.non2xx} |`;
  });
  const alone = (label, figure) => figure && `| ${label} | | | ${figure.rps} | | | ${ms(figure, mode)} | | | ${figure.non2xx} |`;
  return [
    `### On ${MODES[mode]}`,
    "",
    "| pair | ours | better-auth | ours req/s | better-auth req/s | throughput ours ÷ better-auth | ours CPU/request | better-auth CPU/request | CPU ours ÷ better-auth | non-2xx (ours / better-auth) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    alone("the floor: `bench/floor`, a JS worker answering a constant", r.trivial.floor),
    alone("one argon2id hash alone (`bench/engines`' bare worker, `GET /hash`)", r.login.hash),
    "",
    `workerd processes measured per server: ${Object.entries(r.workerd_processes).map(([who, n]) => `${who} ${n}`).join(", ")}.`,
  ].filter((line) => line != null && line !== false);
}

/** The section `## Peers` of bench/results/latest.md. */
export function peersMarkdown(results, pairs) {
  const modes = Object.keys(MODES).filter((m) => results[m]);
  const verdict = (value, met) => (value == null ? "not measured" : `${value}×: ${met(value) ? "met" : "**not met**"}`);
  const targetRows = TARGETS.map(([label, read, met]) =>
    `| ${label} | ${modes.map((m) => verdict(read(results[m]), met)).join(" | ")} |`);
  let sameOrder = [];
  if (modes.length === 2) {
    const [direct, dev] = modes.map((m) => orders(results[m], pairs));
    const differ = direct.filter(([name, win], i) => dev[i][1] !== win).map(([name]) => name);
    sameOrder = [`| the same order under \`wrangler dev\` (who wins each pair, by throughput and by CPU) | ${direct.length - differ.length} of ${direct.length} agree | ${differ.length ? `**differ**: ${differ.join(", ")}` : "met"} |`];
  }
  return [
    `## Peers: better-auth ${PEER_VERSION} and the floor`,
    "",
    `wrk -t1 -c${results.concurrency} -d${results.duration} (logins and the bare hash -d${results.login_duration}), ${results.rounds} interleaved rounds per route, pooled; workerd ${results.workerd_version} (wrangler's) both ways. CPU per request: user + system of that server's own workerd process (from /proc) over its runs, divided by the requests completed; under \`wrangler dev\`, the worker's workerd (the one with the inspector), and in brackets wrangler's: its proxy's workerd and its node processes (which print the log). \`npm run bench\`'s own table above counts both workerd processes as workerd. better-auth (\`bench/peers/better-auth\`): email and password, its bearer plugin, its default password hash, scrypt N = 2^14, r = 16, p = 1 (32 MiB; OWASP's 32 MiB row asks p = 3), through node:crypto. Ours: argon2id m = 19456 KiB, t = 2, p = 1 (OWASP's).`,
    "",
    ...modes.flatMap((m) => [...modeTable(results[m], m, pairs), ""]),
    "### Against issue 26's targets",
    "",
    `| target | ${modes.map((m) => MODES[m]).join(" | ")} |`,
    `|---|${modes.map(() => "---|").join("")}`,
    ...targetRows,
    ...sameOrder,
  ].join("\n");
}
