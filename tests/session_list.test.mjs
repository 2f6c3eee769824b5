// GET /sessions and DELETE /sessions/{id}: a user sees their signed-in devices and ends one.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter } from "./support/app.mjs";

const app = appsClosedAfter(after);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function loginWith(target, user, userAgent) {
  return target.request("POST", "/login", { json: { email: user.email, password: user.password }, headers: { "User-Agent": userAgent } });
}

test("the caller's live sessions, newest first, with their device, last refresh and which one is current", async () => {
  const target = await app({});
  const user = await target.signedInUser("devices");
  await sleep(1100); // created_at has one-second resolution
  const phone = (await loginWith(target, user, "Phone/1.0 (Android 15)")).body;
  await sleep(1100);
  const longAgent = `Laptop/2.0 ${"x".repeat(300)}`;
  const laptop = (await loginWith(target, user, longAgent)).body;
  assert.equal((await target.refresh(phone.refresh)).status, 200);
  assert.equal((await target.logout(user.token)).status, 200, "an ended session is not listed");

  const listed = await target.sessions(laptop.token);
  assert.equal(listed.status, 200, listed.text);
  const { sessions } = listed.body;
  assert.equal(sessions.length, 2);
  const [newest, older] = sessions;
  assert.equal(newest.current, true);
  assert.equal(older.current, false);
  assert.ok(newest.created_at > older.created_at, "newest first");
  assert.equal(newest.user_agent.length, 120, "the User-Agent is shortened");
  assert.ok(newest.user_agent.startsWith("Laptop/2.0 ") && newest.user_agent.endsWith("…"));
  assert.equal(older.user_agent, "Phone/1.0 (Android 15)");
  assert.equal(newest.last_used_at, null, "never refreshed");
  assert.match(older.last_used_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "refreshed once");
  for (const session of sessions) assert.match(session.id, /^[A-Za-z0-9_-]{16,}$/);
});

test("ending one session by id kills its tokens at once and leaves the others; a second try, another user's id and junk are 404", async () => {
  const target = await app({});
  const user = await target.signedInUser("endone");
  const other = (await target.login(user.email, user.password)).body;
  const stranger = await target.signedInUser("stranger");
  const mine = (await target.sessions(user.token)).body.sessions;
  const otherId = mine.find((s) => !s.current).id;
  const strangerId = (await target.sessions(stranger.token)).body.sessions[0].id;

  const ended = await target.endSession(user.token, otherId);
  assert.equal(ended.status, 200, ended.text);
  assert.deepEqual(ended.body, { message: "Session ended" });
  assert.equal((await target.me(other.token)).status, 401);
  assert.equal((await target.refresh(other.refresh)).status, 401);
  assert.equal((await target.me(user.token)).status, 200, "the caller's session stays");

  for (const id of [otherId, strangerId, "no-such-session", "%00"]) {
    const missing = await target.endSession(user.token, id);
    assert.equal(missing.status, 404, id);
    assert.equal(missing.body.error, "not_found");
  }
  assert.equal((await target.me(stranger.token)).status, 200, "another user's session is untouched");
  assert.equal((await target.sessions(user.token)).body.sessions.length, 1);
});

test("the caller may end their own current session; a bad or ended token gets 401", async () => {
  const target = await app({});
  const user = await target.signedInUser("endself");
  const [current] = (await target.sessions(user.token)).body.sessions;
  assert.equal((await target.endSession(user.token, current.id)).status, 200);
  assert.equal((await target.me(user.token)).status, 401);
  assert.equal((await target.sessions(user.token)).status, 401);
  assert.equal((await target.endSession(user.token, current.id)).status, 401);
  assert.equal((await target.sessions(undefined)).status, 401);
  assert.equal((await target.endSession("junk", "x")).status, 401);
});
