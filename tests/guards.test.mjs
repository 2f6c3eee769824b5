// The guards in front of every route: the flood shield's keys, the breached-password lookup's
// timeout, and the Bearer challenge of every 401.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";

const app = appsClosedAfter(after);

// ---- 7. Smaller items ---------------------------------------------------------------------------

test("the flood shield keys IPv6 by its /64, and requests without an address share one bucket", async () => {
  const shielded = await app({
    miniflare: { ratelimits: { RATE_LIMITER: { namespace_id: "1001", simple: { limit: 2, period: 60 } } } },
  });
  const login = (ip) => shielded.login(uniqueEmail("flood"), "whatever", { ip }).then((r) => r.status);
  assert.deepEqual([await login("2001:db8:1:2::1"), await login("2001:db8:1:2::2")], [401, 401]);
  assert.equal(await login("2001:db8:1:2:abcd::3"), 429, "same /64");
  assert.equal(await login("2001:db8:1:3::1"), 401, "another /64");
  assert.deepEqual([await login(undefined), await login(undefined), await login(undefined)], [401, 401, 429]);
  assert.equal(await login("192.0.2.10"), 401, "an address is not in the unknown bucket");
});

test("a breached-password lookup that hangs is given up after a timeout (fails open)", { timeout: 15_000 }, async () => {
  const hung = [];
  const server = createServer((req) => hung.push(req)); // never answers
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const target = await app({ vars: { HIBP_CHECK: "true", HIBP_API_BASE: `http://127.0.0.1:${server.address().port}` } });
    const started = Date.now();
    const response = await target.register({ email: uniqueEmail("hibp-hang"), password: STRONG_PASSWORD });
    const took = Date.now() - started;
    assert.equal(response.status, 201, response.text);
    assert.ok(hung.length >= 1, "the lookup was made");
    assert.ok(took < 5000, `answered after ${took} ms`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("every 401 names the Bearer scheme (RFC 6750 §3)", async () => {
  const target = await app({});
  const user = await target.signedInUser("www");
  for (const response of [
    await target.me(undefined),
    await target.me("not-a-token"),
    await target.login(user.email, "wrong password"),
    await target.refresh("x".repeat(43)),
  ]) {
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="edge-auth"');
  }
});
