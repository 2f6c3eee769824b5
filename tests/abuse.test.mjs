// Abuse resistance: lockout, no enumeration, password policy, token attacks, flood shield, bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign } from "node:crypto";
import { createServer } from "node:http";
import { spawnApp, uniqueEmail, TEST_SECRET, TEST_SIGNING_KEY, STRONG_PASSWORD } from "./support/app.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let app;
before(async () => {
  app = await spawnApp({ vars: { LOGIN_MAX_FAILURES: "3", LOGIN_LOCKOUT_SECONDS: "2" } });
});
after(() => app?.close());

test("after the limit, even the right password gets 429 with Retry-After until the lockout ends", async () => {
  // The lockout (2 s, in whole seconds) ends no earlier than the second the third failure was sent
  // in, plus two: a right login answered before then must be refused. One answered later (a slow
  // machine) proves nothing either way, so the round is done again with a new account.
  let user;
  let locked;
  for (let round = 0; !locked; round++) {
    assert.ok(round < 10, "ten rounds too slow to land inside a 2 s lockout");
    user = await app.signedInUser("lock");
    for (let i = 0; i < 2; i++) assert.equal((await app.login(user.email, `wrong ${i}`)).status, 401);
    const lockedFrom = Math.floor(Date.now() / 1000) * 1000; // the server's whole second, or earlier
    assert.equal((await app.login(user.email, "wrong 2")).status, 401);
    const answer = await app.login(user.email, user.password);
    if (Date.now() < lockedFrom + 2_000) locked = answer;
  }
  assert.equal(locked.status, 429, locked.text);
  assert.equal(locked.body.error, "too_many_attempts");
  const retryAfter = Number(locked.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
  await sleep(2_200);
  assert.equal((await app.login(user.email, user.password)).status, 200, "the lockout ended");
});

test("a successful login resets the count", async () => {
  const user = await app.signedInUser("reset-count");
  for (let round = 0; round < 3; round++) {
    assert.equal((await app.login(user.email, "wrong")).status, 401);
    assert.equal((await app.login(user.email, "wrong")).status, 401);
    assert.equal((await app.login(user.email, user.password)).status, 200, `round ${round}`);
  }
});

test("unknown emails are locked out the same way", async () => {
  // As above: the last two must be answered inside the lockout, which ends no earlier than two
  // seconds after the whole second the third try was sent in; a slower round is done again.
  let statuses;
  for (let round = 0; !statuses; round++) {
    assert.ok(round < 10, "ten rounds too slow to land inside a 2 s lockout");
    const ghost = uniqueEmail("ghost");
    const tries = [];
    let lockedFrom;
    for (let i = 0; i < 5; i++) {
      if (i === 2) lockedFrom = Math.floor(Date.now() / 1000) * 1000;
      tries.push((await app.login(ghost, "whatever")).status);
    }
    if (Date.now() < lockedFrom + 2_000) statuses = tries;
  }
  assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
});

test("200 parallel wrong logins let through at most the limit", async () => {
  // A lockout that outlasts the 200 logins: on a loaded machine they take longer than the file's
  // 2 s one, which then ends mid-way and lets a second round of three be checked.
  const locking = await spawnApp({ vars: { LOGIN_MAX_FAILURES: "3", LOGIN_LOCKOUT_SECONDS: "60" } });
  try {
    const user = await locking.signedInUser("parallel");
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => locking.login(user.email, `wrong ${i}`)));
    const count = (status) => results.filter((r) => r.status === status).length;
    assert.equal(count(401) + count(429), 200, results.map((r) => r.status).join());
    assert.ok(count(401) <= 3, `${count(401)} attempts were checked`);
    assert.equal(count(401), 3, "the limit is reached exactly");
    assert.equal((await locking.login(user.email, user.password)).status, 429);
  } finally {
    await locking.close();
  }
});

test("unknown email and wrong password are byte-identical", async () => {
  const user = await app.signedInUser("same");
  const wrong = await app.login(user.email, "not it at all");
  const unknown = await app.login(uniqueEmail("nobody"), "not it at all");
  assert.equal(wrong.status, unknown.status);
  assert.equal(wrong.text, unknown.text);
  // Every header alike but the date and the request's own id (random per request, by design).
  const headers = (r) => [...r.headers.entries()].filter(([k]) => k !== "date" && k !== "x-request-id");
  assert.deepEqual(headers(wrong), headers(unknown));
  assert.match(wrong.headers.get("x-request-id"), /^[0-9a-f]{16}$/);
  assert.match(unknown.headers.get("x-request-id"), /^[0-9a-f]{16}$/);
});

test("the password policy: lengths in characters, any Unicode, common passwords refused", async (t) => {
  const cases = [
    ["7 characters", "abcdefg", 400, "too_short"],
    ["8 characters", "kq8vZ2mW", 201],
    ["128 characters", "p".repeat(127) + "!", 201],
    ["129 characters", "p".repeat(129), 400, "too_long"],
    ["emoji", "🔐🔑🗝️🚪🔐🔑🗝️🚪", 201],
    ["spaces", "    spaces    ", 201],
    ["common password", "password123", 400, "too_common"],
    ["common password in other case", "Qwertyuiop", 400, "too_common"],
  ];
  for (const [name, password, status, reason] of cases) {
    await t.test(name, async () => {
      const email = uniqueEmail("policy");
      const response = await app.register({ email, password });
      assert.equal(response.status, status, response.text);
      if (reason) {
        assert.equal(response.body.error, "validation_failed");
        assert.equal(response.body.fields.password, reason);
      } else {
        assert.equal((await app.login(email, password)).status, 200, "no truncation, no folding");
      }
    });
  }
});

test("bodies over 64 KiB are refused before parsing, declared or streamed", async () => {
  const megabytePassword = "x".repeat(1 << 20);
  // The worker answers before it has read the body, and closes: both are sent as a client that
  // stops sending at the answer would (fetch fails the request when the close meets its writes).
  const declared = await app.requestStoppingAtAnswer("POST", "/login", { json: { email: uniqueEmail(), password: megabytePassword } });
  assert.equal(declared.status, 413);
  assert.equal(declared.body.error, "payload_too_large");

  // Streamed with no Content-Length: the worker stops reading at the limit and answers at once,
  // without waiting for the body's end (the client, past the limit, sends nothing more).
  const streamed = await app.requestStoppingAtAnswer("POST", "/register", {
    headers: { "Content-Type": "application/json" },
    chunks: [`{"email":"${uniqueEmail()}","password":"`, ...Array.from({ length: 4 }, () => "x".repeat(16 * 1024))],
  });
  assert.equal(streamed.status, 413);
  assert.equal(streamed.body.error, "payload_too_large");
});

test("security headers: no-store on tokens, nosniff everywhere", async () => {
  const user = await app.signedInUser("headers");
  const responses = [
    await app.login(user.email, user.password),
    await app.refresh(user.refresh),
    await app.request("GET", "/nowhere"),
    await app.request("DELETE", "/login"),
    await app.request("OPTIONS", "/login", { headers: { Origin: "https://a.example" } }),
    await app.health(),
  ];
  for (const r of responses) assert.equal(r.headers.get("x-content-type-options"), "nosniff", `${r.status}`);
  assert.equal(responses[0].headers.get("cache-control"), "no-store");
  assert.equal(responses[1].headers.get("cache-control"), "no-store");
});

// ---- Token attacks, each 401 -------------------------------------------------------------------

const b64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const ourKey = createPrivateKey({ key: TEST_SIGNING_KEY.privateJwk, format: "jwk" });
const attackerKey = generateKeyPairSync("ed25519").privateKey;
/** The HS256 key of the previous release, derived from JWT_SECRET: no longer accepted. */
const previousHmacKey = createHmac("sha256", TEST_SECRET).update("edge-auth access token v1").digest();

/** Signs header and claims with Ed25519 under `key`, as the worker (or an attacker) would. */
function sign(header, claims, key = ourKey) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), key).toString("base64url")}`;
}

function signHmac(header, claims, key) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

test("token attacks are refused, and the forging itself is sound", async (t) => {
  const user = await app.signedInUser("attacks");
  const real = JSON.parse(Buffer.from(user.token.split(".")[1], "base64url"));
  const now = Math.floor(Date.now() / 1000);
  const claims = { ...real, iat: now, exp: now + 600 };
  const kid = TEST_SIGNING_KEY.privateJwk.kid;
  const header = { alg: "EdDSA", typ: "at+jwt", kid };

  const control = await app.me(sign(header, claims));
  assert.equal(control.status, 200, "a token forged with the real key and claims passes: the forger is right");

  const { exp: _omit, ...withoutExp } = claims;
  const attackerJwk = createPublicKey(attackerKey).export({ format: "jwk" });
  const cases = {
    "alg none": `${b64url({ alg: "none", typ: "at+jwt", kid })}.${b64url(claims)}.`,
    "alg None, signature kept": `${b64url({ alg: "None", typ: "at+jwt", kid })}.${b64url(claims)}.${sign(header, claims).split(".")[2]}`,
    "signed with another Ed25519 key under our kid": sign(header, claims, attackerKey),
    "HS256 keyed with our public key (algorithm confusion)": signHmac({ alg: "HS256", typ: "at+jwt", kid }, claims, Buffer.from(TEST_SIGNING_KEY.publicJwk.x, "base64url")),
    "HS256 under the previous release's key": signHmac({ alg: "HS256", typ: "at+jwt" }, claims, previousHmacKey),
    "signed with the raw JWT_SECRET": signHmac({ alg: "HS256", typ: "at+jwt" }, claims, TEST_SECRET),
    "header says RS256": sign({ ...header, alg: "RS256" }, claims),
    "header says Ed25519": sign({ ...header, alg: "Ed25519" }, claims),
    "jku to an attacker's keys": sign({ ...header, jku: "https://evil.example/jwks.json" }, claims),
    "embedded jwk, signed with it": sign({ ...header, jwk: attackerJwk }, claims, attackerKey),
    "embedded jwk, even with our key": sign({ ...header, jwk: TEST_SIGNING_KEY.publicJwk }, claims),
    "a header field outside alg, typ and kid": sign({ ...header, zip: "DEF" }, claims),
    "crit": sign({ ...header, crit: ["exp"] }, claims),
    "no kid": sign({ alg: "EdDSA", typ: "at+jwt" }, claims),
    "unknown kid": sign({ ...header, kid: "some-other-key" }, claims),
    "kid path traversal": sign({ ...header, kid: "../../../../dev/null" }, claims),
    "no typ header": sign({ alg: "EdDSA", kid }, claims),
    "expired beyond leeway": sign(header, { ...claims, iat: now - 1000, exp: now - 30 }),
    "missing exp": sign(header, withoutExp),
    "issued in the future": sign(header, { ...claims, iat: now + 3600, exp: now + 4000 }),
    "wrong iss": sign(header, { ...claims, iss: "someone-else" }),
    "wrong aud": sign(header, { ...claims, aud: "another-app" }),
    "refresh type": sign(header, { ...claims, typ: "refresh" }),
    "unknown session": sign(header, { ...claims, sid: "not-a-session" }),
    "another user's id with this session": sign(header, { ...claims, sub: String(Number(claims.sub) + 1) }),
    "refresh token as Bearer": user.refresh,
    "truncated": user.token.slice(0, user.token.length - 10),
    "garbage": "%%%.$$$.@@@",
    "two parts": user.token.split(".").slice(0, 2).join("."),
  };
  for (const [name, token] of Object.entries(cases)) {
    await t.test(name, async () => {
      const response = await app.me(token);
      assert.equal(response.status, 401, response.text);
      assert.equal(response.body.error, "unauthorized");
    });
  }
  // A valid token of a revoked session, last (it ends the session the control used).
  assert.equal((await app.logout(user.token)).status, 200);
  assert.equal((await app.me(user.token)).status, 401);
  assert.equal((await app.me(sign(header, claims))).status, 401);
});

// ---- A randomised bad-input sweep --------------------------------------------------------------

/** A small seeded PRNG, so a failing sweep can be replayed. */
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("a randomised bad-input sweep over every route: no 500, every answer a JSON error", async () => {
  const seed = Number(process.env.SWEEP_SEED ?? 20261124);
  const random = mulberry32(seed);
  const pick = (items) => items[Math.floor(random() * items.length)];
  const user = await app.signedInUser("sweep");
  const values = () => pick([
    null, true, false, 0, -1, 1e308, 123456, "012345", "", " ", "a@b.co", user.email, "x".repeat(5000),
    "😀".repeat(200), "\u0000\u0001", "<script>", "' OR 1=1 --", [], [1, 2], {}, { nested: { deep: 1 } }, "ñandú@ejemplo.es",
  ]);
  const fields = ["email", "password", "username", "name", "refresh", "otp", "new_password", "extra", "__proto__"];
  const routes = [
    ["POST", "/register"], ["POST", "/login"], ["POST", "/refresh"], ["POST", "/logout"], ["POST", "/reset-password"],
    ["POST", "/update-password"], ["PUT", "/update-profile"], ["GET", "/me"], ["GET", "/health"], ["PATCH", "/login"], ["GET", "/x/y"],
  ];
  const brokenBodies = ['{"email": ', "{'email': 'a'}", "[1,2", "\u00ff\u00fe", "null", "42", '"text"', "{}{}", "{\"a\":1,}"];
  for (let i = 0; i < 300; i++) {
    const [method, path] = pick(routes);
    let body;
    if (random() < 0.25) {
      body = pick(brokenBodies);
    } else {
      const object = {};
      for (const field of fields) if (random() < 0.5) object[field] = values();
      body = JSON.stringify(object);
    }
    const token = random() < 0.5 ? user.token : undefined;
    const response = await app.request(method, path, {
      body: method === "GET" ? undefined : body,
      headers: { "Content-Type": "application/json" },
      token,
    });
    const context = `#${i} (seed ${seed}) ${method} ${path} ${String(body).slice(0, 120)} → ${response.status} ${response.text.slice(0, 200)}`;
    assert.ok(response.status < 500, context);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/, context);
    assert.equal(typeof response.body, "object", context);
    if (response.status >= 400) {
      assert.equal(typeof response.body.message, "string", context);
      assert.match(response.body.error, /^[a-z_]+$/, context);
    }
  }
});

// ---- Breached passwords (HIBP range API stand-in) ----------------------------------------------

test("with HIBP_CHECK=true a breached password is refused, and an unreachable API fails open", async () => {
  const breached = "a password that leaked once";
  const sha1 = createHash("sha1").update(breached).digest("hex").toUpperCase();
  const queried = [];
  const server = createServer((req, res) => {
    queried.push(req.url);
    const prefix = req.url.split("/").pop();
    const lines = ["0000000000000000000000000000000000A:0"];
    if (prefix === sha1.slice(0, 5)) lines.push(`${sha1.slice(5)}:42`);
    res.writeHead(200, { "Content-Type": "text/plain" }).end(lines.join("\r\n"));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const hibp = await spawnApp({ vars: { HIBP_CHECK: "true", HIBP_API_BASE: `http://127.0.0.1:${server.address().port}` } });
  try {
    const refused = await hibp.register({ email: uniqueEmail("pwned"), password: breached });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.fields.password, "breached");
    assert.deepEqual(queried, [`/range/${sha1.slice(0, 5)}`], "only the 5-character prefix left the worker");
    assert.equal((await hibp.register({ email: uniqueEmail("fresh"), password: STRONG_PASSWORD })).status, 201);
    await new Promise((resolve) => server.close(resolve));
    const failOpen = await hibp.register({ email: uniqueEmail("offline"), password: breached });
    assert.equal(failOpen.status, 201, "an unreachable API never blocks a registration");
  } finally {
    await hibp.close();
  }
});

// ---- The per-IP flood shield (Workers Rate Limiting binding) -----------------------------------

test("the RATE_LIMITER binding, when present, shields the unauthenticated POST routes", async () => {
  const shielded = await spawnApp({
    miniflare: { ratelimits: { RATE_LIMITER: { namespace_id: "1001", simple: { limit: 3, period: 60 } } } },
  });
  try {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await shielded.login(uniqueEmail("flood"), "whatever")).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    assert.equal((await shielded.health()).status, 200, "GET routes are not shielded");
  } finally {
    await shielded.close();
  }
});
