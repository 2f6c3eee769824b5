// The workerd processes on this machine, as /proc shows them: the benchmarks' measure of memory
// and CPU.

import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

const pidsWhere = (accept) => readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((pid) => {
  try {
    return accept(pid);
  } catch {
    return false; // the process ended while we looked
  }
});
/** The fields of /proc/<pid>/stat after the command's name: [0] is the state, [1] the parent. */
const statFields = (pid) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
const isWorkerd = (pid) => {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  return cmdline.includes("workerd") && cmdline.includes("serve");
};

/** Every running `workerd serve` process (what `wrangler dev` starts). */
export const workerdPids = () => pidsWhere(isWorkerd);

/** The `workerd serve` processes whose parent is `parent` (what a Miniflare of that process starts). */
export const workerdChildPids = (parent) => pidsWhere((pid) => Number(statFields(pid)[1]) === parent && isWorkerd(pid));

/** The processes of process group `group` (a `wrangler dev` started detached), workerd or not. */
export const groupPids = (group, { workerd }) =>
  pidsWhere((pid) => Number(statFields(pid)[2]) === group && isWorkerd(pid) === workerd);

/** The resident memory of all of them together, in KiB. */
export const workerdRssKiB = () => workerdPids().reduce((sum, pid) => {
  try { return sum + Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]); } catch { return sum; }
}, 0);

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
/** CPU seconds (user + system) that the processes `pids` have used so far. */
export function cpuSeconds(pids) {
  return pids.reduce((sum, pid) => {
    try {
      const fields = statFields(pid);
      return sum + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return sum;
    }
  }, 0);
}
