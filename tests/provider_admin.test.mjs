// The provider's clients through the admin API, and the apps a person allowed: what the operator
// and the person see, secrets shown once and rotated with an overlap, and revocation that ends the
// grants' tokens at once.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as oidc from "openid-client";
import { appsClosedAfter } from "./support/app.mjs";
import { admin, eventually } from "./support/ways_in.mjs";
import { authorize, pkcePair, providerVars, registerClient, signedInBrowser } from "./support/provider.mjs";

const spawnApp = appsClosedAfter(after);
const app = await spawnApp({ vars: providerVars() });
const insecure = { execute: [oidc.allowInsecureRequests] };

/** A code flow for `person` on a client, as the relying party's backend sees it: its tokens. */
async function granted(client, person, scope = "openid email") {
  const config = await oidc.discovery(new URL(app.base), client.client_id, {}, oidc.ClientSecretBasic(client.client_secret), insecure);
  const { verifier, challenge } = pkcePair();
  const answer = await authorize(app, person.cookie, { client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope, state: "s", code_challenge: challenge });
  const tokens = await oidc.authorizationCodeGrant(config, new URL(answer.location), { pkceCodeVerifier: verifier, expectedState: "s" });
  return { config, tokens };
}

test("the operator registers, reads, lists, edits and deletes clients; the secret is shown once", async () => {
  const created = await admin(app, "POST", "/admin/clients", { json: { name: "  Billing  ", redirect_uris: ["https://billing.example/cb"], type: "confidential", scopes: ["openid", "email"] } });
  assert.equal(created.status, 201, created.text);
  const { client, client_secret } = created.body;
  assert.equal(client.name, "Billing");
  assert.deepEqual(client.scopes, ["openid", "email"]);
  assert.equal(client.token_endpoint_auth_method, "client_secret_basic");
  assert.match(client_secret, /^[A-Za-z0-9_-]{43}$/);
  const read = await admin(app, "GET", `/admin/clients/${client.client_id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.client_secret, undefined, "never shown again");
  assert.deepEqual(read.body.client, client);
  const edited = await admin(app, "PATCH", `/admin/clients/${client.client_id}`, { json: { name: "Billing 2", skip_consent: true } });
  assert.equal(edited.body.client.name, "Billing 2");
  assert.equal(edited.body.client.skip_consent, true);
  const typeChange = await admin(app, "PATCH", `/admin/clients/${client.client_id}`, { json: { type: "public" } });
  assert.equal(typeChange.status, 400);
  const listed = await admin(app, "GET", "/admin/clients");
  assert.ok(listed.body.clients.some((c) => c.client_id === client.client_id));
  assert.equal((await admin(app, "DELETE", `/admin/clients/${client.client_id}`)).status, 200);
  assert.equal((await admin(app, "GET", `/admin/clients/${client.client_id}`)).status, 404);
  assert.equal((await admin(app, "DELETE", `/admin/clients/${client.client_id}`)).status, 404);
});

test("bad registrations are refused field by field, and nothing is stored", async () => {
  const before = (await admin(app, "GET", "/admin/clients")).body.clients.length;
  const refused = await admin(app, "POST", "/admin/clients", { json: { name: "", redirect_uris: ["http://evil.example/cb", "https://x.example/#f"], type: "server", scopes: ["admin"] } });
  assert.equal(refused.status, 400);
  assert.deepEqual(Object.keys(refused.body.fields).sort(), ["name", "redirect_uris", "scopes", "type"]);
  assert.equal((await admin(app, "GET", "/admin/clients")).body.clients.length, before);
  assert.equal((await app.request("POST", "/admin/clients", { json: {} })).status, 401, "no admin key");
});

test("a rotated secret works beside the old one for the overlap; with none, the old one stops at once", async () => {
  const client = await registerClient(app);
  const tokenWith = (secret) =>
    fetch(`${app.base}/oauth2/introspect`, {
      method: "POST",
      headers: { Authorization: `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString("base64")}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: "token=nothing",
    });
  const rotated = await admin(app, "POST", `/admin/clients/${client.client_id}/secret`, { json: { overlap_seconds: 3600 } });
  assert.equal(rotated.status, 200);
  assert.ok(rotated.body.client.previous_secret_valid_until);
  assert.equal((await tokenWith(rotated.body.client_secret)).status, 200);
  assert.equal((await tokenWith(client.client_secret)).status, 200, "the old one, within the overlap");
  const again = await admin(app, "POST", `/admin/clients/${client.client_id}/secret`, { json: { overlap_seconds: 0 } });
  assert.equal((await tokenWith(again.body.client_secret)).status, 200);
  const old = await tokenWith(rotated.body.client_secret);
  assert.equal(old.status, 401);
  assert.equal((await old.json()).error, "invalid_client");
  assert.equal((await tokenWith(client.client_secret)).status, 401);
  const publicClient = await registerClient(app, { type: "public" });
  const refused = await admin(app, "POST", `/admin/clients/${publicClient.client_id}/secret`, { json: {} });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error, "no_client_secret");
});

test("deleting a client ends its grants: their refresh tokens and UserInfo stop at once", async () => {
  const client = await registerClient(app);
  const person = await signedInBrowser(app);
  const { config, tokens } = await granted(client, person);
  assert.equal((await admin(app, "DELETE", `/admin/clients/${client.client_id}`)).status, 200);
  const info = await fetch(`${app.base}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 401);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token));
});

test("a person lists the apps they allowed and revokes one: its tokens die at once, the trail says so", async () => {
  const notes = await registerClient(app, { name: "Notes" });
  const mail = await registerClient(app, { name: "Mail" });
  const person = await signedInBrowser(app);
  const first = await granted(notes, person);
  await granted(mail, person, "openid");
  const listed = await app.request("GET", "/oauth2/grants", { token: person.token });
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.apps.map((a) => a.name).sort(), ["Mail", "Notes"]);
  const notesApp = listed.body.apps.find((a) => a.name === "Notes");
  assert.deepEqual(notesApp.scopes, ["openid", "email"]);
  assert.equal(notesApp.active_grants, 1);

  const revoked = await app.request("DELETE", `/oauth2/grants/${notes.client_id}`, { token: person.token });
  assert.equal(revoked.status, 200);
  assert.equal((await app.request("DELETE", `/oauth2/grants/${notes.client_id}`, { token: person.token })).status, 404);
  assert.deepEqual((await app.request("GET", "/oauth2/grants", { token: person.token })).body.apps.map((a) => a.name), ["Mail"]);
  const info = await fetch(`${app.base}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${first.tokens.access_token}` } });
  assert.equal(info.status, 401);
  assert.equal((await oidc.tokenIntrospection(first.config, first.tokens.access_token)).active, false);
  await assert.rejects(oidc.refreshTokenGrant(first.config, first.tokens.refresh_token), (e) => e.error === "invalid_grant");
  // Consent is asked again next time.
  const again = await authorize(app, person.cookie, { client_id: notes.client_id, redirect_uri: notes.redirect_uris[0], scope: "openid", code_challenge: pkcePair().challenge });
  assert.equal(again.consentShown, true);

  const trail = await eventually(
    async () => (await app.request("GET", "/me/events", { token: person.token })).body.events,
    (events) => events.some((e) => e.type === "app.revoked"),
  );
  const authorized = trail.filter((e) => e.type === "app.authorized").map((e) => e.detail.client);
  assert.ok(authorized.includes(notes.client_id) && authorized.includes(mail.client_id));
  assert.equal(trail.find((e) => e.type === "app.revoked").detail.client, notes.client_id);
  // Another person cannot revoke someone else's app, nor see it.
  const stranger = await signedInBrowser(app);
  assert.equal((await app.request("DELETE", `/oauth2/grants/${mail.client_id}`, { token: stranger.token })).status, 404);
  assert.deepEqual((await app.request("GET", "/oauth2/grants", { token: stranger.token })).body.apps, []);
});

test("the grants' sessions are not the person's devices: GET /sessions lists the sign-in, not the apps", async () => {
  const client = await registerClient(app);
  const person = await signedInBrowser(app);
  await granted(client, person);
  const sessions = await app.request("GET", "/sessions", { token: person.token });
  assert.equal(sessions.body.sessions.length, 1, "the provider page's sign-in only");
});

test("ten parallel refreshes of one grant's token: all answered, with one successor; the grant goes on", async () => {
  // A grace window far longer than any run, so no answer depends on how fast this machine is.
  const graceful = await spawnApp({ vars: providerVars({ REFRESH_REUSE_GRACE_SECONDS: "3600" }) });
  const client = await registerClient(graceful);
  const person = await signedInBrowser(graceful);
  const config = await oidc.discovery(new URL(graceful.base), client.client_id, {}, oidc.ClientSecretBasic(client.client_secret), insecure);
  const { verifier, challenge } = pkcePair();
  const answer = await authorize(graceful, person.cookie, { client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: "openid offline_access", state: "s", code_challenge: challenge });
  const tokens = await oidc.authorizationCodeGrant(config, new URL(answer.location), { pkceCodeVerifier: verifier, expectedState: "s" });
  const refreshed = await Promise.all(Array.from({ length: 10 }, () => oidc.refreshTokenGrant(config, tokens.refresh_token)));
  assert.equal(new Set(refreshed.map((r) => r.refresh_token)).size, 1, "one successor");
  const next = await oidc.refreshTokenGrant(config, refreshed[0].refresh_token);
  assert.ok(next.access_token);
});
