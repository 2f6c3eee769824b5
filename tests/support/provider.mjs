// The OAuth 2.1 / OpenID provider under test: a worker with it on (an RSA key for its ID
// tokens), clients registered through the admin API, a signed-in browser (the provider's cookie),
// and the authorize step driven without a browser (redirects read, not followed).
import { generateKeyPairSync, randomBytes, createHash } from "node:crypto";
import assert from "node:assert/strict";
import { STRONG_PASSWORD, uniqueEmail } from "./app.mjs";
import { ADMIN, OPS_KEY } from "./ways_in.mjs";

/** An RSA private JWK for ID_TOKEN_RSA_KEY (2048 bits, the minimum NIST SP 800-131A allows). */
export function rsaKey(kid = `rsa-${randomBytes(4).toString("hex")}`) {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256" };
}

/** One key for every provider app of a test run: generating RSA keys takes a moment. */
export const RSA_KEY = rsaKey("test-rs256");

/** The settings of a worker with the provider on. */
export function providerVars(extra = {}) {
  return { OAUTH_PROVIDER: "true", ID_TOKEN_RSA_KEY: JSON.stringify(RSA_KEY), ...ADMIN, ...extra };
}

/** Registers a client; `{client_id, client_secret?, ...}` (the client's fields and its secret). */
export async function registerClient(app, fields = {}) {
  const body = { name: "Notes", redirect_uris: ["https://rp.example/cb"], type: "confidential", ...fields };
  const response = await fetch(`${app.base}/admin/clients`, {
    method: "POST",
    headers: { Authorization: `Bearer ${OPS_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  assert.equal(response.status, 201, JSON.stringify(answer));
  return { ...answer.client, client_secret: answer.client_secret };
}

/** A new account, signed in on the provider's pages: `{id, email, password, token, cookie}` (the cookie header). */
export async function signedInBrowser(app, { email = uniqueEmail("person"), password = STRONG_PASSWORD } = {}) {
  const registered = await app.request("POST", "/register", { json: { email, password, username: "Pat" } });
  assert.ok([200, 201].includes(registered.status), registered.text);
  const login = await app.request("POST", "/login", { json: { email, password } });
  assert.equal(login.status, 200, login.text);
  const me = await app.request("GET", "/me", { token: login.body.token });
  return { id: me.body.id, email, password, token: login.body.token, cookie: await cookieFor(app, login.body.token) };
}

/** The provider's cookie for a first-party access token, as the hosted page gets it. */
export async function cookieFor(app, token) {
  const response = await fetch(`${app.base}/oauth2/session`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  assert.equal(response.status, 204, await response.text());
  const set = response.headers.get("set-cookie");
  assert.match(set, /^__Host-provider=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax/);
  return set.split(";")[0];
}

/** PKCE S256. */
export function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** A GET of `url` with the cookie, its redirect not followed: `{status, location, text}`. */
export async function visit(url, cookie) {
  const response = await fetch(url, { redirect: "manual", headers: cookie ? { Cookie: cookie } : {} });
  return { status: response.status, location: response.headers.get("location"), text: await response.text(), headers: response.headers };
}

/**
 * The authorize step for `params` (client_id, redirect_uri, scope, state, nonce, code_challenge…),
 * answering the consent page with `decision` (and the `organization` chosen, if given) when it is
 * shown: the final redirect's URL.
 */
export async function authorize(app, cookie, params, { decision = "allow", organization } = {}) {
  const url = new URL(`${app.base}/oauth2/authorize`);
  for (const [k, v] of Object.entries({ response_type: "code", code_challenge_method: "S256", ...params })) {
    if (v !== undefined) url.searchParams.set(k, v);
  }
  const first = await visit(url.href, cookie);
  if (first.status !== 200) return { ...first, consentShown: false };
  const fields = consentFields(first.text);
  assert.ok(fields.csrf, `expected the consent page, got: ${first.text.slice(0, 300)}`);
  const response = await fetch(`${app.base}/oauth2/consent`, {
    method: "POST",
    redirect: "manual",
    headers: { Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded", Origin: app.base },
    body: new URLSearchParams({ ...fields, ...(organization !== undefined && { organization }), decision }).toString(),
  });
  return { status: response.status, location: response.headers.get("location"), text: await response.text(), consentShown: true, page: first.text };
}

/** The hidden fields of a consent page's form. */
export function consentFields(html) {
  const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [unescape(m[1]), unescape(m[2])]));
}
