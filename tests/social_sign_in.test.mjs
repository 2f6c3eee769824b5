// Social sign-in against a real OpenID provider (the npm package oidc-provider, run here) and a
// local stand-in of GitHub's OAuth and API: the redirect dance, the one-time code with the app's
// PKCE verifier, linking rules that allow no takeover, and every refusal a client can meet.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { freePort } from "./support/ports.mjs";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { startOidcProvider } from "./support/oidc.mjs";
import { startGitHubStandIn } from "./support/github.mjs";
import { startTamperingIssuer } from "./support/tamper.mjs";

const app = appsClosedAfter(after);
const APP_RETURN = "https://app.example/auth/done";
const stopping = [];
after(() => Promise.all(stopping.map((s) => s.close())));


const pkce = () => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};

let target;
let oidc;
let github;
let tampered;
const alice = { sub: "alice-1", email: uniqueEmail("alice"), email_verified: true, name: "Alice" };
const mallory = { sub: "mallory-1", email: "", email_verified: false, name: "Mallory" };
const mallory2 = { sub: "mallory-2", email: "", email_verified: true, name: "Mallory" };
const mallory3 = { sub: "mallory-3", email: "", email_verified: true, name: "Mallory" };
const bob = { sub: "bob-1", email: uniqueEmail("bob"), email_verified: true, name: "Bob" };
const carol = { sub: "carol-1", email: uniqueEmail("carol"), email_verified: true, name: "Carol" };

before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  oidc = await startOidcProvider({
    redirectUris: [`${base}/oauth/test/callback`, `${base}/oauth/tampered/callback`],
    accounts: { alice, mallory, mallory2, mallory3, bob, carol },
  });
  stopping.push(oidc);
  tampered = await startTamperingIssuer(oidc);
  stopping.push(tampered);
  github = await startGitHubStandIn({
    clientId: "gh-client",
    clientSecret: "gh-secret",
    users: { octo: { id: 4242, login: "octo", name: "Octo Cat", emails: [{ email: uniqueEmail("octo"), primary: true, verified: true }] } },
  });
  stopping.push(github);
  target = await app({
    mail: true,
    miniflare: { port },
    vars: {
      OIDC_PROVIDERS: "test,tampered",
      OIDC_TAMPERED_ISSUER: tampered.issuer,
      OIDC_TAMPERED_CLIENT_ID: oidc.clientId,
      OIDC_TAMPERED_CLIENT_SECRET: oidc.clientSecret,
      OIDC_TEST_ISSUER: oidc.issuer,
      OIDC_TEST_CLIENT_ID: oidc.clientId,
      OIDC_TEST_CLIENT_SECRET: oidc.clientSecret,
      GITHUB_CLIENT_ID: "gh-client",
      GITHUB_CLIENT_SECRET: "gh-secret",
      GITHUB_WEB_BASE: github.webBase,
      GITHUB_API_BASE: github.apiBase,
      OAUTH_REDIRECT_URLS: APP_RETURN,
    },
  });
});

/** GET /oauth/{provider}/start: the provider's authorization URL it redirects to. */
async function start(provider, challenge, redirectTo = APP_RETURN) {
  const query = new URLSearchParams({ redirect_to: redirectTo, code_challenge: challenge, code_challenge_method: "S256" });
  const started = await target.request("GET", `/oauth/${provider}/start?${query}`, { redirect: "manual" });
  assert.equal(started.status, 302, started.text);
  return started.headers.get("location");
}

/** Follows the provider's answer (our callback URL) and returns where we send the browser. */
async function callback(callbackUrl) {
  const url = new URL(callbackUrl);
  const back = await target.request("GET", `${url.pathname}${url.search}`, { redirect: "manual" });
  assert.equal(back.status, 302, back.text);
  return new URL(back.headers.get("location"));
}

async function signIn(login, { provider = "test" } = {}) {
  const { verifier, challenge } = pkce();
  const authorize = await start(provider, challenge);
  const providerAnswer =
    provider !== "github"
      ? await oidc.authorize(authorize, { login })
      : (await fetch(`${authorize}&login=${login}`, { redirect: "manual" })).headers.get("location");
  const landed = await callback(providerAnswer);
  return { landed, verifier, providerAnswer };
}

function exchange(code, code_verifier) {
  return target.request("POST", "/oauth/token", { json: { code, code_verifier } });
}

test("sign in with an OpenID provider: redirect, one-time code with the app's verifier, the usual login answer; the same identity signs in the same account", async () => {
  const { landed, verifier } = await signIn("alice");
  assert.equal(`${landed.origin}${landed.pathname}`, APP_RETURN);
  const code = landed.searchParams.get("code");
  assert.ok(code && !landed.searchParams.has("token"), "a one-time code, never a token, in the URL");
  const answer = await exchange(code, verifier);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.body.email, alice.email);
  assert.equal(answer.body.email_verified, true);
  const me = await target.me(answer.body.token);
  assert.equal(me.body.username, "Alice");
  const identities = await target.request("GET", "/identities", { token: answer.body.token });
  assert.deepEqual(identities.body.identities.map((i) => [i.provider, i.email]), [["test", alice.email]]);
  const again = await signIn("alice");
  const second = await exchange(again.landed.searchParams.get("code"), again.verifier);
  assert.equal((await target.me(second.body.token)).body.id, me.body.id, "the same account");
  // The account has no password: password routes say so; login with any password is a plain 401.
  const noPassword = await target.changePassword(answer.body.token, "anything at all", "a new passphrase 1");
  assert.deepEqual([noPassword.status, noPassword.body.error], [403, "no_password"]);
  assert.equal((await target.login(alice.email, "")).status, 400);
  assert.equal((await target.login(alice.email, "whatever it is")).status, 401);
});

test("a one-time code works once and only with the verifier of the app that started the sign-in", async () => {
  const first = await signIn("bob");
  const code = first.landed.searchParams.get("code");
  assert.equal((await exchange(code, pkce().verifier)).status, 401, "another verifier");
  assert.equal((await exchange(code, first.verifier)).status, 401, "used by the wrong try");
  const second = await signIn("bob");
  const code2 = second.landed.searchParams.get("code");
  assert.equal((await exchange(code2, second.verifier)).status, 200);
  assert.equal((await exchange(code2, second.verifier)).status, 401, "a code used twice");
});

test("refused before any redirect: a redirect_to off the list, a plain PKCE method, an unknown provider", async () => {
  const { challenge } = pkce();
  const off = await target.request("GET", `/oauth/test/start?${new URLSearchParams({ redirect_to: "https://evil.example/steal", code_challenge: challenge, code_challenge_method: "S256" })}`, { redirect: "manual" });
  assert.deepEqual([off.status, off.body.error], [400, "redirect_not_allowed"]);
  assert.equal(off.headers.get("location"), null, "no open redirect");
  const plain = await target.request("GET", `/oauth/test/start?${new URLSearchParams({ redirect_to: APP_RETURN, code_challenge: challenge, code_challenge_method: "plain" })}`, { redirect: "manual" });
  assert.deepEqual(plain.body.fields, { code_challenge_method: "invalid" });
  const unknown = await target.request("GET", `/oauth/nope/start?${new URLSearchParams({ redirect_to: APP_RETURN, code_challenge: challenge, code_challenge_method: "S256" })}`, { redirect: "manual" });
  assert.equal(unknown.status, 404);
});

test("a replayed or foreign state is refused; a refused consent comes back as access_denied", async () => {
  const { providerAnswer } = await signIn("bob");
  const url = new URL(providerAnswer);
  const replay = await target.request("GET", `${url.pathname}${url.search}`, { redirect: "manual" });
  assert.deepEqual([replay.status, replay.body.error], [400, "invalid_state"]);
  const foreign = await target.request("GET", `/oauth/test/callback?state=${randomBytes(32).toString("base64url")}&code=x`, { redirect: "manual" });
  assert.deepEqual([foreign.status, foreign.body.error], [400, "invalid_state"]);
  const { challenge } = pkce();
  const authorize = await start("test", challenge);
  const denied = await callback(await oidc.authorize(authorize, { login: "bob", consent: false }));
  assert.equal(denied.searchParams.get("error"), "access_denied");
  assert.equal(denied.searchParams.get("code"), null);
});

test("an unverified provider email that matches an account is refused, never merged; a verified one links to a verified account", async () => {
  const owner = await target.verifiedUser("owner");
  mallory.email = owner.email; // the provider does not vouch for this address
  const refused = await signIn("mallory");
  // The same answer as for an address without an account: nothing to enumerate.
  assert.equal(refused.landed.searchParams.get("error"), "email_not_verified");
  assert.deepEqual((await target.request("GET", "/identities", { token: owner.token })).body.identities, [], "nothing linked");

  const unverified = await target.signedInUser("unverified"); // a password account, address unproven
  mallory2.email = unverified.email;
  assert.equal((await signIn("mallory2")).landed.searchParams.get("error"), "account_exists", "our side unverified: no link");

  mallory3.email = owner.email;
  const linked = await signIn("mallory3");
  const answer = await exchange(linked.landed.searchParams.get("code"), linked.verifier);
  assert.equal(answer.status, 200, answer.text);
  assert.equal((await target.me(answer.body.token)).body.email, owner.email, "both sides verified: linked");
});

test("GitHub: OAuth and its emails API sign a user in; a signed-in user links and unlinks, never the last way in", async () => {
  const { landed, verifier } = await signIn("octo", { provider: "github" });
  const answer = await exchange(landed.searchParams.get("code"), verifier);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.body.username, "Octo Cat");
  assert.ok(github.requests.some((r) => r.path.endsWith("/user/emails")), "the verified primary email was read");
  const last = await target.request("DELETE", "/identities/github", { token: answer.body.token });
  assert.deepEqual([last.status, last.body.error], [409, "last_sign_in_method"]);

  const user = await target.verifiedUser("linker");
  const linking = pkce();
  const link = await target.request("POST", "/oauth/test/link", {
    token: user.token,
    json: { redirect_to: APP_RETURN, code_challenge: linking.challenge, code_challenge_method: "S256", password: user.password },
  });
  assert.equal(link.status, 200, link.text);
  const back = await callback(await oidc.authorize(link.body.url, { login: "carol" }));
  assert.equal(back.searchParams.get("provider"), "test");
  const completed = await target.request("POST", "/identities", { token: user.token, json: { code: back.searchParams.get("link_code"), code_verifier: linking.verifier } });
  assert.deepEqual([completed.status, completed.body], [200, { message: "Linked", provider: "test" }], completed.text);
  assert.deepEqual((await target.request("GET", "/identities", { token: user.token })).body.identities.map((i) => i.provider), ["test"]);
  const confirm = { json: { password: user.password } };
  const unlinked = await target.request("DELETE", "/identities/test", { token: user.token, ...confirm });
  assert.deepEqual([unlinked.status, unlinked.body], [200, { message: "Unlinked" }]);
  assert.equal((await target.request("DELETE", "/identities/test", { token: user.token, ...confirm })).status, 404);
});

test("an ID token is verified: a wrong nonce, another client's token, an expired one or one signed by an unknown key signs nobody in", async () => {
  tampered.mode = "pass";
  const passed = await signIn("bob", { provider: "tampered" });
  assert.ok(passed.landed.searchParams.get("code"), "re-signed by the provider's key with its claims intact: accepted");
  for (const mode of ["nonce", "aud", "expired", "unknown-key"]) {
    tampered.mode = mode;
    const { landed } = await signIn("bob", { provider: "tampered" });
    assert.equal(landed.searchParams.get("error"), "provider_error", mode);
    assert.equal(landed.searchParams.get("code"), null, mode);
  }
  const output = target.logOutput();
  for (const claim of ["nonce", "aud", "exp"]) assert.match(output, new RegExp(`ID token refused: claim ${claim} refused`));
  assert.match(output, /ID token refused: signed by a key the provider does not publish/);
});
