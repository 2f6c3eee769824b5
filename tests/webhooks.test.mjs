// Webhooks through the worker's queue, as a receiver sees them: every delivery verified with
// `standardwebhooks`; a receiver that fails twice gets the event a third time, with the same id;
// one that never answers 2xx ends on the dead-letter queue; an account's life arrives as its
// events happen, each webhook the security event of the same id.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { spawnApp, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { newSecret, queueOptions, startReceiver } from "./support/webhooks.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const CURRENT = newSecret();
const PREVIOUS = newSecret();
const FLAKY = newSecret();
const DOWN = newSecret();
// The dead-letter test's receiver fails for good: 3 attempts (2 retries) instead of wrangler.toml's 13.
const MAX_RETRIES = 2;

let app;
let receiver;
before(async () => {
  receiver = await startReceiver({
    // /ok knows only the previous secret: a receiver not yet moved to the new one still verifies.
    secrets: { "/ok": PREVIOUS, "/flaky": FLAKY, "/down": DOWN },
    answers: (path, attempt) => ({ "/ok": 204, "/flaky": attempt <= 2 ? 500 : 200, "/down": 500 })[path],
  });
  app = await spawnApp({
    vars: {
      WEBHOOK_ENDPOINTS: [
        `${receiver.url}/ok ${CURRENT} ${PREVIOUS}`,
        `${receiver.url}/flaky ${FLAKY}`,
        `${receiver.url}/down ${DOWN}`,
      ].join(",\n"),
      WEBHOOK_RETRY_BASE_SECONDS: "1",
    },
    miniflare: queueOptions({ "edge-auth-webhooks": { maxRetries: MAX_RETRIES } }),
  });
});
after(async () => {
  await app?.close();
  await receiver?.close();
});

/** Registers a new account; its id and when the answer came. */
async function register(tag) {
  const email = uniqueEmail(tag);
  const answer = await app.register({ email, password: STRONG_PASSWORD });
  const answeredAt = Date.now();
  assert.equal(answer.status, 201);
  const row = await (await app.database()).prepare("SELECT id FROM users WHERE email = ?1").bind(email).first();
  return { id: row.id, answeredAt };
}

const forUser = (id) => (payload) => payload.data.user_id === id;

test("a sign-up is posted as user.created in the Standard Webhooks format, after the answer", async (t) => {
  const user = await register("created");
  const [delivery] = await receiver.received("/ok", forUser(user.id));
  assert.ok(delivery, "delivered and verified with the previous secret");
  assert.equal(delivery.method, "POST");
  assert.equal(delivery.headers["content-type"], "application/json");
  assert.match(delivery.headers["webhook-id"], /^evt_[A-Za-z0-9_-]{22}$/);
  assert.deepEqual(Object.keys(delivery.payload), ["type", "timestamp", "data"]);
  assert.equal(delivery.payload.type, "user.created");
  assert.match(delivery.payload.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(delivery.payload.data, { user_id: user.id, event: "account.created", detail: { method: "password" } });
  assert.ok(delivery.at > user.answeredAt, "the sign-up was answered before the webhook left");
  t.diagnostic(`sign-up answered → delivered: ${delivery.at - user.answeredAt} ms`);
  assert.equal(delivery.headers["webhook-signature"].split(" ").length, 2, "one signature per secret");
  assert.doesNotThrow(() => new Webhook(CURRENT).verify(delivery.body, delivery.headers), "the current secret verifies too");
});

test("a forged or altered delivery is what the package refuses", async () => {
  const user = await register("forged");
  const [genuine] = await receiver.received("/ok", forUser(user.id));
  const verify = (body, headers) => () => new Webhook(PREVIOUS).verify(body, headers);
  assert.doesNotThrow(verify(genuine.body, genuine.headers));
  const id = genuine.headers["webhook-id"];
  const at = new Date(Number(genuine.headers["webhook-timestamp"]) * 1000);
  const altered = genuine.body.replace(`"user_id":${user.id}`, `"user_id":${user.id + 1}`);
  assert.notEqual(altered, genuine.body);
  const forgeries = [
    ["an altered body", altered, genuine.headers],
    ["another secret's signature", genuine.body, { ...genuine.headers, "webhook-signature": new Webhook(newSecret()).sign(id, at, genuine.body) }],
    ["another id", genuine.body, { ...genuine.headers, "webhook-id": `${id}x` }],
    ["another timestamp", genuine.body, { ...genuine.headers, "webhook-timestamp": String(Number(genuine.headers["webhook-timestamp"]) - 1) }],
  ];
  for (const [why, body, headers] of forgeries) {
    assert.throws(verify(body, headers), WebhookVerificationError, why);
  }
});

test("a receiver that fails twice gets the same event a third time, after 1 s then 4 s", async (t) => {
  const user = await register("flaky");
  const accepted = (await receiver.received("/flaky", forUser(user.id), { count: 3, ms: 60_000 }))[2];
  assert.ok(accepted, "delivered a third time");
  const id = accepted.headers["webhook-id"];
  await sleep(2_000); // nothing more comes once it was accepted
  const attempts = receiver.deliveries.filter((d) => d.path === "/flaky" && d.headers["webhook-id"] === id);
  assert.deepEqual(attempts.map((d) => d.attempt), [1, 2, 3]);
  assert.ok(attempts.every((d) => d.payload && d.body === accepted.body), "every attempt verified, the same body");
  const stamps = attempts.map((d) => Number(d.headers["webhook-timestamp"]));
  assert.ok(stamps[2] - stamps[0] >= 4, `each attempt signed at its own time: ${stamps}`);
  // The delay the worker asked for, then the consumer's max_batch_timeout (1 s) before the batch
  // goes out: Miniflare shows gaps of about 2 s and 5 s.
  const gaps = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at];
  t.diagnostic(`sign-up answered → attempts: +${attempts[0].at - user.answeredAt} ms, then +${gaps[0]} ms, +${gaps[1]} ms`);
  assert.ok(gaps[0] >= 950 && gaps[0] < 3_000, `first retry after WEBHOOK_RETRY_BASE_SECONDS: ${gaps}`);
  assert.ok(gaps[1] >= 3_950 && gaps[1] < 7_000, `second retry four times later: ${gaps}`);
  const processed = new Set(attempts.filter((d) => d.attempt === 3).map((d) => d.headers["webhook-id"]));
  assert.equal(processed.size, 1, "one event for a receiver that de-duplicates by webhook-id");
  const failures = app.logs().filter((l) => l.message === "webhook attempt failed" && l.webhook_id === id && l.endpoint.endsWith("/flaky"));
  assert.deepEqual(failures.map((l) => [l.attempt, l.cause, l.retry_in_seconds]), [[1, "answered 500", 1], [2, "answered 500", 4]]);
});

test("a receiver that never accepts ends on the dead-letter queue after max_retries", async (t) => {
  const user = await register("down");
  const [first] = await receiver.received("/down", forUser(user.id));
  const id = first.headers["webhook-id"];
  const deadline = Date.now() + 60_000; // ends as soon as the line is in
  let dead;
  while (!dead && Date.now() < deadline) {
    await sleep(100);
    dead = app.logs().find((l) => l.message === "webhook undeliverable" && l.webhook_id === id);
  }
  assert.ok(dead, "logged from the dead-letter queue");
  t.diagnostic(`first attempt → dead-letter log line: ${Date.parse(dead.time) - first.at} ms`);
  assert.equal(dead.level, "error");
  assert.equal(dead.endpoint, `${receiver.url}/down`);
  assert.equal(JSON.parse(dead.body).data.user_id, user.id, "the body is kept for a replay");
  const attempts = receiver.deliveries.filter((d) => d.path === "/down" && d.headers["webhook-id"] === id);
  assert.equal(attempts.length, MAX_RETRIES + 1);
  assert.ok(attempts.every((d) => d.payload), "every attempt verified");
});

test("an account's life arrives in order, each webhook the trail's event of the same id", async () => {
  const email = uniqueEmail("life");
  assert.equal((await app.register({ email, password: STRONG_PASSWORD })).status, 201);
  const login = await app.login(email, STRONG_PASSWORD);
  assert.equal(login.status, 200);
  const token = login.body.token;
  assert.equal((await app.request("PUT", "/update-profile", { token, json: { name: "Life" } })).status, 200);
  const newPassword = `${STRONG_PASSWORD} again`;
  assert.equal((await app.request("POST", "/change-password", { token, json: { current_password: STRONG_PASSWORD, new_password: newPassword } })).status, 200);
  const row = await (await app.database()).prepare("SELECT id FROM users WHERE email = ?1").bind(email).first();
  const types = ["user.created", "session.created", "user.updated", "password.changed"];
  const deliveries = await receiver.received("/ok", forUser(row.id), { count: types.length, ms: 60_000 });
  // Each request queues its events after its answer: they arrive as they happened, give or take
  // two requests finishing together, so the set is exact and the order is the trail's.
  assert.deepEqual(deliveries.map((d) => d.payload.type).sort(), [...types].sort());
  const trail = await app.request("GET", "/me/events", { token });
  const byId = new Map(trail.body.events.map((e) => [e.id, e.type]));
  const trailed = Object.fromEntries(deliveries.map((d) => [d.payload.type, byId.get(d.headers["webhook-id"])]));
  assert.deepEqual(trailed, {
    "user.created": "account.created",
    "session.created": "sign_in.succeeded",
    "user.updated": "profile.updated",
    "password.changed": "password.changed",
  });
  const signedIn = deliveries.find((d) => d.payload.type === "session.created");
  assert.equal(signedIn.payload.data.detail.method, "password");
  // Stored as queued: nothing is left for the hourly cleanup to queue again. The worker marks them
  // after the queue took them, in the same background task, so a delivery can come first: wait
  // for the mark (a condition with a deadline, not a pause).
  const unqueued = async () => (await (await app.database()).prepare("SELECT COUNT(*) AS n FROM security_events WHERE user_id = ?1 AND webhook IS NOT NULL AND queued_at IS NULL").bind(row.id).first()).n;
  let left = await unqueued();
  for (const deadline = Date.now() + 30_000; left !== 0 && Date.now() < deadline; left = await unqueued()) await sleep(50);
  assert.equal(left, 0);
});
