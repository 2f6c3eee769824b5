// Reads near the user (D1 read replication, the Sessions API): every answer that touched D1
// carries the newest bookmark of its session; a read-only route sent it back reads from a
// replica at least that fresh, so a client reads its own writes. A value that is not a
// bookmark is ignored, never handed to D1. (Locally there is one copy: the rules are what is
// tested here, not the replicas.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter } from "./support/app.mjs";

const app = appsClosedAfter(after);
const BOOKMARK = /^[0-9a-f]{8}(-[0-9a-f]+)+$/;

test("answers carry the session's bookmark, and a read sent it back sees the write before it", async () => {
  const target = await app({});
  const user = await target.signedInUser("bookmark");
  const renamed = await target.request("PUT", "/update-profile", { token: user.token, json: { name: "After the write" } });
  const bookmark = renamed.headers.get("x-d1-bookmark");
  assert.match(bookmark, BOOKMARK);
  const read = await target.request("GET", "/me", { token: user.token, headers: { "X-D1-Bookmark": bookmark } });
  assert.deepEqual([read.status, read.body.username], [200, "After the write"]);
  assert.match(read.headers.get("x-d1-bookmark"), BOOKMARK);
  assert.ok(read.headers.get("x-d1-bookmark") >= bookmark, "never older than the one sent");
  for (const path of ["/sessions", "/passkeys", "/identities", "/me/events"]) {
    const listed = await target.request("GET", path, { token: user.token, headers: { "X-D1-Bookmark": bookmark } });
    assert.equal(listed.status, 200, `${path}: ${listed.text}`);
  }
  const garbage = await target.request("GET", "/me", { token: user.token, headers: { "X-D1-Bookmark": "not a bookmark; drop table" } });
  assert.equal(garbage.status, 200, "ignored");
  assert.equal((await target.health()).headers.get("x-d1-bookmark"), null, "no D1, no bookmark");
});

test("anonymous answers carry no bookmark: a failed login or a sign-up cannot tell a known account", async () => {
  const target = await app({ mail: true });
  const user = await target.verifiedUser("anonymous");
  for (const answer of [
    await target.login(user.email, "not the password"),
    await target.login("nobody-here@example.com", "not the password"),
    await target.register({ email: `fresh-${Date.now()}@example.com`, password: user.password }),
    await target.request("POST", "/reset-password", { json: { email: user.email } }),
  ]) {
    assert.ok(answer.status >= 200, answer.text);
    assert.equal(answer.headers.get("x-d1-bookmark"), null, `${answer.status} ${answer.text}`);
  }
  const verified = await target.login(user.email, user.password);
  assert.match(verified.headers.get("x-d1-bookmark"), BOOKMARK, "a sign-in carries one: its next read sees its session");
});

test("a browser may send the bookmark and read it back (CORS)", async () => {
  const target = await app({ vars: { CORS_ALLOWED_ORIGINS: "https://app.example" } });
  const preflight = await target.request("OPTIONS", "/me", { headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization, x-d1-bookmark" } });
  assert.match(preflight.headers.get("access-control-allow-headers"), /X-D1-Bookmark/);
  const user = await target.signedInUser("corsbookmark");
  const me = await target.request("GET", "/me", { token: user.token, headers: { Origin: "https://app.example" } });
  assert.match(me.headers.get("access-control-expose-headers"), /X-D1-Bookmark/);
});
