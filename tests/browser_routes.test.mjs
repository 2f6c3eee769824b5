// Every route of the API, called from a page on an allowed origin through the web client in
// Chromium: CORS (preflight and answer) and headers proven route by route against the real worker.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { STRONG_PASSWORD, uniqueEmail } from "./support/app.mjs";
import { awayFromStepEdge, totpCode } from "./support/totp.mjs";
import { call, ok, startRig } from "./support/browser.mjs";

const rig = await startRig(after);
const doc = JSON.parse(readFileSync(new URL("../api/openapi.json", import.meta.url), "utf8"));
const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.keys(ops).filter((m) => ["get", "post", "put", "delete"].includes(m)).map((m) => `${m.toUpperCase()} ${path}`),
);

test("every route answers the page through the client, CORS included", async () => {
  const { app, site } = rig;
  const context = await rig.browser();
  const answered = new Map(); // "METHOD /pattern" -> [status, Access-Control-Allow-Origin]
  context.on("response", (response) => {
    const request = response.request();
    const url = new URL(response.url());
    if (url.origin !== app.base || request.method() === "OPTIONS") return;
    const pattern = url.pathname.replace(/^\/sessions\/[^/]+$/, "/sessions/{id}");
    const key = `${request.method()} ${pattern}`;
    answered.set(key, [...(answered.get(key) ?? []), [response.status(), response.headers()["access-control-allow-origin"]]]);
  });
  const failed = [];
  context.on("requestfailed", (request) => failed.push(`${request.method()} ${new URL(request.url()).pathname}: ${request.failure()?.errorText}`));
  const page = await rig.testPage(context);
  const problems = [];
  /** A call that must succeed; a failure is recorded and the walk goes on where it can. */
  const step = async (method, ...args) => {
    const result = await call(page, method, ...args);
    if (!result.ok) problems.push(`${method}: ${JSON.stringify(result.error)}`);
    return result.value;
  };

  assert.deepEqual(await ok(page, "health"), { status: "ok" });
  assert.equal((await ok(page, "jwks")).keys[0].alg, "EdDSA");
  assert.equal((await ok(page, "openapi")).openapi, "3.1.0");

  let email = uniqueEmail("browser");
  let password = STRONG_PASSWORD;
  await step("register", { email, password, username: "Browser User" });
  await step("verifyEmail", { email, code: await app.mailbox.codeFor(email, { kind: "verification" }) });
  await step("resendVerification", { email });
  assert.equal((await step("login", { email, password }))?.status, "signed_in");
  assert.equal((await step("me"))?.email_verified, true);
  await step("updateProfile", { name: "Renamed" });
  assert.equal((await step("me"))?.username, "Renamed");

  // A second session (another device), listed and ended from the page.
  const other = await app.login(email, password);
  assert.equal(other.status, 200);
  const sessions = (await step("listSessions")) ?? [];
  assert.equal(sessions.length, 2);
  const otherId = sessions.find((s) => !s.current)?.id;
  if (await step("endSession", otherId)) {
    assert.equal((await app.me(other.body.token)).status, 401, "the ended session's token is refused");
  }

  const newEmail = uniqueEmail("moved");
  await step("changeEmail", { new_email: newEmail, password });
  const changed = await step("confirmEmailChange", { code: await app.mailbox.codeFor(newEmail, { kind: "email change" }) });
  assert.equal(changed?.email, newEmail);
  email = newEmail;
  await step("changePassword", { current_password: password, new_password: `${password} 2` });
  password = `${password} 2`;

  const enrolment = await step("enrollTotp", { password });
  await awayFromStepEdge();
  const confirmed = await step("confirmTotp", { code: totpCode(enrolment.secret) });
  const recovery = confirmed?.recovery_codes ?? [];
  assert.equal(recovery.length, 10);
  await step("logout");
  const challenge = await step("login", { email, password });
  assert.equal(challenge?.status, "mfa_required", "the second step is a result");
  assert.equal((await step("loginMfa", { mfa_token: challenge.mfaToken, code: recovery[0] }))?.status, "signed_in");
  await step("disableTotp", { password, code: totpCode(enrolment.secret, 1) });

  await step("refresh");
  await step("resetPassword", { email });
  await step("updatePassword", { email, otp: await app.mailbox.codeFor(email), new_password: `${password} 3` });
  password = `${password} 3`;
  assert.equal((await step("login", { email, password }))?.status, "signed_in");
  if (await step("deleteAccount", { password })) {
    assert.equal((await app.login(email, password)).status, 401, "the account is gone");
    assert.equal(await page.evaluate(() => window.client.signedIn), false);
  }

  assert.deepEqual(problems, [], `calls that failed (requests that failed: ${failed.join("; ") || "none"})`);
  const notCovered = documented.filter((route) => !answered.has(route));
  assert.deepEqual(notCovered, [], "every documented route was called from the page");
  for (const [route, answers] of answered) {
    for (const [status, allowOrigin] of answers) {
      assert.ok(status < 400, `${route} answered ${status}`);
      // The JWKS is public to every origin; the rest echo the page's origin.
      assert.equal(allowOrigin, route === "GET /.well-known/jwks.json" ? "*" : site.url, `${route}: Access-Control-Allow-Origin`);
    }
  }
  console.log(`routes called from the browser: ${answered.size} of ${documented.length}`);
});
