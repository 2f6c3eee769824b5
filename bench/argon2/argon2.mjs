// Prints the median milliseconds of one argon2id hash in V8 (node, the engine workerd uses), for
// the wasm module given as argument, as JSON.
import { readFileSync } from "node:fs";

const SAMPLES = 15;
const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]), {});
instance.exports.hash_n(2); // warm-up (and tier-up)
const times = [];
for (let i = 0; i < SAMPLES; i++) {
  const start = performance.now();
  instance.exports.hash_n(1);
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: Number(times[SAMPLES >> 1].toFixed(3)), samples: SAMPLES }));
