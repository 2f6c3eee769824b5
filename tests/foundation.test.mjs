// The seed API at the edge: routes, shapes, errors, CORS, revocation, races.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";

let app;
before(async () => {
  app = await spawnApp();
});
after(() => app?.close());

function assertError(response, status, code) {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body?.error, code, response.text);
  assert.equal(typeof response.body.message, "string");
  assert.match(response.headers.get("content-type"), /^application\/json/);
}

test("health answers ok", async () => {
  const response = await app.health();
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, { status: "ok" });
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
});

test("register → login → me → update-profile → me → logout, with the seed's shapes", async () => {
  const email = uniqueEmail("flow");
  const registered = await app.register({ email, password: STRONG_PASSWORD, username: "John Doe" });
  assert.equal(registered.status, 201);
  assert.deepEqual(registered.body, { message: "User registered successfully" });

  const login = await app.login(email.toUpperCase() + "  ", STRONG_PASSWORD);
  assert.equal(login.status, 200, login.text);
  assert.deepEqual(Object.keys(login.body).sort(), [
    "email", "email_verified", "expires_in", "message", "refresh", "token", "token_type", "username",
  ]);
  assert.equal(login.body.message, "Login successful");
  assert.equal(login.body.username, "John Doe");
  assert.equal(login.body.email, email);
  assert.equal(login.body.token_type, "Bearer");
  assert.equal(login.body.expires_in, 900);
  assert.equal(login.body.token.split(".").length, 3);
  assert.match(login.body.refresh, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(login.headers.get("cache-control"), "no-store");

  const claims = JSON.parse(Buffer.from(login.body.token.split(".")[1], "base64url"));
  assert.deepEqual(Object.keys(claims).sort(), ["amr", "aud", "auth_time", "exp", "iat", "iss", "jti", "sid", "sub", "typ"]);
  assert.equal(claims.exp - claims.iat, 900);
  assert.deepEqual([claims.amr, claims.auth_time], [["pwd"], claims.iat], "a password sign-in, just now");
  assert.equal(claims.typ, "access");

  const me = await app.me(login.body.token);
  assert.equal(me.status, 200, me.text);
  assert.deepEqual(Object.keys(me.body).sort(), ["created_at", "email", "email_verified", "id", "mfa_enabled", "organization", "username"]);
  assert.equal(me.body.organization, null, "no active organization until a switch");
  assert.equal(me.body.email, email);
  assert.equal(me.body.username, "John Doe");
  assert.equal(String(me.body.id), claims.sub);
  assert.ok(Math.abs(Date.parse(me.body.created_at) - Date.now()) < 60_000, me.body.created_at);

  const updated = await app.updateProfile(login.body.token, { name: "New Name" });
  assert.equal(updated.status, 200, updated.text);
  assert.deepEqual(updated.body, { message: "Profile updated successfully" });
  assert.equal((await app.me(login.body.token)).body.username, "New Name");

  const logout = await app.logout(login.body.token);
  assert.equal(logout.status, 200, logout.text);
  assert.deepEqual(logout.body, { message: "Logout successful" });
  assertError(await app.me(login.body.token), 401, "unauthorized");
  assertError(await app.updateProfile(login.body.token, { name: "x" }), 401, "unauthorized");
  assertError(await app.logout(login.body.token), 401, "unauthorized");
});

test("registration without a username, and emails are one account whatever their case", async () => {
  const email = uniqueEmail("case");
  assert.equal((await app.register({ email, password: STRONG_PASSWORD })).status, 201);
  const again = await app.register({ email: ` ${email.toUpperCase()} `, password: STRONG_PASSWORD });
  assertError(again, 409, "user_exists");
  const login = await app.login(email, STRONG_PASSWORD);
  assert.equal(login.body.username, null);
});

test("wrong password and unknown email get the same 401", async () => {
  const { email } = await app.signedInUser("wrongpw");
  const wrong = await app.login(email, "not the password");
  const unknown = await app.login(uniqueEmail("nobody"), "not the password");
  assertError(wrong, 401, "unauthorized");
  assert.deepEqual(wrong.body, unknown.body);
});

test("bad input gets the JSON error of API.md and stores nothing", async (t) => {
  const email = uniqueEmail("bad");
  const cases = [
    ["malformed JSON", { body: "{\"email\": ", headers: { "Content-Type": "application/json" } }, 400, "invalid_json"],
    ["empty body", { body: "" }, 400, "invalid_json"],
    ["not an object", { json: [email, STRONG_PASSWORD] }, 400, "validation_failed"],
    ["missing password", { json: { email } }, 400, "validation_failed"],
    ["email not a string", { json: { email: 5, password: STRONG_PASSWORD } }, 400, "validation_failed"],
    ["invalid email", { json: { email: "not-an-email", password: STRONG_PASSWORD } }, 400, "validation_failed"],
    ["overlong email", { json: { email: `${"a".repeat(60)}@${"b".repeat(200)}.com`, password: STRONG_PASSWORD } }, 400, "validation_failed"],
    ["short password", { json: { email, password: "short" } }, 400, "validation_failed"],
    ["overlong username", { json: { email, password: STRONG_PASSWORD, username: "x".repeat(101) } }, 400, "validation_failed"],
    ["control character in username", { json: { email, password: STRONG_PASSWORD, username: "a\u0000b" } }, 400, "validation_failed"],
    // Answered before the body is read: sent as a client that stops sending at the answer would.
    ["oversized body", { json: { email, password: STRONG_PASSWORD, pad: "x".repeat(70_000) }, answeredEarly: true }, 413, "payload_too_large"],
  ];
  for (const [name, options, status, code] of cases) {
    await t.test(name, async () => {
      const { answeredEarly, ...sent } = options;
      const send = answeredEarly ? app.requestStoppingAtAnswer.bind(app) : app.request.bind(app);
      assertError(await send("POST", "/register", sent), status, code);
    });
  }
  // None of those created the account.
  assert.equal((await app.register({ email, password: STRONG_PASSWORD })).status, 201);
});

test("validation errors name their fields", async () => {
  const response = await app.register({ email: "nope", password: "short", username: 7 });
  assertError(response, 400, "validation_failed");
  assert.deepEqual(response.body.fields, { email: "invalid", password: "too_short", username: "wrong_type" });
  assert.equal(response.body.message, "Email address is not valid");
});

test("unknown routes are 404 and wrong methods 405, in JSON", async () => {
  assertError(await app.request("GET", "/nope"), 404, "not_found");
  assertError(await app.request("GET", "/"), 404, "not_found");
  assertError(await app.request("POST", "/health/extra"), 404, "not_found");
  assertError(await app.request("GET", "/login"), 405, "method_not_allowed");
  assertError(await app.request("PATCH", "/me"), 405, "method_not_allowed");
  assertError(await app.request("POST", "/update-profile", { json: {} }), 405, "method_not_allowed");
});

test("routes that come with later issues are wired", async () => {
  // /refresh, /reset-password and /update-password answer validation errors, not 404.
  for (const path of ["/refresh", "/reset-password", "/update-password"]) {
    assertError(await app.request("POST", path, { json: {} }), 400, "validation_failed");
  }
});

test("bearer tokens: missing, malformed, wrong scheme and tampered all get one 401", async () => {
  const { token } = await app.signedInUser("bearer");
  const [h, p, s] = token.split(".");
  const otherSub = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url")), sub: "1" })).toString("base64url");
  const bodies = [];
  for (const headers of [
    {},
    { Authorization: "Bearer" },
    { Authorization: "Bearer garbage" },
    { Authorization: `Basic ${token}` },
    { Authorization: `Bearer ${h}.${otherSub}.${s}` },
    { Authorization: `Bearer ${token.slice(0, -2)}` },
  ]) {
    const response = await app.request("GET", "/me", { headers });
    assertError(response, 401, "unauthorized");
    bodies.push(response.text);
  }
  assert.equal(new Set(bodies).size, 1, "one message for all");
});

test("profile updates validate the name", async () => {
  const { token } = await app.signedInUser("profile");
  assertError(await app.updateProfile(token, {}), 400, "validation_failed");
  assertError(await app.updateProfile(token, { name: 42 }), 400, "validation_failed");
  assertError(await app.updateProfile(token, { name: "y".repeat(101) }), 400, "validation_failed");
  assert.equal((await app.me(token)).body.username, "profile name");
  assert.equal((await app.updateProfile(token, { name: "Zoë 🚀" })).status, 200);
  assert.equal((await app.me(token)).body.username, "Zoë 🚀");
});

test("CORS: preflight and credentialed requests echo the origin", async () => {
  const origin = "https://app.example";
  const preflight = await app.request("OPTIONS", "/login", {
    headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,authorization" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
  assert.equal(preflight.headers.get("access-control-allow-credentials"), "true");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "POST, OPTIONS", "the route table's methods for the path");
  assert.match(preflight.headers.get("access-control-allow-headers"), /Authorization/);
  assert.match(preflight.headers.get("access-control-allow-headers"), /Content-Type/);
  assert.match(preflight.headers.get("vary"), /Origin/);

  const health = await app.request("GET", "/health", { headers: { Origin: origin } });
  assert.equal(health.headers.get("access-control-allow-origin"), origin);
  assert.equal(health.headers.get("access-control-allow-credentials"), "true");
  const error = await app.request("GET", "/nope", { headers: { Origin: origin } });
  assert.equal(error.headers.get("access-control-allow-origin"), origin, "errors carry CORS too");
  const noOrigin = await app.health();
  assert.equal(noOrigin.headers.get("access-control-allow-origin"), null);
});

test("CORS: a configured list lets its origins in and nobody else", async () => {
  const strict = await spawnApp({ vars: { CORS_ALLOWED_ORIGINS: "https://good.example,https://also.example" } });
  try {
    const good = await strict.request("OPTIONS", "/login", { headers: { Origin: "https://also.example" } });
    assert.equal(good.headers.get("access-control-allow-origin"), "https://also.example");
    for (const method of ["OPTIONS", "GET"]) {
      const evil = await strict.request(method, "/health", { headers: { Origin: "https://evil.example" } });
      for (const name of ["access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods"]) {
        assert.equal(evil.headers.get(name), null, `${method} ${name}`);
      }
    }
  } finally {
    await strict.close();
  }
});

test("two registrations of one email racing: exactly one wins", async () => {
  const email = uniqueEmail("race");
  const results = await Promise.all(
    Array.from({ length: 6 }, () => app.register({ email, password: STRONG_PASSWORD })),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409]);
});

test("a missing or short JWT_SECRET is a clear 500, not a panic", async () => {
  for (const secret of [null, "too-short"]) {
    const broken = await spawnApp({ secret });
    try {
      const response = await broken.health();
      assertError(response, 500, "server_misconfigured");
      assert.equal(response.body.variable, "JWT_SECRET", "the variable is named, for the developer who set it");
      assert.match(response.body.message, /JWT_SECRET/);
      assert.equal(response.text.includes("too-short"), false, "its value never is");
    } finally {
      await broken.close();
    }
  }
});
