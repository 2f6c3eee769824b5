// Prints the median microseconds of one access-token signature and one verification in V8 (node,
// the engine workerd uses), EdDSA (now) and HS256 (before), for the wasm module given, as JSON.
import { readFileSync } from "node:fs";

const SAMPLES = 15;
const PER_SAMPLE = 200;
const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]), {});
const result = {};
for (const name of ["eddsa_sign_n", "eddsa_verify_n", "hs256_sign_n", "hs256_verify_n"]) {
  const run = instance.exports[name];
  if (run(PER_SAMPLE) === 0) throw new Error(`${name} did nothing`);
  const times = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    run(PER_SAMPLE);
    times.push(((performance.now() - start) * 1000) / PER_SAMPLE);
  }
  times.sort((a, b) => a - b);
  result[name.replace(/_n$/, "_us")] = Number(times[SAMPLES >> 1].toFixed(1));
}
console.log(JSON.stringify(result));
