// Sessions that can be ended: refresh-token rotation, reuse detection, grace, logout everywhere.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A one-second grace window so that "after the grace window" takes seconds, not minutes.
let app;
// The default ten-second grace window, for the concurrent cases.
let graceful;
before(async () => {
  [app, graceful] = await Promise.all([
    spawnApp({ vars: { REFRESH_REUSE_GRACE_SECONDS: "1" } }),
    spawnApp(),
  ]);
});
after(() => Promise.all([app?.close(), graceful?.close()]));

const GRACE_PASSED_MS = 2_200;

test("RT1 → RT2 → RT3; RT1 replayed after the grace window kills the session", async () => {
  const user = await app.signedInUser("chain");
  const first = await app.refresh(user.refresh);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(Object.keys(first.body).sort(), ["expires_in", "message", "refresh", "token", "token_type"]);
  assert.equal(first.body.message, "Token refreshed");
  assert.equal(first.body.token_type, "Bearer");
  assert.equal(first.body.expires_in, 900);
  assert.notEqual(first.body.refresh, user.refresh);
  assert.equal((await app.me(first.body.token)).status, 200);

  const second = await app.refresh(first.body.refresh);
  assert.equal(second.status, 200, second.text);
  const rt3 = second.body.refresh;

  await sleep(GRACE_PASSED_MS);
  const replay = await app.refresh(user.refresh);
  assert.equal(replay.status, 401);
  assert.equal(replay.body.error, "unauthorized");
  // The whole session is gone: its newest refresh token and every access token of it.
  assert.equal((await app.refresh(rt3)).status, 401);
  for (const token of [user.token, first.body.token, second.body.token]) {
    assert.equal((await app.me(token)).status, 401);
  }
});

test("the same token twice within the grace window gets the same successor; the user stays in", async () => {
  const user = await graceful.signedInUser("tabs");
  const [a, b] = await Promise.all([graceful.refresh(user.refresh), graceful.refresh(user.refresh)]);
  assert.equal(a.status, 200, a.text);
  assert.equal(b.status, 200, b.text);
  assert.equal(a.body.refresh, b.body.refresh, "one successor, not two branches");
  const later = await graceful.refresh(user.refresh);
  assert.equal(later.status, 200, "a retry after a dropped response, within the window");
  assert.equal(later.body.refresh, a.body.refresh);
  const next = await graceful.refresh(a.body.refresh);
  assert.equal(next.status, 200, next.text);
  assert.equal((await graceful.me(next.body.token)).status, 200);
  assert.equal((await graceful.me(a.body.token)).status, 200, "the session lives on");
});

test("ten parallel refreshes of one token: no 500, all get the one successor", async () => {
  const user = await graceful.signedInUser("ten");
  const results = await Promise.all(Array.from({ length: 10 }, () => graceful.refresh(user.refresh)));
  assert.deepEqual(results.map((r) => r.status), Array(10).fill(200), results.map((r) => r.text).join("\n"));
  assert.equal(new Set(results.map((r) => r.body.refresh)).size, 1);
  const successor = results[0].body.refresh;
  const onward = await graceful.refresh(successor);
  assert.equal(onward.status, 200);
  assert.equal((await graceful.refresh(onward.body.refresh)).status, 200);
});

test("after the grace window a parallel replay of a spent token leaves no live branch", async () => {
  const user = await app.signedInUser("branches");
  const rt2 = (await app.refresh(user.refresh)).body.refresh;
  await sleep(GRACE_PASSED_MS);
  const results = await Promise.all([
    app.refresh(user.refresh),
    app.refresh(rt2),
    app.refresh(user.refresh),
  ]);
  assert.ok(results.every((r) => r.status === 200 || r.status === 401), results.map((r) => r.status).join());
  assert.ok(results.some((r) => r.status === 401), "the replay is refused");
  // Whatever won the race, the session is revoked now: nothing it handed out still works.
  for (const r of results.filter((r) => r.status === 200)) {
    assert.equal((await app.refresh(r.body.refresh)).status, 401);
    assert.equal((await app.me(r.body.token)).status, 401);
  }
});

test("an expired refresh token is refused (absolute lifetime, not sliding)", async () => {
  const short = await spawnApp({ vars: { REFRESH_TOKEN_TTL_SECONDS: "2" } });
  try {
    // A refresh answered within 2 s of the whole second the login was sent in is inside the
    // lifetime (it starts at the session, no earlier; the server counts whole seconds); one
    // answered later (a slow machine) proves nothing: again.
    let refreshed;
    for (let round = 0; !refreshed; round++) {
      assert.ok(round < 10, "ten rounds too slow to refresh inside a 2 s lifetime");
      const user = await short.signedInUser("expiry");
      const sent = Math.floor(Date.now() / 1000) * 1000;
      const login = await short.login(user.email, user.password);
      assert.equal(login.status, 200, login.text);
      const answer = await short.refresh(login.body.refresh);
      if (Date.now() < sent + 2_000) refreshed = answer;
    }
    assert.equal(refreshed.status, 200, "still inside the lifetime");
    await sleep(2_200);
    assert.equal((await short.refresh(refreshed.body.refresh)).status, 401, "rotation did not extend it");
    assert.equal((await short.me(refreshed.body.token)).status, 401, "the session ended with it");
  } finally {
    await short.close();
  }
});

test("logout ends one session; logout?scope=all from a second device ends every one", async () => {
  const laptop = await app.signedInUser("devices");
  const phone = (await app.login(laptop.email, laptop.password)).body;
  const tablet = (await app.login(laptop.email, laptop.password)).body;

  assert.equal((await app.logout(laptop.token)).status, 200);
  assert.equal((await app.me(laptop.token)).status, 401);
  assert.equal((await app.refresh(laptop.refresh)).status, 401);
  assert.equal((await app.me(phone.token)).status, 200, "other sessions untouched");

  const all = await app.logout(phone.token, { scope: "all" });
  assert.equal(all.status, 200, all.text);
  for (const session of [phone, tablet]) {
    assert.equal((await app.me(session.token)).status, 401);
    assert.equal((await app.refresh(session.refresh)).status, 401);
  }
  const login = await app.login(laptop.email, laptop.password);
  assert.equal(login.status, 200, "logging in again works");
});

test("logout with a refresh token ends that token's session too", async () => {
  const user = await app.signedInUser("withrt");
  const other = (await app.login(user.email, user.password)).body;
  assert.equal((await app.logout(user.token, { refresh: other.refresh })).status, 200);
  assert.equal((await app.refresh(other.refresh)).status, 401);
  assert.equal((await app.me(other.token)).status, 401);
});

test("logout refuses an unknown scope", async () => {
  const user = await app.signedInUser("scope");
  const response = await app.logout(user.token, { scope: "galaxy" });
  assert.equal(response.status, 400);
  assert.equal(response.body.error, "validation_failed");
  assert.equal((await app.me(user.token)).status, 200);
});

test("tokens of the wrong type are refused both ways", async () => {
  const user = await app.signedInUser("types");
  const asBearer = await app.me(user.refresh);
  assert.equal(asBearer.status, 401);
  assert.equal(asBearer.body.error, "unauthorized");
  const asRefresh = await app.refresh(user.token);
  assert.equal(asRefresh.status, 401);
  for (const bad of ["", "x", "A".repeat(43)]) {
    assert.equal((await app.refresh(bad)).status, 401, JSON.stringify(bad));
  }
  assert.equal((await app.refresh(42)).status, 400, "a number is a validation error");
  assert.equal((await app.me(user.token)).status, 200, "nothing above harmed the session");
});
