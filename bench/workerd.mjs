// The workerd processes on this machine, as /proc shows them: the benchmarks' measure of memory.

import { readFileSync, readdirSync } from "node:fs";

/** Every running `workerd serve` process (what `wrangler dev` starts). */
export function workerdPids() {
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return cmdline.includes("workerd") && cmdline.includes("serve");
    } catch {
      return false;
    }
  });
}

/** The resident memory of all of them together, in KiB. */
export const workerdRssKiB = () => workerdPids().reduce((sum, pid) => {
  try { return sum + Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]); } catch { return sum; }
}, 0);
