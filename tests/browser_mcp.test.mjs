// MCP authorization (the MCP spec of 2025-11-25) with the provider as the authorization server.
// The official MCP SDK's client, given only the URL of the example MCP server
// (examples/mcp-server), meets its 401, finds the provider through the server's RFC 9728
// metadata and the provider's RFC 8414 document, becomes a client by a Client ID Metadata
// Document or by registering itself (RFC 7591), sends a new person through the hosted sign-in and
// consent in Chromium with PKCE and an RFC 8707 resource, calls the server's tools with the
// access token and refreshes it. A second MCP server refuses that token: it was issued for the
// first. Consent pages are kept in tests/artifacts/mcp/.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { artifacts, startRig } from "./support/browser.mjs";
import { providerVars } from "./support/provider.mjs";
import { InMemoryOAuthClient, clientMetadataDocuments, mcpServersClosedAfter, startCallback } from "./support/mcp.mjs";

const documents = clientMetadataDocuments();
const rig = await startRig(after, {
  miniflare: { outboundService: documents.outboundService },
  vars: providerVars({ OAUTH_CLIENT_METADATA_DOCUMENTS: "true", OAUTH_DYNAMIC_REGISTRATION: "true" }),
});
const { app } = rig;
const startMcpServer = mcpServersClosedAfter(after);
const notes = await startMcpServer({ issuer: app.base });
const shots = artifacts("mcp");
const CLIENT_INFO = { name: "edge-auth test MCP client", version: "1.0.0" };
// What the example server asks for (its MCP_SCOPES default), whatever order a token lists them in.
const SCOPES = ["offline_access", "openid"];

/** A new account, registered through the API: `{sub, email, password}`. */
async function newPerson(tag) {
  const user = await app.signedInUser(tag);
  const me = await app.me(user.token);
  // A token's `sub` is the account id as a string (RFC 7519 §4.1.2).
  return { sub: String(me.body.id), email: user.email, password: user.password };
}

/**
 * An MCP client as a person's app runs it: a loopback callback, and the SDK's provider whose
 * browser signs `person` in on the hosted page and allows on the consent page. `visits` has the
 * consent page's heading and text for each time it went there.
 */
async function mcpClient(t, { person, clientName, clientMetadataUrl }) {
  const callback = await startCallback();
  t.after(() => callback.close());
  const visits = [];
  const provider = new InMemoryOAuthClient({
    redirectUrl: callback.url,
    clientName,
    clientMetadataUrl,
    async authorize(url) {
      const page = await (await rig.browser()).newPage();
      const back = callback.next();
      await page.goto(url.href);
      await page.waitForURL(/\/oauth2\/sign-in\?/);
      await page.fill("#email", person.email);
      await page.fill("#password", person.password);
      await page.click("#password-form button[type=submit]");
      await page.waitForURL(/\/oauth2\/authorize\?/);
      visits.push({ heading: await page.textContent("h1"), text: await page.textContent("main") });
      await page.screenshot({ path: `${shots}/consent-${clientName.replace(/\W+/g, "-")}.png`, fullPage: true });
      await page.click("button[value=allow]");
      return back;
    },
  });
  return { provider, callback, visits };
}

function transport(server, provider) {
  return new StreamableHTTPClientTransport(server.url, { authProvider: provider });
}

/**
 * The first connection: the server's 401 sends the SDK to the provider (the browser visit), it
 * fails with UnauthorizedError as the SDK says it must, and the code from the callback is traded
 * for tokens.
 */
async function authorizeThroughBrowser(server, provider) {
  const first = transport(server, provider);
  await assert.rejects(new Client(CLIENT_INFO).connect(first), UnauthorizedError);
  assert.ok(provider.authorizationCode, `no code at the callback: ${provider.callbackUrl}`);
  await first.finishAuth(provider.authorizationCode);
}

async function connected(server, provider) {
  const client = new Client(CLIENT_INFO);
  await client.connect(transport(server, provider));
  return client;
}

/** A tool's answer, as the example server writes it (one text item of JSON). */
async function callTool(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  return JSON.parse(result.content[0].text);
}

/** An MCP initialize request with `token`, as any client sends it: status and WWW-Authenticate. */
async function initializeWith(server, token) {
  const response = await fetch(server.url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: CLIENT_INFO },
    }),
  });
  // Read to its end: a body dropped half-read is a broken pipe in workerd's log.
  await response.text();
  return { status: response.status, challenge: response.headers.get("www-authenticate") };
}

test("an MCP client with a Client ID Metadata Document signs a person in, calls a tool, and refreshes its token", async (t) => {
  const person = await newPerson("mcp-document");
  const clientMetadataUrl = `https://mcp-client.example/oauth/${randomUUID()}/client.json`;
  const { provider, callback, visits } = await mcpClient(t, { person, clientName: "Notes Assistant", clientMetadataUrl });
  documents.publish({ client_id: clientMetadataUrl, client_name: "Notes Assistant", redirect_uris: [callback.url] });

  await authorizeThroughBrowser(notes, provider);
  // What the SDK sent, found from the server's metadata and the provider's discovery document.
  const sent = provider.authorizationUrl.searchParams;
  assert.equal(`${provider.authorizationUrl.origin}${provider.authorizationUrl.pathname}`, `${app.base}/oauth2/authorize`);
  assert.equal(sent.get("client_id"), clientMetadataUrl);
  assert.equal(sent.get("redirect_uri"), callback.url);
  assert.equal(sent.get("resource"), notes.resource, "RFC 8707: the MCP server's resource");
  assert.equal(sent.get("code_challenge_method"), "S256");
  assert.deepEqual(sent.get("scope").split(" ").sort(), SCOPES, "the scopes of the server's challenge");
  assert.ok(documents.fetched.includes(clientMetadataUrl), "the provider read the client's document");
  assert.match(visits[0].heading, /Notes Assistant/);
  assert.match(visits[0].text, /mcp-client\.example/, "the consent page names the document's host");
  assert.equal(provider.callbackUrl.searchParams.get("iss"), app.base, "RFC 9207: the issuer in the answer");
  const granted = provider.tokens();
  assert.equal(granted.token_type.toLowerCase(), "bearer");
  assert.ok(granted.refresh_token, "offline_access: a refresh token");

  const client = await connected(notes, provider);
  t.after(() => client.close());
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name).sort(), ["add", "whoami"]);
  const me = await callTool(client, "whoami");
  assert.equal(me.sub, person.sub);
  assert.equal(me.client_id, clientMetadataUrl);
  assert.deepEqual(me.scope.split(" ").sort(), SCOPES);

  // The SDK refreshes when it holds a refresh token: no browser, a new access token, and a new
  // refresh token (each is single use), twice in a row.
  for (const round of [1, 2]) {
    const before = provider.tokens();
    assert.equal(await auth(provider, { serverUrl: notes.url }), "AUTHORIZED", `refresh ${round} (a failed one goes back to the browser)`);
    const renewed = provider.tokens();
    assert.notEqual(renewed.access_token, before.access_token, `refresh ${round}: a new access token`);
    assert.ok(renewed.refresh_token && renewed.refresh_token !== before.refresh_token, `refresh ${round}: the refresh token rotated`);
  }
  assert.equal(visits.length, 1, "the browser went to the provider once");
  // The transport reads the provider's tokens for every request: this call carries the newest.
  const again = await connected(notes, provider);
  t.after(() => again.close());
  assert.deepEqual(await callTool(again, "whoami"), me);
});

test("an MCP client without a metadata document registers itself (RFC 7591) and calls a tool", async (t) => {
  const person = await newPerson("mcp-registered");
  const { provider, callback, visits } = await mcpClient(t, { person, clientName: "Calendar Helper" });

  await authorizeThroughBrowser(notes, provider);
  const registered = provider.clientInformation();
  assert.ok(registered?.client_id, "the SDK registered a client");
  assert.doesNotMatch(registered.client_id, /^https?:/, "a registered client's id, not a document's URL");
  assert.deepEqual(registered.redirect_uris, [callback.url]);
  assert.equal(provider.authorizationUrl.searchParams.get("client_id"), registered.client_id);
  assert.equal(provider.authorizationUrl.searchParams.get("resource"), notes.resource);
  assert.match(visits[0].heading, /Calendar Helper/);
  assert.equal(provider.callbackUrl.searchParams.get("iss"), app.base);

  const client = await connected(notes, provider);
  t.after(() => client.close());
  const me = await callTool(client, "whoami");
  assert.equal(me.sub, person.sub);
  assert.equal(me.client_id, registered.client_id);
  assert.deepEqual(await callTool(client, "add", { a: 2, b: 40 }), { sum: 42 });
});

test("a token issued for one MCP server is refused by another (RFC 8707 audience); ID and first-party tokens are refused too", async (t) => {
  const calendar = await startMcpServer({ issuer: app.base });
  assert.notEqual(calendar.resource, notes.resource);
  const person = await newPerson("mcp-audience");
  const clientMetadataUrl = `https://mcp-client.example/oauth/${randomUUID()}/client.json`;
  const { provider, callback } = await mcpClient(t, { person, clientName: "Audience Probe", clientMetadataUrl });
  documents.publish({ client_id: clientMetadataUrl, client_name: "Audience Probe", redirect_uris: [callback.url] });
  await authorizeThroughBrowser(notes, provider);
  const { access_token, id_token } = provider.tokens();

  assert.equal((await initializeWith(notes, access_token)).status, 200, "the token works at its own server");
  const elsewhere = await initializeWith(calendar, access_token);
  assert.equal(elsewhere.status, 401);
  assert.match(elsewhere.challenge, /^Bearer /);
  assert.match(elsewhere.challenge, /error="invalid_token"/);
  assert.ok(elsewhere.challenge.includes(`resource_metadata="${calendar.metadataUrl}"`), elsewhere.challenge);

  // An ID token (typ JWT, aud the client) and the API's own access token are not access tokens for it.
  assert.ok(id_token, "scope openid: an ID token");
  const firstParty = (await app.signedInUser("mcp-first-party")).token;
  for (const [name, token] of [["ID token", id_token], ["first-party access token", firstParty]]) {
    const refused = await initializeWith(notes, token);
    assert.equal(refused.status, 401, name);
    assert.match(refused.challenge, /error="invalid_token"/, name);
  }
});
