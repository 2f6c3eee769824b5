// @cloudflare/workers-oauth-provider as a peer of edge-auth's OAuth 2.1 authorization server in the
// benchmark (bench/oauth_peers.mjs): its `OAuthProvider` on a KV namespace `OAUTH_KV` (local KV in
// Miniflare), served by the same workerd as ours. Never deployed.
//
// - `/authorize` approves every request at once for one fixed user (no browser, no consent page):
//   parseAuthRequest → completeAuthorization → 302 to the client's redirect URI with the code,
//   so the benchmark mints codes over plain HTTP, as it does on ours with a signed-in session.
//   `revokeExistingGrants: false`: by default each authorization revokes the user's earlier grants
//   for the same client, which would spend every code of the pool but the last.
// - `/register`: the provider's own dynamic client registration (RFC 7591), where the benchmark
//   registers its public client (token_endpoint_auth_method "none", PKCE S256).
// - `/token`: the provider's token endpoint, the one measured.
// - `/api/`: a resource answering the props of a valid access token (the race check reads it).
//
// `RESOURCE` (a var) is the protected resource the provider requires (`resourceMetadata.resource`):
// `http://127.0.0.1:<port>/api/`, known only once the benchmark has chosen the port; so the
// provider is built on the first request, once, and kept for the isolate's life.
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";

const BENCH_USER = "bench-user";

const apiHandler = {
  async fetch(request, env, ctx) {
    return Response.json({ userId: ctx.props?.userId ?? null });
  },
};

const defaultHandler = {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/authorize" && request.method === "GET") {
      const oauthRequest = await env.OAUTH_PROVIDER.parseAuthRequest(request);
      const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
        request: oauthRequest,
        userId: BENCH_USER,
        metadata: {},
        scope: oauthRequest.scope,
        props: { userId: BENCH_USER },
        revokeExistingGrants: false,
      });
      return new Response(null, { status: 302, headers: { Location: redirectTo } });
    }
    if (url.pathname === "/ok") return new Response("ok");
    return new Response("not found", { status: 404 });
  },
};

let provider;
export default {
  fetch(request, env, ctx) {
    provider ??= new OAuthProvider({
      apiRoute: "/api/",
      apiHandler,
      defaultHandler,
      authorizeEndpoint: "/authorize",
      tokenEndpoint: "/token",
      clientRegistrationEndpoint: "/register",
      scopesSupported: ["openid", "email", "profile", "offline_access"],
      resourceMetadata: { resource: env.RESOURCE },
    });
    return provider.fetch(request, env, ctx);
  },
};
