// What browsers and operators see: CORS preflights and 405s name the route table's methods, and
// misconfiguration answers and mail errors never carry a secret or an address.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";

const app = appsClosedAfter(after);

/** A verified, signed-in user with the factor on: its secret and recovery codes. */

// ---- Browsers, operators and the contract ----

test("a CORS preflight allows exactly the route table's methods for its path, DELETE included", async () => {
  const target = await app();
  const origin = "https://app.example";
  const cases = [
    ["/me", "GET, DELETE, OPTIONS"],
    ["/sessions/abc", "DELETE, OPTIONS"],
    ["/login", "POST, OPTIONS"],
    ["/update-profile", "PUT, OPTIONS"],
  ];
  for (const [path, methods] of cases) {
    const preflight = await target.request("OPTIONS", path, { headers: { Origin: origin, "Access-Control-Request-Method": "DELETE" } });
    assert.equal(preflight.status, 204, path);
    assert.equal(preflight.headers.get("access-control-allow-methods"), methods, path);
  }
  assert.equal((await target.request("OPTIONS", "/nope", { headers: { Origin: origin } })).status, 404);
});

test("405 carries Allow with the path's methods (RFC 9110 §15.5.6)", async () => {
  const target = await app();
  for (const [method, path, allow] of [
    ["PATCH", "/me", "GET, DELETE, OPTIONS"],
    ["GET", "/login", "POST, OPTIONS"],
    ["GET", "/sessions/x", "DELETE, OPTIONS"],
  ]) {
    const refused = await target.request(method, path);
    assert.deepEqual([refused.status, refused.body.error], [405, "method_not_allowed"]);
    assert.equal(refused.headers.get("allow"), allow, `${method} ${path}`);
  }
});

test("server_misconfigured names the variable, never its value", async () => {
  const pasted = "re_live_9f8e7d6c5b4a";
  const target = await app({ vars: { EMAIL_PROVIDER: pasted } });
  const answer = await target.register({ email: uniqueEmail(), password: STRONG_PASSWORD });
  assert.equal(answer.status, 500);
  assert.deepEqual([answer.body.error, answer.body.variable], ["server_misconfigured", "EMAIL_PROVIDER"]);
  assert.ok(!answer.text.includes(pasted), answer.text);
  assert.ok(!target.logOutput().includes(pasted), "nor in the log");
});

test("a mail transport's error is logged without the recipient's address", async () => {
  const target = await app({
    vars: { EMAIL_PROVIDER: "cloudflare", EMAIL_FROM: "no-reply@example.com" },
    // Cloudflare's send_email refuses a recipient off its list with an error that quotes it.
    miniflare: { email: { send_email: [{ name: "EMAIL", allowed_destination_addresses: ["someone-else@example.com"] }] } },
  });
  const email = uniqueEmail("private");
  assert.equal((await target.register({ email, password: STRONG_PASSWORD })).status, 201);
  const deadline = Date.now() + 30_000; // the mail goes after the answer: wait for its log line
  while (!/mail not sent/.test(target.logOutput()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const output = target.logOutput();
  assert.match(output, /mail not sent \(cloudflare: .*\[recipient\]/);
  assert.ok(!output.includes(email), "the address is not in the log");
});
