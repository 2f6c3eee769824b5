// MCP authorization: the example MCP server (examples/mcp-server) bundled with esbuild, as
// wrangler bundles it, and run in workerd (Miniflare); the MCP SDK's OAuthClientProvider of a
// client that keeps everything in memory and sends the person through the provider's pages; its
// loopback redirect URI; the Client ID Metadata Documents the worker under test fetches.
import { Miniflare, fetch as passOn } from "miniflare";
import { build } from "esbuild";
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const EXAMPLE = fileURLToPath(new URL("../../examples/mcp-server/", import.meta.url));

let bundle;

/** The example's Worker as one ES module: esbuild with workerd's export conditions, once per process. */
export function mcpServerBundle() {
  bundle ??= build({
    entryPoints: [`${EXAMPLE}src/index.js`],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    write: false,
    logLevel: "silent",
  }).then((result) => result.outputFiles[0].text);
  return bundle;
}

function compatibilityDate() {
  return readFileSync(`${EXAMPLE}wrangler.toml`, "utf8").match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
}

/**
 * The example MCP server trusting `issuer` (its AUTH_ISSUER); `vars` add MCP_RESOURCE or
 * MCP_SCOPES. Returns `{base, url, resource, metadataUrl, logOutput(), close()}`: `url` is its MCP
 * endpoint.
 */
export async function startMcpServer({ issuer, vars = {} }) {
  // Kept, not printed: workerd logs a broken pipe whenever a client cancels a body it has not
  // read, as the MCP SDK's client does with the empty answers to its notifications and GET.
  let log = "";
  const mf = new Miniflare({
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) stream.on("data", (chunk) => (log += chunk));
    },
    modules: true,
    script: await mcpServerBundle(),
    compatibilityDate: compatibilityDate(),
    bindings: { AUTH_ISSUER: issuer, ...vars },
    host: "127.0.0.1",
    port: 0,
  });
  const base = (await mf.ready).href.replace(/\/$/, "");
  const resource = vars.MCP_RESOURCE ?? `${base}/mcp`;
  const { origin, pathname } = new URL(resource);
  return {
    base,
    url: new URL(`${base}/mcp`),
    resource,
    metadataUrl: `${origin}/.well-known/oauth-protected-resource${pathname === "/" ? "" : pathname}`,
    logOutput: () => log,
    close: () => mf.dispose(),
  };
}

/** A `startMcpServer` whose servers are closed after the file's tests. Pass node:test's `after`. */
export function mcpServersClosedAfter(after) {
  const servers = [];
  after(() => Promise.all(servers.map((s) => s.close())));
  return async (options) => {
    const server = await startMcpServer(options);
    servers.push(server);
    return server;
  };
}

/**
 * A native client's loopback redirect URI (RFC 8252 §7.3), http://127.0.0.1:<port>/callback:
 * `next()` resolves to the URL of the next redirect that arrives there.
 */
export async function startCallback() {
  const arrived = [];
  const waiting = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url, `http://${request.headers.host}`);
    if (url.pathname !== "/callback") return response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end("<!doctype html><title>Done</title><p>You can close this window.");
    if (waiting.length > 0) waiting.shift()(url);
    else arrived.push(url);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/callback`,
    next: () => (arrived.length > 0 ? Promise.resolve(arrived.shift()) : new Promise((resolve) => waiting.push(resolve))),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Client ID Metadata Documents at https URLs no network serves: `outboundService` is a Miniflare
 * option for the worker under test that answers a published document's URL and passes every other
 * request on. `fetched` lists the document URLs the worker asked for.
 */
export function clientMetadataDocuments() {
  const documents = new Map();
  const fetched = [];
  return {
    fetched,
    /** Publishes a public client's document at its `client_id`, an https URL. */
    publish({ client_id, client_name, redirect_uris }) {
      documents.set(client_id, {
        client_id,
        client_name,
        redirect_uris,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      });
    },
    async outboundService(request) {
      const document = documents.get(request.url);
      if (!document) return passOn(request);
      fetched.push(request.url);
      return Response.json(document);
    },
  };
}

/**
 * The MCP SDK's OAuthClientProvider (client/auth.js) of a public client that keeps its client
 * information, tokens and PKCE verifier in memory. `authorize(url)` sends the person's browser to
 * the authorization URL and resolves to the callback URL it came back to; the code found there
 * (after the state check the SDK leaves to the client) is `authorizationCode`, for `finishAuth`.
 * With `clientMetadataUrl` the client_id is that URL (a Client ID Metadata Document); without it
 * the SDK registers the client (RFC 7591).
 */
export class InMemoryOAuthClient {
  constructor({ redirectUrl, clientName, clientMetadataUrl, authorize }) {
    this.redirectUrl = redirectUrl;
    this.clientMetadataUrl = clientMetadataUrl;
    this.clientMetadata = {
      client_name: clientName,
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
    this.authorize = authorize;
    /** What the SDK did, for the test to read: the authorization URL and the callback URL. */
    this.authorizationUrl = undefined;
    this.callbackUrl = undefined;
    this.authorizationCode = undefined;
  }

  state() {
    this.expectedState = randomBytes(16).toString("base64url");
    return this.expectedState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(client) {
    this.client = client;
  }

  tokens() {
    return this.savedTokens;
  }

  saveTokens(tokens) {
    this.savedTokens = tokens;
  }

  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }

  codeVerifier() {
    return this.verifier;
  }

  invalidateCredentials(scope) {
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "tokens") this.savedTokens = undefined;
    if (scope === "all" || scope === "verifier") this.verifier = undefined;
  }

  async redirectToAuthorization(url) {
    this.authorizationUrl = url;
    const back = await this.authorize(url);
    this.callbackUrl = back;
    // RFC 9700 §4.7: a redirect this client did not start (another state) is not its code.
    if (back.searchParams.get("state") !== this.expectedState) throw new Error(`callback with another state: ${back}`);
    if (back.searchParams.has("error")) throw new Error(`authorization refused: ${back}`);
    this.authorizationCode = back.searchParams.get("code");
  }
}
