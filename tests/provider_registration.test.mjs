// How clients the operator never registered become known (docs/mcp.md): dynamic registration
// (RFC 7591) with its abuse controls, Client ID Metadata Documents fetched with their guards, and
// resource indicators (RFC 8707) binding each grant's tokens to one resource.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter } from "./support/app.mjs";
import { authorize, pkcePair, providerVars, registerClient, signedInBrowser, visit } from "./support/provider.mjs";
import { OPS_KEY, admin, eventually, randomIp } from "./support/ways_in.mjs";

const spawn = appsClosedAfter(after);
const CALLBACK = "http://127.0.0.1:4567/callback";
const DOC = "https://tools.example/oauth/client.json";
// What the worker under test fetches from outside: documents answered from here, by URL.
const outside = new Map();
const fetched = [];
async function outboundService(request) {
  fetched.push(request.url);
  const answer = outside.get(request.url);
  return answer ? answer() : new Response("not found", { status: 404 });
}
const app = await spawn({
  vars: providerVars({ OAUTH_DYNAMIC_REGISTRATION: "true", OAUTH_REGISTRATIONS_PER_ADDRESS: "3", OAUTH_CLIENT_METADATA_DOCUMENTS: "true" }),
  miniflare: { outboundService },
});
const plain = await spawn({ vars: providerVars() });

function register(target, body, ip = randomIp()) {
  return fetch(`${target.base}/oauth2/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A code for `client_id` through the consent page; `{location, page}`. */
async function codeFor(target, person, client_id, extra = {}) {
  const { challenge, verifier } = pkcePair();
  const answer = await authorize(target, person.cookie, {
    client_id,
    redirect_uri: CALLBACK,
    scope: "openid",
    state: "s1",
    code_challenge: challenge,
    ...extra,
  });
  return { ...answer, verifier, params: answer.location ? new URL(answer.location).searchParams : null };
}

function exchange(target, form, headers = {}) {
  return fetch(`${target.base}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form),
  });
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url"));

test("off by default: no registration endpoint, no metadata documents", async () => {
  const discovery = await (await fetch(`${plain.base}/.well-known/oauth-authorization-server`)).json();
  assert.equal(discovery.registration_endpoint, undefined);
  assert.equal(discovery.client_id_metadata_document_supported, undefined);
  assert.equal(discovery.device_authorization_endpoint, `${plain.base}/oauth2/device_authorization`);
  assert.equal((await register(plain, { redirect_uris: [CALLBACK] })).status, 404);
  const on = await (await fetch(`${app.base}/.well-known/oauth-authorization-server`)).json();
  assert.equal(on.registration_endpoint, `${app.base}/oauth2/register`);
  assert.equal(on.client_id_metadata_document_supported, true);
});

test("a client registers itself, is marked unverified on consent, and gets tokens; the operator sees it", async () => {
  const response = await register(app, { client_name: "Agent", redirect_uris: [CALLBACK], token_endpoint_auth_method: "client_secret_basic", logo_uri: "https://x.example/l.png" });
  const client = await response.json();
  assert.equal(response.status, 201, JSON.stringify(client));
  assert.ok(client.client_secret && client.client_id && Number.isInteger(client.client_id_issued_at));
  assert.equal(client.client_secret_expires_at, 0);
  assert.deepEqual(client.redirect_uris, [CALLBACK]);
  assert.equal(client.logo_uri, undefined, "unused metadata is not echoed");

  const person = await signedInBrowser(app);
  // A loopback IP redirect URI matches on any port (RFC 8252 §7.3).
  const otherPort = "http://127.0.0.1:61234/callback";
  const { challenge, verifier } = pkcePair();
  const answer = await authorize(app, person.cookie, { client_id: client.client_id, redirect_uri: otherPort, scope: "openid", state: "s", code_challenge: challenge });
  assert.match(answer.page, /<h1>Agent \(unverified app\) wants to access your account<\/h1>/);
  const code = new URL(answer.location).searchParams.get("code");
  const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64")}`;
  const tokens = await exchange(app, { grant_type: "authorization_code", code, redirect_uri: otherPort, code_verifier: verifier }, { Authorization: basic });
  assert.equal(tokens.status, 200, await tokens.clone().text());

  const listed = await admin(app, "GET", `/admin/clients/${client.client_id}`);
  assert.equal(listed.body.client.origin, "dynamic");
  assert.equal(listed.body.client.name, "Agent");
  await eventually(
    async () => (await admin(app, "GET", "/admin/events")).body.events.find((e) => e.type === "client.registered" && e.detail.client === client.client_id),
    (event) => event && event.actor === "client" && event.user_id === undefined,
  );
});

test("bad registrations get RFC 7591's errors, and store nothing", async () => {
  const before = (await admin(app, "GET", "/admin/clients")).body.clients.length;
  for (const [body, error] of [
    ["{not json", "invalid_client_metadata"],
    [{ client_name: "x" }, "invalid_redirect_uri"],
    [{ redirect_uris: ["http://evil.example/cb"] }, "invalid_redirect_uri"],
    [{ redirect_uris: [CALLBACK], grant_types: ["implicit"] }, "invalid_client_metadata"],
    [{ redirect_uris: [CALLBACK], token_endpoint_auth_method: "private_key_jwt" }, "invalid_client_metadata"],
    [{ redirect_uris: [CALLBACK], scope: "openid admin" }, "invalid_client_metadata"],
  ]) {
    const response = await register(app, body);
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error, error, JSON.stringify(body));
  }
  assert.equal((await admin(app, "GET", "/admin/clients")).body.clients.length, before);
});

test("one address registers at most OAUTH_REGISTRATIONS_PER_ADDRESS clients a day, under concurrency", async () => {
  const ip = randomIp();
  const answers = await Promise.all(Array.from({ length: 6 }, () => register(app, { redirect_uris: [CALLBACK] }, ip)));
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 201, 201, 429, 429, 429]);
  const refused = answers.find((r) => r.status === 429);
  assert.equal((await refused.json()).error, "too_many_registrations");
  assert.equal(refused.headers.get("retry-after"), "3600");
  assert.equal((await register(app, { redirect_uris: [CALLBACK] })).status, 201, "another address still registers");
});

test("unused self-registered clients are pruned by the hourly cleanup; one with a live grant stays", async () => {
  const idle = await (await register(app, { redirect_uris: [CALLBACK], token_endpoint_auth_method: "none" })).json();
  const used = await (await register(app, { redirect_uris: [CALLBACK], token_endpoint_auth_method: "none" })).json();
  const person = await signedInBrowser(app);
  const { params, verifier } = await codeFor(app, person, used.client_id);
  const granted = await exchange(app, { grant_type: "authorization_code", code: params.get("code"), redirect_uri: CALLBACK, code_verifier: verifier, client_id: used.client_id });
  assert.equal(granted.status, 200);
  // Two days pass for both.
  const db = await app.database();
  await db.prepare("UPDATE provider_clients SET used_at = used_at - 172800 WHERE id IN (?1, ?2)").bind(idle.client_id, used.client_id).run();
  await (await app.mf.getWorker()).scheduled({ cron: "17 * * * *" });
  assert.equal((await admin(app, "GET", `/admin/clients/${idle.client_id}`)).status, 404);
  assert.equal((await admin(app, "GET", `/admin/clients/${used.client_id}`)).status, 200);
});

test("a client known by its metadata document: fetched once, shown with its host, public", async () => {
  outside.set(DOC, () =>
    Response.json(
      { client_id: DOC, client_name: "Notes Tool", redirect_uris: [CALLBACK], token_endpoint_auth_method: "none" },
      { headers: { "Cache-Control": "public, max-age=600" } },
    ),
  );
  const person = await signedInBrowser(app);
  const first = await codeFor(app, person, DOC);
  assert.match(first.page, /<h1>Notes Tool \(tools\.example\) wants to access your account<\/h1>/);
  const tokens = await exchange(app, { grant_type: "authorization_code", code: first.params.get("code"), redirect_uri: CALLBACK, code_verifier: first.verifier, client_id: DOC });
  assert.equal(tokens.status, 200);
  assert.equal(claimsOf((await tokens.json()).access_token).client_id, DOC);
  // Asked again the next time: a client the operator never vetted skips no consent.
  const second = await codeFor(app, person, DOC);
  assert.equal(second.consentShown, true);
  // Kept for its max-age: two authorizations and the exchange read it once.
  assert.equal(fetched.filter((u) => u === DOC).length, 1);
  const listed = await admin(app, "GET", `/admin/clients/${encodeURIComponent(DOC)}`);
  assert.equal(listed.body.client.origin, "document");
  assert.equal(listed.body.client.type, "public");
});

test("metadata documents that redirect, are too large, name another client or hold a secret are refused", async () => {
  const person = await signedInBrowser(app);
  const cases = {
    "https://tools.example/redirects.json": () => new Response(null, { status: 302, headers: { Location: "http://169.254.169.254/" } }),
    "https://tools.example/large.json": (url) => Response.json({ client_id: url, redirect_uris: [CALLBACK], client_name: "x".repeat(6000) }),
    "https://tools.example/other.json": () => Response.json({ client_id: DOC, redirect_uris: [CALLBACK] }),
    "https://tools.example/secret.json": (url) => Response.json({ client_id: url, redirect_uris: [CALLBACK], client_secret: "s" }),
    "https://tools.example/not-json.json": () => new Response("<html>"),
  };
  for (const [url, answer] of Object.entries(cases)) {
    outside.set(url, () => answer(url));
    const { challenge } = pkcePair();
    const page = await visit(`${app.base}/oauth2/authorize?${new URLSearchParams({ response_type: "code", client_id: url, redirect_uri: CALLBACK, scope: "openid", code_challenge: challenge, code_challenge_method: "S256" })}`, person.cookie);
    assert.equal(page.status, 400, url);
    assert.match(page.text, /Unknown app/, url);
  }
  // Private, loopback and local hosts are never fetched.
  for (const url of ["https://127.0.0.1/c.json", "https://10.0.0.8/c.json", "https://localhost/c.json", "http://tools.example/c.json"]) {
    const page = await visit(`${app.base}/oauth2/authorize?client_id=${encodeURIComponent(url)}&redirect_uri=${encodeURIComponent(CALLBACK)}`, person.cookie);
    assert.equal(page.status, 400);
    assert.ok(!fetched.includes(url), url);
  }
  assert.ok(!fetched.includes("http://169.254.169.254/"), "the redirect was not followed");
});

test("resource indicators: one resource per grant, kept through refresh, remembered with the consent", async () => {
  const rp = await registerClient(app, { name: "Bound", type: "public", redirect_uris: [CALLBACK] });
  const person = await signedInBrowser(app);
  const A = "https://a.example/mcp";
  const two = await codeFor(app, person, rp.client_id, { resource: undefined });
  assert.ok(two.params.get("code"));
  const url = new URL(`${app.base}/oauth2/authorize`);
  for (const [k, v] of [["response_type", "code"], ["client_id", rp.client_id], ["redirect_uri", CALLBACK], ["scope", "openid"], ["code_challenge", pkcePair().challenge], ["code_challenge_method", "S256"], ["resource", A], ["resource", "https://b.example/"]]) url.searchParams.append(k, v);
  const refused = await visit(url.href, person.cookie);
  assert.equal(new URL(refused.location).searchParams.get("error"), "invalid_target");
  const fragment = await codeFor(app, person, rp.client_id, { resource: "https://a.example/mcp#x" });
  assert.equal(fragment.params.get("error"), "invalid_target");

  // A resource not consented to before asks again; the token's aud is the resource.
  const forA = await codeFor(app, person, rp.client_id, { resource: A });
  assert.equal(forA.consentShown, true);
  const wrong = await exchange(app, { grant_type: "authorization_code", code: forA.params.get("code"), redirect_uri: CALLBACK, code_verifier: forA.verifier, client_id: rp.client_id, resource: "https://b.example/" });
  assert.equal((await wrong.json()).error, "invalid_target");
  const again = await codeFor(app, person, rp.client_id, { resource: A });
  assert.equal(again.consentShown, false, "the consent for A is remembered");
  const tokens = await (await exchange(app, { grant_type: "authorization_code", code: again.params.get("code"), redirect_uri: CALLBACK, code_verifier: again.verifier, client_id: rp.client_id, resource: A })).json();
  assert.equal(claimsOf(tokens.access_token).aud, A);
  const refreshed = await (await exchange(app, { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: rp.client_id })).json();
  assert.equal(claimsOf(refreshed.access_token).aud, A, "a refresh keeps the grant's resource");

  const listed = await spawn({ vars: providerVars({ OAUTH_RESOURCES: A }) });
  const client = await registerClient(listed, { name: "Listed", type: "public", redirect_uris: [CALLBACK] });
  const listedPerson = await signedInBrowser(listed);
  assert.equal((await codeFor(listed, listedPerson, client.client_id, { resource: "https://c.example/" })).params.get("error"), "invalid_target");
  assert.ok((await codeFor(listed, listedPerson, client.client_id, { resource: A })).params.get("code"));
});
