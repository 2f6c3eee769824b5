// The provider's `organization` scope (docs/provider.md, docs/organizations.md "Tokens"): the
// person chooses one of their organizations on the consent page, and the grant's access tokens
// carry it with their role and its permissions, read again at every refresh; a forged choice is
// refused, a client that does not ask gets none, and the device grant carries none.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter } from "./support/app.mjs";
import { payloadOf } from "./support/ways_in.mjs";
import { organizationsOf, slug } from "./support/organizations.mjs";
import { authorize, consentFields, cookieFor, pkcePair, providerVars, registerClient, visit } from "./support/provider.mjs";

const spawnApp = appsClosedAfter(after);
const app = await spawnApp({ mail: true, vars: providerVars() });
const client = await registerClient(app);
const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64")}`;
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

const helpers = organizationsOf(app);
const { call, join } = helpers;

/** A verified account, signed in on the provider's pages: email, token, id, cookie. */
async function person(tag) {
  const user = await helpers.person(tag);
  return { ...user, cookie: await cookieFor(app, user.token) };
}

/** An organization made by `owner`, named `name`. */
async function organization(owner, name) {
  const made = await call("POST", "/organizations", owner.token, { name, slug: slug("org") });
  assert.equal(made.status, 201, made.text);
  return made.body;
}

/** The authorization URL of a code request for `scope`, with its PKCE verifier. */
function request(scope, extra = {}) {
  const { verifier, challenge } = pkcePair();
  const url = new URL(`${app.base}/oauth2/authorize`);
  const params = { response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope, state: "s", code_challenge: challenge, code_challenge_method: "S256", ...extra };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url, params, verifier };
}

/** The token endpoint, as the client's backend calls it. */
const tokenCall = (form) => app.request("POST", "/oauth2/token", { body: new URLSearchParams(form).toString(), headers: { ...FORM, Authorization: basic } });

/** A whole code flow for `who` asking `scope`, choosing `organization` on the consent page: the token answer. */
async function granted(who, scope, organization) {
  const { params, verifier } = request(scope);
  const answer = await authorize(app, who.cookie, params, { organization });
  assert.equal(answer.status, 303, answer.text?.slice(0, 300));
  const code = new URL(answer.location).searchParams.get("code");
  const tokens = await tokenCall({ grant_type: "authorization_code", code, redirect_uri: client.redirect_uris[0], code_verifier: verifier });
  assert.equal(tokens.status, 200, tokens.text);
  return { ...tokens.body, page: answer.page };
}

async function refreshed(refreshToken) {
  const answer = await tokenCall({ grant_type: "refresh_token", refresh_token: refreshToken });
  assert.equal(answer.status, 200, answer.text);
  return answer.body;
}

/** The consent form of `url` for `who`, allowed with the `extra` fields as given (repeats kept). */
async function postConsent(who, url, extra) {
  const page = await visit(url.href, who.cookie);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  const body = new URLSearchParams({ ...consentFields(page.text), decision: "allow" });
  for (const [name, value] of extra) body.append(name, value);
  const response = await fetch(`${app.base}/oauth2/consent`, { method: "POST", body, headers: { ...FORM, Cookie: who.cookie, Origin: app.base }, redirect: "manual" });
  return { status: response.status, location: response.headers.get("location"), text: await response.text() };
}

test("the organization chosen at consent rides in the provider's tokens, with the role read again at every refresh", async () => {
  const owner = await person("org-owner");
  const pat = await person("org-pat");
  const own = await organization(pat, `Acme <b>"Labs"</b> & Co`);
  const beta = await organization(owner, "Beta");
  await join(beta, owner, pat, "admin");

  const { url } = request("openid organization");
  const page = await visit(url.href, pat.cookie);
  assert.equal(page.status, 200);
  assert.match(page.text, new RegExp(`<input type="radio" name="organization" value="${own.id}" required>`));
  assert.match(page.text, new RegExp(`<input type="radio" name="organization" value="${beta.id}" required>`));
  assert.ok(page.text.includes("Acme &lt;b&gt;&quot;Labs&quot;&lt;/b&gt; &amp; Co"), "names are escaped");
  assert.ok(!page.text.includes("<b>"));

  const tokens = await granted(pat, "openid organization", beta.id);
  assert.equal(tokens.scope, "openid organization");
  const claims = payloadOf(tokens.access_token);
  assert.equal(claims.org_id, beta.id);
  assert.equal(claims.org_role, "admin");
  assert.ok(claims.org_permissions.includes("members:invite"));
  assert.equal(payloadOf(tokens.id_token).org_id, undefined, "the ID token says who, not where");
  const introspected = await app.request("POST", "/oauth2/introspect", { body: new URLSearchParams({ token: tokens.access_token }).toString(), headers: { ...FORM, Authorization: basic } });
  assert.equal(introspected.body.active, true);
  assert.equal(introspected.body.org_id, beta.id);
  assert.equal(introspected.body.org_role, "admin");

  const demoted = await call("PATCH", `/organizations/${beta.id}/members/${pat.id}`, owner.token, { role: "member" });
  assert.equal(demoted.status, 200, demoted.text);
  const next = await refreshed(tokens.refresh_token);
  const nextClaims = payloadOf(next.access_token);
  assert.equal(nextClaims.org_id, beta.id);
  assert.equal(nextClaims.org_role, "member");
  assert.deepEqual(nextClaims.org_permissions, ["org:read", "members:read"]);

  const removed = await call("DELETE", `/organizations/${beta.id}/members/${pat.id}`, owner.token);
  assert.equal(removed.status, 200, removed.text);
  const last = payloadOf((await refreshed(next.refresh_token)).access_token);
  for (const claim of ["org_id", "org_role", "org_permissions"]) assert.equal(last[claim], undefined, claim);
});

test("a choice that is not one of the person's organizations attaches nothing", async () => {
  const owner = await person("org-owner2");
  const pat = await person("org-pat2");
  const mine = await organization(pat, "Mine");
  const theirs = await organization(owner, "Theirs");
  const { url } = request("openid organization");
  for (const [extra, why] of [
    [[["organization", theirs.id]], "an organization the person is not in"],
    [[], "no choice"],
    [[["organization", mine.id], ["organization", theirs.id]], "two choices"],
  ]) {
    const refused = await postConsent(pat, url, extra);
    assert.equal(refused.status, 400, why);
    assert.equal(refused.location, null, why);
    assert.match(refused.text, /This organization cannot be chosen/, why);
  }
  const allowed = await postConsent(pat, url, [["organization", mine.id]]);
  assert.equal(allowed.status, 303);
  assert.ok(new URL(allowed.location).searchParams.get("code"));
});

test("a client that does not ask for organization gets none; asking shows the choice every time", async () => {
  const pat = await person("org-pat3");
  const mine = await organization(pat, "Solo");
  const plain = await granted(pat, "openid email");
  assert.equal(payloadOf(plain.access_token).org_id, undefined);
  assert.ok(!plain.page.includes('name="organization"'));

  const first = await granted(pat, "openid organization", mine.id);
  assert.equal(payloadOf(first.access_token).org_id, mine.id);
  assert.equal(payloadOf(first.access_token).org_role, "owner");
  // Consented before, yet the page comes back: the organization is chosen each time.
  const again = await authorize(app, pat.cookie, request("openid organization").params, { organization: mine.id });
  assert.equal(again.consentShown, true);
  const silent = await visit(request("openid organization", { prompt: "none" }).url.href, pat.cookie);
  assert.equal(new URL(silent.location).searchParams.get("error"), "consent_required");
});

test("a person in no organization consents without one", async () => {
  const loner = await person("org-loner");
  const tokens = await granted(loner, "openid organization");
  assert.match(tokens.page, /You are in no organization/);
  assert.equal(tokens.scope, "openid organization");
  assert.equal(payloadOf(tokens.access_token).org_id, undefined);
});

test("the device grant carries no organization: the scope is refused there", async () => {
  const device = await registerClient(app, { device_grant: true });
  const answer = await app.request("POST", "/oauth2/device_authorization", {
    body: new URLSearchParams({ client_id: device.client_id, client_secret: device.client_secret, scope: "openid organization" }).toString(),
    headers: FORM,
  });
  assert.equal(answer.status, 400, answer.text);
  assert.equal(answer.body.error, "invalid_scope");
});
