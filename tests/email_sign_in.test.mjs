// Email sign-in: a six-digit code that signs in from any device, a link whose token rides in the
// URL fragment and works only with the app's PKCE verifier, sign-up by email, and the rules of
// every emailed code (single use, tries, a daily budget, a cooldown, caps per address and per
// client), with no answer that tells a known address from an unknown one.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { totpCode, awayFromStepEdge } from "./support/totp.mjs";
import { eventually } from "./support/ways_in.mjs";

const app = appsClosedAfter(after);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const APP_PAGE = "https://app.example/auth/done";
const LINKS = { OAUTH_REDIRECT_URLS: APP_PAGE };
const OPS_KEY = "email-sign-in-ops-key-0123456789abcdef";
const ADMIN = { ADMIN_API_KEYS: `ops:${OPS_KEY}` };
const START_ANSWER = { message: "Check your email" };

const start = (target, email, { ip, link } = {}) =>
  target.request("POST", "/email-sign-in", { json: { email, ...(link && { link }) }, ip });
const withCode = (target, email, code, { ip } = {}) =>
  target.request("POST", "/email-sign-in/code", { json: { email, code }, ip });
const withLink = (target, token, code_verifier, { ip } = {}) =>
  target.request("POST", "/email-sign-in/link", { json: { token, code_verifier }, ip });

/** The app's PKCE pair, and the start's `link` that asks for a link to `APP_PAGE`. */
function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, link: { redirect_to: APP_PAGE, code_challenge: challenge, code_challenge_method: "S256" } };
}

/** Sign-in mails to `email` (subject `subject`), waiting for `count`. */
const mails = (target, email, { count = 1, ms, subject = /sign-in code|create your account|no account/ } = {}) =>
  target.mailbox.to(email, { count, ms, subject });
const codeIn = (mail) => mail.text.match(/code is (\d{6})/)[1];
const tokenIn = (mail) => mail.text.match(/#sign_in_token=([A-Za-z0-9_-]{43})/)[1];
const otherThan = (code) => (code === "000000" ? "000001" : "000000");
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
/** The account's trail once it holds an event `done` accepts (events are stored after the answer). */
const trailWith = async (target, token, done) =>
  eventually(async () => (await target.request("GET", "/me/events", { token })).body.events, (events) => done(events));

function assertInvalidCode(response) {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual(response.body, { message: "Invalid or expired code", error: "invalid_code" });
}

function assertSignedIn(response, email) {
  assert.equal(response.status, 200, response.text);
  assert.equal(response.body.message, "Login successful");
  assert.equal(response.body.email, email);
  assert.equal(response.body.email_verified, true, "the code proved the address");
  assert.ok(response.body.token && response.body.refresh);
}

test("a mailed code signs in once, verifies the address, and says otp in the token", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("code");
  assert.equal(user.email_verified, false);
  const started = await start(target, ` ${user.email.toUpperCase()} `);
  assert.deepEqual([started.status, started.body], [200, START_ANSWER]);
  const [mail] = await mails(target, user.email);
  assert.match(mail.subject, /^Your sign-in code: \d{6}$/);
  assert.doesNotMatch(mail.text, /sign_in_token/, "no link unless the app asked for one");
  const code = codeIn(mail);

  assertInvalidCode(await withCode(target, user.email, otherThan(code)));
  const signedIn = await withCode(target, user.email, Number(code));
  assertSignedIn(signedIn, user.email);
  const token = claims(signedIn.body.token);
  assert.deepEqual(token.amr, ["otp"]);
  assert.equal((await target.me(signedIn.body.token)).body.email_verified, true);
  assertInvalidCode(await withCode(target, user.email, code));
  const signedInByCode = (e) => e.type === "sign_in.succeeded" && e.detail.method === "email_code";
  const events = await trailWith(target, signedIn.body.token, (all) => all.some(signedInByCode) && all.some((e) => e.type === "email.verified"));
  assert.ok(events.some(signedInByCode), JSON.stringify(events));
  assert.equal(events.filter((e) => e.type === "email.verified").length, 1, "the first proof of the address is on the trail");
});

test("known and unknown addresses get the same answer; with sign-up off the stranger's mail says no account exists", async () => {
  const target = await app({ mail: true, vars: LINKS });
  const user = await target.signedInUser("known");
  const stranger = uniqueEmail("stranger");
  const known = await start(target, user.email);
  const unknown = await start(target, stranger);
  assert.deepEqual([known.status, known.text], [unknown.status, unknown.text]);
  const [notice] = await mails(target, stranger);
  assert.match(notice.subject, /no account/);
  assert.doesNotMatch(notice.text, /\bcode\b|\b\d{6}\b/, "it carries no code");
  for (const code of ["000000", "123456"]) assertInvalidCode(await withCode(target, stranger, code));
  assert.equal((await target.login(stranger, STRONG_PASSWORD)).status, 401, "no account was made");
  // A link asked for an unknown address answers alike too.
  const { link } = pkcePair();
  const linked = await start(target, uniqueEmail("stranger-link"), { link });
  assert.deepEqual([linked.status, linked.body], [200, START_ANSWER]);
});

test("with EMAIL_SIGN_UP on, an address without an account gets one, verified and without a password, on its first right code", async () => {
  const target = await app({ mail: true, vars: { EMAIL_SIGN_UP: "true", ...ADMIN } });
  const email = uniqueEmail("newcomer");
  assert.deepEqual((await start(target, email)).body, START_ANSWER);
  const [mail] = await mails(target, email);
  assert.match(mail.subject, /create your account/);
  assertInvalidCode(await withCode(target, email, otherThan(codeIn(mail))));
  const signedIn = await withCode(target, email, codeIn(mail));
  assertSignedIn(signedIn, email);
  assert.equal(signedIn.body.username, null);
  assert.equal((await target.login(email, STRONG_PASSWORD)).status, 401, "there is no password to sign in with");
  const events = await trailWith(target, signedIn.body.token, (all) => all.some((e) => e.type === "account.created"));
  const created = events.find((e) => e.type === "account.created");
  assert.equal(created?.detail.method, "email_code", JSON.stringify(events));
  assert.ok(!events.some((e) => e.type === "email.verified"), "an account made verified needs no verification event");
  // A second sign-in finds the account, and makes no other.
  await start(target, email);
  await sleep(100);
  const again = await withCode(target, email, codeIn((await mails(target, email, { count: 2 })).at(-1)));
  assertSignedIn(again, email);
  const listed = await target.request("GET", `/admin/users?email_prefix=${encodeURIComponent(email)}`, {
    headers: { Authorization: `Bearer ${OPS_KEY}` },
  });
  assert.equal(listed.body.users.length, 1, listed.text);
});

test("two clients racing one code: exactly one signs in", async () => {
  const target = await app({ mail: true });
  const user = await target.signedInUser("race");
  await start(target, user.email);
  const code = codeIn((await mails(target, user.email))[0]);
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => withCode(target, user.email, code, { ip: `198.51.100.${i + 1}` })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400]);
  for (const loser of answers.filter((a) => a.status !== 200)) assertInvalidCode(loser);
});

test("a code dies after OTP_MAX_ATTEMPTS wrong tries, and wrong tries across new codes share the daily budget", async () => {
  const target = await app({ mail: true, vars: { OTP_MAX_ATTEMPTS: "2", OTP_MAX_FAILURES_PER_DAY: "3", OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  const user = await target.signedInUser("tries");
  await start(target, user.email);
  const first = codeIn((await mails(target, user.email))[0]);
  for (let i = 0; i < 2; i++) assertInvalidCode(await withCode(target, user.email, otherThan(first)));
  assertInvalidCode(await withCode(target, user.email, first));
  await start(target, user.email);
  const second = codeIn((await mails(target, user.email, { count: 2 })).at(-1));
  assertInvalidCode(await withCode(target, user.email, otherThan(second)));
  assertInvalidCode(await withCode(target, user.email, second), "the budget of three is spent");
  // While the budget is spent, a start mails nothing and answers as always.
  assert.deepEqual((await start(target, user.email)).body, START_ANSWER);
  await sleep(400);
  assert.equal((await mails(target, user.email, { count: 3, ms: 0 })).length, 2, "no third mail");
});

test("the cooldown, the hourly cap per address and the cap per client address hold, and answer alike", async () => {
  const target = await app({ mail: true, vars: { OTP_MAX_CODES_PER_HOUR: "2", OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  const email = uniqueEmail("capped");
  for (let i = 0; i < 4; i++) assert.deepEqual((await start(target, email, { ip: "203.0.113.7" })).body, START_ANSWER);
  await mails(target, email, { count: 2 });
  await sleep(400);
  assert.equal((await mails(target, email, { count: 3, ms: 0 })).length, 2, "two an hour to one address");

  // Ten sign-in mails an hour from one client, whatever the addresses; another client is not held.
  const client = "203.0.113.9";
  const addresses = Array.from({ length: 12 }, (_, i) => uniqueEmail(`spray${i}`));
  for (const address of addresses) assert.equal((await start(target, address, { ip: client })).status, 200);
  const mailed = async () => (await Promise.all(addresses.map((a) => mails(target, a, { ms: 0 })))).filter((m) => m.length).length;
  for (let waited = 0; (await mailed()) < 10 && waited < 30_000; waited += 50) await sleep(50);
  await sleep(400);
  assert.equal(await mailed(), 10);
  const elsewhere = uniqueEmail("elsewhere");
  await start(target, elsewhere, { ip: "203.0.113.10" });
  assert.equal((await mails(target, elsewhere)).length, 1);

  // The cooldown: a second start within it mails nothing.
  const cooled = await app({ mail: true });
  const user = await cooled.signedInUser("cooldown");
  await start(cooled, user.email);
  await start(cooled, user.email);
  await mails(cooled, user.email);
  await sleep(400);
  assert.equal((await mails(cooled, user.email, { count: 2, ms: 0 })).length, 1);
});

test("the link: its token is in the fragment, and only the app's verifier spends it; the code of the same mail dies with it", async () => {
  const target = await app({ mail: true, vars: LINKS });
  const user = await target.signedInUser("link");
  const { verifier, link } = pkcePair();
  assert.deepEqual((await start(target, user.email, { link })).body, START_ANSWER);
  const [mail] = await mails(target, user.email);
  const url = new URL(mail.text.match(/https:\/\/app\.example\/\S+/)[0]);
  assert.equal(`${url.origin}${url.pathname}${url.search}`, APP_PAGE, "nothing in the path or query");
  const token = tokenIn(mail);
  assert.equal(url.hash, `#sign_in_token=${token}`);

  // A scanner that runs the page has no verifier: refused before anything is read.
  const bare = await target.request("POST", "/email-sign-in/link", { json: { token } });
  assert.deepEqual([bare.status, bare.body.error, bare.body.fields], [400, "validation_failed", { code_verifier: "missing" }]);
  // Another device's verifier is not the app's: nothing spent either.
  assertInvalidCode(await withLink(target, token, pkcePair().verifier));
  assertInvalidCode(await withLink(target, "x".repeat(43), verifier));

  const signedIn = await withLink(target, token, verifier);
  assertSignedIn(signedIn, user.email);
  assert.deepEqual(claims(signedIn.body.token).amr, ["otp"]);
  assertInvalidCode(await withLink(target, token, verifier));
  assertInvalidCode(await withCode(target, user.email, codeIn(mail)), "one sign-in per mail");
});

test("a link needs an allowed page and a challenge, and the settings turn email sign-in off", async () => {
  const target = await app({ mail: true, vars: LINKS });
  const email = uniqueEmail("badlink");
  const elsewhere = await start(target, email, { link: { ...pkcePair().link, redirect_to: "https://evil.example/" } });
  assert.deepEqual([elsewhere.status, elsewhere.body.error], [400, "redirect_not_allowed"]);
  const noChallenge = await start(target, email, { link: { redirect_to: APP_PAGE } });
  assert.deepEqual([noChallenge.status, noChallenge.body.fields], [400, { code_challenge: "missing" }]);
  const notAnObject = await start(target, email, { link: APP_PAGE });
  assert.deepEqual([notAnObject.status, notAnObject.body.fields], [400, { link: "wrong_type" }]);
  const plain = await start(target, email, { link: { ...pkcePair().link, code_challenge_method: "plain" } });
  assert.deepEqual([plain.status, plain.body.fields], [400, { code_challenge_method: "invalid" }]);
  const noEmail = await target.request("POST", "/email-sign-in", { json: {} });
  assert.deepEqual([noEmail.status, noEmail.body.fields], [400, { email: "missing" }]);
  const badCode = await target.request("POST", "/email-sign-in/code", { json: { email, code: true } });
  assert.deepEqual([badCode.status, badCode.body.fields], [400, { code: "wrong_type" }]);
  await sleep(400);
  assert.equal((await mails(target, email, { ms: 0 })).length, 0, "a refused start mails nothing");

  const off = await app({ mail: true, vars: { EMAIL_SIGN_IN: "false" } });
  for (const path of ["/email-sign-in", "/email-sign-in/code", "/email-sign-in/link"]) {
    const answer = await off.request("POST", path, { json: { email } });
    assert.deepEqual([answer.status, answer.body.error], [404, "not_found"], path);
  }
  const noMail = await app({ vars: { EMAIL_PROVIDER: "" } });
  const misconfigured = await start(noMail, email);
  assert.deepEqual([misconfigured.status, misconfigured.body.error], [500, "server_misconfigured"]);
});

test("a second factor still applies: the code's answer is the second-factor step", async () => {
  const target = await app({ mail: true });
  const user = await target.userWithFactor("factor", totpCode, awayFromStepEdge);
  await start(target, user.email);
  const first = await withCode(target, user.email, codeIn(await mails(target, user.email).then((m) => m.at(-1))));
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.mfa_required, true);
  assert.equal(first.body.token, undefined, "no session before the factor");
  // The next step's code: the one that confirmed the factor is not accepted again.
  await awayFromStepEdge();
  const second = await target.request("POST", "/login/mfa", { json: { mfa_token: first.body.mfa_token, code: totpCode(user.secret, 1) } });
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(claims(second.body.token).amr, ["otp", "otp", "mfa"]);
});

test("a disabled account gets account_disabled; a locked-out address stays locked out and its code is not spent", async () => {
  const target = await app({ mail: true, vars: { ...ADMIN, LOGIN_MAX_FAILURES: "3" } });
  const admin = (method, path, json) => target.request(method, path, { json, headers: { Authorization: `Bearer ${OPS_KEY}` } });
  const disabled = await target.signedInUser("disabled");
  const [row] = (await admin("GET", `/admin/users?email_prefix=${encodeURIComponent(disabled.email)}`)).body.users;
  assert.equal((await admin("POST", `/admin/users/${row.id}/disable`, { reason: "review" })).status, 200);
  await start(target, disabled.email);
  const refused = await withCode(target, disabled.email, codeIn((await mails(target, disabled.email))[0]));
  assert.deepEqual([refused.status, refused.body.error], [403, "account_disabled"]);

  const locked = await target.signedInUser("locked");
  for (let i = 0; i < 3; i++) await target.login(locked.email, "a wrong password", { ip: "192.0.2.50" });
  assert.equal((await target.login(locked.email, locked.password, { ip: "192.0.2.50" })).status, 429);
  await start(target, locked.email, { ip: "192.0.2.50" });
  const code = codeIn((await mails(target, locked.email))[0]);
  const held = await withCode(target, locked.email, code, { ip: "192.0.2.50" });
  assert.deepEqual([held.status, held.body.error], [429, "too_many_attempts"]);
  assert.ok(Number(held.headers.get("retry-after")) > 0);
  assertSignedIn(await withCode(target, locked.email, code, { ip: "192.0.2.51" }), locked.email);
});
