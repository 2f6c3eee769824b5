// The argon2 benchmark's wasm, bare inside workerd: GET /hash runs one hash, GET / nothing. No
// wasm-bindgen glue, no D1, none of the worker's code: what workerd's V8 makes of the same module.
import wasm from "argon2_bench.wasm";

const instance = new WebAssembly.Instance(wasm, {});

export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/hash") instance.exports.hash_n(1);
    return new Response("ok");
  },
};
