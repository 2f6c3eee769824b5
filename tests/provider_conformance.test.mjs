// The OpenID Foundation's Basic OP and Config OP test plans (openid-certification/conformance-suite,
// OIDCCBasicTestPlan and OIDCCConfigTestPlan), one black-box test per module that applies, named
// after it, driven by openid-client 6 (panva's certified relying-party library) against the
// worker; and the resource server's check of RFC 9068 access tokens by oauth4webapi, which
// openid-client does not make. The suite itself needs Docker; docs/provider.md lists which modules apply and why the
// others do not. One difference from the suite, by design: every request carries PKCE (S256),
// which this provider requires of every client (OAuth 2.1).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as oidc from "openid-client";
import * as oauth from "oauth4webapi";
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from "jose";
import { appsClosedAfter } from "./support/app.mjs";
import { sleep } from "./support/ways_in.mjs";
import { authorize, cookieFor, providerVars, registerClient, signedInBrowser, visit } from "./support/provider.mjs";

const spawnApp = appsClosedAfter(after);
const app = await spawnApp({ vars: providerVars() });
const REDIRECT = "https://rp.example/cb";
const rp = await registerClient(app, { redirect_uris: [REDIRECT, "https://rp.example/other"] });
const person = await signedInBrowser(app);
const insecure = { execute: [oidc.allowInsecureRequests] };
const basic = await oidc.discovery(new URL(app.base), rp.client_id, {}, oidc.ClientSecretBasic(rp.client_secret), insecure);

/** The authorization URL of `config` with fresh state, nonce and PKCE, and those checks. */
async function request(config, params = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: "openid",
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...params,
  });
  for (const [k, v] of Object.entries(params)) if (v === undefined) url.searchParams.delete(k);
  return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: params.nonce === undefined && "nonce" in params ? oidc.skipNonceCheck : nonce } };
}

/** The authorize step of `url` for `cookie`: consent given when asked. The callback URL. */
async function through(url, cookie = person.cookie) {
  const params = Object.fromEntries(url.searchParams);
  const answer = await authorize(app, cookie, params);
  assert.ok([302, 303].includes(answer.status), `expected a redirect, got ${answer.status}: ${answer.text?.slice(0, 200)}`);
  return new URL(answer.location);
}

/** A whole code flow on `config`: its tokens. */
async function codeFlow(config, params = {}, cookie = person.cookie) {
  const { url, checks } = await request(config, params);
  const callback = await through(url, cookie);
  return oidc.authorizationCodeGrant(config, callback, checks);
}

test("oidcc-server: the code flow signs in, with a valid ID token, and iss in the response (RFC 9207)", async () => {
  const { url, checks } = await request(basic);
  const callback = await through(url);
  assert.equal(callback.searchParams.get("iss"), app.base);
  const tokens = await oidc.authorizationCodeGrant(basic, callback, checks);
  const claims = tokens.claims();
  assert.equal(claims.iss, app.base);
  assert.equal(claims.aud, rp.client_id);
  assert.equal(claims.sub, String(person.id));
  assert.deepEqual(claims.amr, ["pwd"]);
  assert.ok(claims.auth_time <= claims.iat);
  assert.equal(tokens.token_type, "bearer");
});

test("oidcc-idtoken-signature: ID tokens are RS256 by default, verifiable from the JWKS; EdDSA when the client registers it", async () => {
  const jwks = createLocalJWKSet(await (await fetch(`${app.base}/.well-known/jwks.json`)).json());
  const rs = await codeFlow(basic);
  assert.equal(decodeProtectedHeader(rs.id_token).alg, "RS256");
  await jwtVerify(rs.id_token, jwks, { issuer: app.base, audience: rp.client_id, algorithms: ["RS256"] });
  const ed = await registerClient(app, { id_token_signed_response_alg: "EdDSA" });
  const edConfig = await oidc.discovery(new URL(app.base), ed.client_id, { id_token_signed_response_alg: "EdDSA" }, oidc.ClientSecretBasic(ed.client_secret), insecure);
  const tokens = await codeFlow(edConfig);
  assert.equal(decodeProtectedHeader(tokens.id_token).alg, "EdDSA");
  await jwtVerify(tokens.id_token, jwks, { issuer: app.base, audience: ed.client_id, algorithms: ["EdDSA"] });
  // A changed byte fails the signature.
  const [h, p, s] = rs.id_token.split(".");
  const forged = `${h}.${p}.${s.slice(0, -2)}${s.endsWith("AA") ? "BB" : "AA"}`;
  await assert.rejects(jwtVerify(forged, jwks));
});

test("oidcc-server-client-secret-post: client_secret_post authenticates as well as Basic", async () => {
  const post = await oidc.discovery(new URL(app.base), rp.client_id, {}, oidc.ClientSecretPost(rp.client_secret), insecure);
  const tokens = await codeFlow(post);
  assert.ok(tokens.claims().sub);
});

test("oidcc-userinfo-get, -post-header, -post-body: UserInfo answers with the claims of the token's scopes", async () => {
  const tokens = await codeFlow(basic, { scope: "openid email" });
  const sub = tokens.claims().sub;
  const got = await oidc.fetchUserInfo(basic, tokens.access_token, sub);
  assert.deepEqual(got, { sub, email: person.email, email_verified: false });
  const header = await fetch(`${app.base}/oauth2/userinfo`, { method: "POST", headers: { Authorization: `Bearer ${tokens.access_token}` } });
  assert.deepEqual(await header.json(), got);
  const body = await fetch(`${app.base}/oauth2/userinfo`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ access_token: tokens.access_token }) });
  assert.deepEqual(await body.json(), got);
  const none = await fetch(`${app.base}/oauth2/userinfo`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get("www-authenticate"), /^Bearer/);
});

test("oidcc-scope-profile, -scope-email, -scope-all: each scope adds its claims, to the ID token and UserInfo", async () => {
  const profile = await codeFlow(basic, { scope: "openid profile" });
  assert.equal(profile.claims().name, "Pat");
  assert.equal(profile.claims().email, undefined);
  const email = await codeFlow(basic, { scope: "openid email" });
  assert.equal(email.claims().email, person.email);
  assert.equal(email.claims().name, undefined);
  const all = await codeFlow(basic, { scope: "openid profile email offline_access" });
  const info = await oidc.fetchUserInfo(basic, all.access_token, all.claims().sub);
  assert.equal(info.name, "Pat");
  assert.equal(info.email, person.email);
});

test("oidcc-ensure-other-scope-order-succeeds: scopes in any order", async () => {
  const tokens = await codeFlow(basic, { scope: "email openid" });
  assert.equal(tokens.scope, "openid email");
});

test("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", async () => {
  const tokens = await codeFlow(basic, { nonce: undefined });
  assert.equal(tokens.claims().nonce, undefined);
});

test("oidcc-ensure-request-with-unknown-parameter-succeeds, -display-page, -display-popup, -ui-locales, -claims-locales, -acr-values, -claims-essential: what is not understood is ignored", async () => {
  for (const params of [{ unknown_param: "x" }, { display: "page" }, { display: "popup" }, { ui_locales: "se" }, { claims_locales: "se" }, { acr_values: "1 2" }, { claims: JSON.stringify({ userinfo: { name: { essential: true } } }) }]) {
    const tokens = await codeFlow(basic, params);
    assert.ok(tokens.claims().sub, JSON.stringify(params));
  }
});

test("oidcc-response-type-missing: no response_type is an error sent back to the client", async () => {
  const { url } = await request(basic, { response_type: undefined });
  const answer = await visit(url.href, person.cookie);
  const back = new URL(answer.location);
  assert.equal(back.origin + back.pathname, REDIRECT);
  assert.equal(back.searchParams.get("error"), "invalid_request");
  assert.ok(back.searchParams.get("state"));
  // The implicit and hybrid flows do not exist (OAuth 2.1).
  const implicit = await visit((await request(basic, { response_type: "id_token token" })).url.href, person.cookie);
  assert.equal(new URL(implicit.location).searchParams.get("error"), "unsupported_response_type");
});

test("oidcc-ensure-registered-redirect-uri, -redirect-uri-in-authorization-request: an unregistered or missing redirect_uri is an error page, never a redirect", async () => {
  for (const redirect_uri of ["https://attacker.example/cb", "https://rp.example/cb/extra", "https://rp.example/cb?x=1", undefined]) {
    const { url } = await request(basic, { redirect_uri });
    const answer = await visit(url.href, person.cookie);
    assert.equal(answer.status, 400, String(redirect_uri));
    assert.equal(answer.location, null);
    assert.match(answer.headers.get("content-type"), /^text\/html/);
  }
  // The second registered URI works, exactly.
  const tokens = await (async () => {
    const { url, checks } = await request(basic, { redirect_uri: "https://rp.example/other" });
    const callback = await through(url);
    assert.equal(callback.origin + callback.pathname, "https://rp.example/other");
    return oidc.authorizationCodeGrant(basic, callback, checks);
  })();
  assert.ok(tokens.access_token);
});

test("oidcc-codereuse: a code works once; presented again it fails and the tokens it issued are revoked", async () => {
  const { url, checks } = await request(basic, { scope: "openid email" });
  const callback = await through(url);
  const tokens = await oidc.authorizationCodeGrant(basic, callback, checks);
  const again = oidc.authorizationCodeGrant(basic, callback, checks);
  await assert.rejects(again, (e) => e.error === "invalid_grant");
  await assert.rejects(oidc.fetchUserInfo(basic, tokens.access_token, tokens.claims().sub), (e) => e.status === 401 || e.cause?.status === 401 || /401|invalid_token/.test(String(e)));
  const introspected = await oidc.tokenIntrospection(basic, tokens.access_token);
  assert.equal(introspected.active, false);
  await assert.rejects(oidc.refreshTokenGrant(basic, tokens.refresh_token), (e) => e.error === "invalid_grant");
});

test("oidcc-codereuse-30seconds: a code presented again 30 seconds later, still within its minute, fails and ends its grant", async () => {
  const { url, checks } = await request(basic);
  const callback = await through(url);
  const tokens = await oidc.authorizationCodeGrant(basic, callback, checks);
  await sleep(30_000);
  await assert.rejects(oidc.authorizationCodeGrant(basic, callback, checks), (e) => e.error === "invalid_grant");
  assert.equal((await oidc.tokenIntrospection(basic, tokens.access_token)).active, false);
  await assert.rejects(oidc.refreshTokenGrant(basic, tokens.refresh_token), (e) => e.error === "invalid_grant");
});

test("oidcc-prompt-none-not-logged-in: login_required, sent back to the client", async () => {
  const { url } = await request(basic, { prompt: "none" });
  const answer = await visit(url.href);
  const back = new URL(answer.location);
  assert.equal(back.searchParams.get("error"), "login_required");
  assert.equal(back.searchParams.get("iss"), app.base);
});

test("oidcc-prompt-none-logged-in: a signed-in person who consented before gets a code without a page", async () => {
  await codeFlow(basic); // consent given
  const { url, checks } = await request(basic, { prompt: "none" });
  const answer = await visit(url.href, person.cookie);
  assert.equal(answer.status, 302);
  const tokens = await oidc.authorizationCodeGrant(basic, new URL(answer.location), checks);
  assert.equal(tokens.claims().sub, String(person.id));
  // Without an earlier consent: consent_required.
  const other = await registerClient(app);
  const otherConfig = await oidc.discovery(new URL(app.base), other.client_id, {}, oidc.ClientSecretBasic(other.client_secret), insecure);
  const refused = await visit((await request(otherConfig, { prompt: "none" })).url.href, person.cookie);
  assert.equal(new URL(refused.location).searchParams.get("error"), "consent_required");
});

/** Signs `who` in again (a new session, a new cookie), as the sign-in page would. */
async function signInAgain(who) {
  const login = await app.request("POST", "/login", { json: { email: who.email, password: who.password } });
  assert.equal(login.status, 200);
  return cookieFor(app, login.body.token);
}

/** Follows a sign-in redirect: the page's return_to, visited with the new cookie. */
async function afterSignIn(answer, cookie) {
  const page = new URL(answer.location, app.base);
  assert.equal(page.pathname, "/oauth2/sign-in");
  const back = await authorize(app, cookie, Object.fromEntries(new URL(page.searchParams.get("return_to"), app.base).searchParams));
  return new URL(back.location);
}

test("oidcc-prompt-login: a signed-in person is asked to sign in again, and auth_time is the new sign-in's", async () => {
  const who = await signedInBrowser(app);
  const first = (await codeFlow(basic, {}, who.cookie)).claims().auth_time;
  await sleep(1100);
  const { url, checks } = await request(basic, { prompt: "login" });
  const answer = await visit(url.href, who.cookie);
  const cookie = await signInAgain(who);
  const tokens = await oidc.authorizationCodeGrant(basic, await afterSignIn(answer, cookie), checks);
  assert.ok(tokens.claims().auth_time > first, `${tokens.claims().auth_time} > ${first}`);
});

test("oidcc-max-age-1: a sign-in older than max_age is asked again; -max-age-10000: a recent one is not", async () => {
  const who = await signedInBrowser(app);
  const first = (await codeFlow(basic, {}, who.cookie)).claims().auth_time;
  const recent = await codeFlow(basic, { max_age: "10000" }, who.cookie);
  assert.equal(recent.claims().auth_time, first);
  await sleep(2100);
  const { url, checks } = await request(basic, { max_age: "1" });
  const answer = await visit(url.href, who.cookie);
  const cookie = await signInAgain(who);
  const tokens = await oidc.authorizationCodeGrant(basic, await afterSignIn(answer, cookie), { ...checks, maxAge: 1 });
  assert.ok(tokens.claims().auth_time > first);
});

test("oidcc-id-token-hint: the hint of the signed-in person gets a code with prompt=none; another person's asks for a sign-in", async () => {
  const tokens = await codeFlow(basic);
  const { url, checks } = await request(basic, { prompt: "none", id_token_hint: tokens.id_token });
  const answer = await visit(url.href, person.cookie);
  const again = await oidc.authorizationCodeGrant(basic, new URL(answer.location), checks);
  assert.equal(again.claims().sub, tokens.claims().sub);
  const other = await signedInBrowser(app);
  const refused = await visit((await request(basic, { prompt: "none", id_token_hint: tokens.id_token })).url.href, other.cookie);
  assert.equal(new URL(refused.location).searchParams.get("error"), "login_required");
});

test("oidcc-login-hint: the sign-in page is filled with the hinted address", async () => {
  const { url } = await request(basic, { login_hint: "hinted@example.com" });
  const answer = await visit(url.href);
  const page = await visit(new URL(answer.location, app.base).href);
  assert.equal(page.status, 200);
  assert.match(page.text, /value="hinted@example\.com"/);
});

test("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported, -ensure-request-object-with-redirect-uri: request objects are refused, after the redirect_uri is checked", async () => {
  const { url } = await request(basic, { request: "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0." });
  const answer = await visit(url.href, person.cookie);
  assert.equal(new URL(answer.location).searchParams.get("error"), "request_not_supported");
  const { url: foreign } = await request(basic, { request: "x.y.", redirect_uri: "https://attacker.example/cb" });
  assert.equal((await visit(foreign.href, person.cookie)).status, 400);
});

test("oidcc-ensure-post-request-succeeds: the authorization request may be a POSTed form", async () => {
  const { url, checks } = await request(basic);
  const response = await fetch(`${app.base}/oauth2/authorize`, {
    method: "POST",
    redirect: "manual",
    headers: { Cookie: person.cookie, "Content-Type": "application/x-www-form-urlencoded" },
    body: url.searchParams.toString(),
  });
  assert.equal(response.status, 303);
  const tokens = await oidc.authorizationCodeGrant(basic, new URL(response.headers.get("location")), checks);
  assert.ok(tokens.claims().sub);
});

test("oidcc-refresh-token: the refresh token rotates; the old one, used again, ends the grant (RFC 9700 §4.14.2)", async () => {
  const tokens = await codeFlow(basic, { scope: "openid offline_access" });
  const refreshed = await oidc.refreshTokenGrant(basic, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal(refreshed.scope, "openid offline_access");
  const again = await oidc.refreshTokenGrant(basic, refreshed.refresh_token);
  // The first token, spent two rotations ago, is reuse: the grant ends, its newest token with it.
  await assert.rejects(oidc.refreshTokenGrant(basic, tokens.refresh_token), (e) => e.error === "invalid_grant");
  await assert.rejects(oidc.refreshTokenGrant(basic, again.refresh_token), (e) => e.error === "invalid_grant");
  // Another client cannot use this client's refresh token.
  const fresh = await codeFlow(basic);
  const other = await registerClient(app);
  const otherConfig = await oidc.discovery(new URL(app.base), other.client_id, {}, oidc.ClientSecretBasic(other.client_secret), insecure);
  await assert.rejects(oidc.refreshTokenGrant(otherConfig, fresh.refresh_token), (e) => e.error === "invalid_grant");
  assert.ok((await oidc.refreshTokenGrant(basic, fresh.refresh_token)).access_token, "and the stranger's try spent nothing");
});

test("oidcc-discovery-endpoint-verification, -discovery-issuer-not-matching-config (Config OP): the documents name this issuer and what it supports", async () => {
  const openid = await (await fetch(`${app.base}/.well-known/openid-configuration`)).json();
  const rfc8414 = await (await fetch(`${app.base}/.well-known/oauth-authorization-server`)).json();
  assert.deepEqual(openid, rfc8414);
  assert.equal(openid.issuer, app.base);
  assert.ok(openid.id_token_signing_alg_values_supported.includes("RS256"), "RS256 is required (OpenID Connect Core §15.1)");
  assert.deepEqual(openid.response_types_supported, ["code"]);
  assert.deepEqual(openid.code_challenge_methods_supported, ["S256"]);
  assert.equal(basic.serverMetadata().issuer, app.base);
  // Every key of the JWKS names its alg and use.
  const jwks = await (await fetch(openid.jwks_uri)).json();
  assert.ok(jwks.keys.some((k) => k.kty === "RSA" && k.alg === "RS256"));
  for (const key of jwks.keys) assert.equal(key.use, "sig");
});

test("RFC 9068 (oauth4webapi's resource-server check): access tokens validate as at+jwt from the JWKS; ID tokens and first-party tokens do not", async () => {
  const insecureRs = { [oauth.allowInsecureRequests]: true };
  const as = await oauth.processDiscoveryResponse(new URL(app.base), await oauth.discoveryRequest(new URL(app.base), insecureRs));
  const tokens = await codeFlow(basic, { scope: "openid email" });
  const at = (token) => new Request(`${app.base}/resource`, { headers: { Authorization: `Bearer ${token}` } });
  const claims = await oauth.validateJwtAccessToken(as, at(tokens.access_token), rp.client_id, insecureRs);
  assert.equal(claims.client_id, rp.client_id);
  assert.equal(claims.sub, String(person.id));
  assert.equal(claims.scope, "openid email");
  // Another audience (a resource server the token is not for) refuses it.
  await assert.rejects(oauth.validateJwtAccessToken(as, at(tokens.access_token), "another-resource", insecureRs));
  // An ID token is not an access token (typ JWT), nor is a first-party token (no client_id, another iss).
  await assert.rejects(oauth.validateJwtAccessToken(as, at(tokens.id_token), rp.client_id, insecureRs));
  await assert.rejects(oauth.validateJwtAccessToken(as, at(person.token), rp.client_id, insecureRs));
});
