// Two sessions on one store, as two tabs of one origin: a rotation in one is adopted by the
// other without a second /refresh; a sign-out in one signs the other out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../src/index.ts";
import { memoryStore } from "../src/storage.ts";

function fakeApi() {
  const calls: string[] = [];
  let n = 0;
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    calls.push(`${request.method} ${path}`);
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    if (path === "/login") {
      n++;
      return json(200, { message: "Login successful", token: `a${n}`, refresh: `r${n}`, username: null, email: "u@x.io", email_verified: true, token_type: "Bearer", expires_in: 900 });
    }
    if (path === "/refresh") {
      n++;
      return json(200, { message: "Token refreshed", token: `a${n}`, refresh: `r${n}`, token_type: "Bearer", expires_in: 900 });
    }
    if (path === "/logout") return json(200, { message: "Logout successful" });
    if (path === "/app") {
      return request.headers.get("Authorization") === `Bearer a${n}` ? json(200, {}) : json(401, { message: "Unauthorized", error: "unauthorized" });
    }
    return json(404, { message: "Not found", error: "not_found" });
  };
  return { fetch, calls };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

test("a tab adopts the other's rotation instead of refreshing again, and follows its sign-out", async () => {
  const api = fakeApi();
  const store = memoryStore();
  const a = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store });
  const b = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store });
  const events: string[] = [];
  b.onChange((e) => events.push(`${e.type}${e.reason ? `:${e.reason}` : ""}`));
  const signedIn = await a.login({ email: "u@x.io", password: "pw" });
  assert.equal(signedIn.status, "signed_in");
  await tick();
  assert.equal(await b.token(), "a1");
  await a.refresh();
  await b.refresh(); // the store already holds a's rotation: adopted, not spent again
  assert.equal(await b.token(), "a2");
  assert.deepEqual(api.calls.filter((c) => c === "POST /refresh"), ["POST /refresh"]);
  await a.logout();
  await tick();
  assert.equal(b.signedIn, false);
  // b took a's sign-in from the channel, a's rotation from the store (the channel's copy, arriving
  // after, is the same session and changes nothing), and a's sign-out from the channel.
  assert.deepEqual(events, ["adopted", "refreshed", "signed_out:other_tab"]);
  a.dispose();
  b.dispose();
});

test("fetch adds the bearer, and on a 401 refreshes once and sends again", async () => {
  const api = fakeApi();
  const client = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store: memoryStore() });
  await client.login({ email: "u@x.io", password: "pw" });
  assert.equal((await client.fetch("http://app.test/app")).status, 200);
  // The API moves on (as after a rotation elsewhere): the client's token is refused once.
  await api.fetch("http://api.test/login", { method: "POST" });
  const response = await client.fetch("http://app.test/app", { method: "POST", body: "x" });
  assert.equal(response.status, 200);
  assert.deepEqual(api.calls.slice(-3), ["POST /app", "POST /refresh", "POST /app"]);
  client.dispose();
});

test("login's second step is a result, not an exception", async () => {
  const fetch = async () =>
    new Response(JSON.stringify({ message: "Enter the code from your authenticator app", mfa_required: true, mfa_token: "m", expires_in: 300 }), { status: 200 });
  const client = createClient({ baseUrl: "http://api.test", fetch, store: memoryStore() });
  assert.deepEqual(await client.login({ email: "u@x.io", password: "pw" }), { status: "mfa_required", mfaToken: "m", expiresIn: 300 });
  assert.equal(client.signedIn, false);
  client.dispose();
});

test("errors are classes by the API's code; an unverified address carries its verification token", async () => {
  const { ApiError, EmailNotVerifiedError, TooManyAttemptsError, ValidationError } = await import("../src/errors.ts");
  const answers: [number, unknown, Record<string, string>?][] = [
    [403, { message: "Verify your email first", error: "email_not_verified", verification_token: "vt" }],
    [400, { message: "Invalid fields", error: "validation_failed", fields: { mfa_code: "missing" } }],
    [429, { message: "Too many attempts", error: "too_many_attempts" }, { "Retry-After": "30" }],
    [403, { message: "Wrong password", error: "invalid_password" }],
  ];
  const fetch = async () => {
    const [status, body, headers] = answers.shift()!;
    return new Response(JSON.stringify(body), { status, headers: { "X-Request-Id": "req-1", ...headers } });
  };
  const client = createClient({ baseUrl: "http://api.test", fetch, store: memoryStore() });
  const unverified = await client.login({ email: "u@x.io", password: "pw" }).catch((e: unknown) => e);
  assert.ok(unverified instanceof EmailNotVerifiedError);
  assert.equal(unverified.code, "email_not_verified");
  assert.equal(unverified.verificationToken, "vt");
  assert.equal(unverified.requestId, "req-1");
  const invalid = await client.register({ email: "u@x.io", password: "pw" }).catch((e: unknown) => e);
  assert.ok(invalid instanceof ValidationError);
  assert.deepEqual(invalid.fields, { mfa_code: "missing" });
  const limited = await client.resetPassword({ email: "u@x.io" }).catch((e: unknown) => e);
  assert.ok(limited instanceof TooManyAttemptsError);
  assert.equal(limited.retryAfter, 30);
  const other = await client.verifyEmail({ email: "u@x.io", code: "123456" }).catch((e: unknown) => e);
  assert.ok(other instanceof ApiError && other.code === "invalid_password" && other.status === 403);
  client.dispose();
});
