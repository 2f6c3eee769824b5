// Methods the worker has no name for (found by the contract fuzzer, scripts/fuzz.sh): workers-rs
// reads them as GET, so `QUERY /me` once answered the profile. They are methods no route takes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";

let app;
after(() => app?.close());

test("a method workers-rs does not know is no GET: 405 with Allow, or 404", async () => {
  app = await spawnApp({});
  const user = await app.signedInUser("methods");
  for (const [method, path, allow] of [
    ["QUERY", "/me", "GET, DELETE, OPTIONS"],
    ["PROPFIND", "/health", "GET, OPTIONS"],
    ["PURGE", "/sessions", "GET, OPTIONS"],
  ]) {
    const refused = await app.request(method, path, { token: user.token });
    assert.deepEqual([refused.status, refused.body.error], [405, "method_not_allowed"], `${method} ${path}`);
    assert.equal(refused.headers.get("allow"), allow, `${method} ${path}`);
  }
  assert.equal((await app.request("QUERY", "/nope")).status, 404);
  assert.equal((await app.request("GET", "/health")).status, 200);
});
