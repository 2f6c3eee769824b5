// The MCP server as an OAuth 2.1 resource server (MCP authorization, 2025-11-25): it names its
// authorization server in RFC 9728 metadata and accepts only RFC 9068 access tokens issued for it.
import { createRemoteJWKSet, jwtVerify } from "jose";

const METADATA_PATH = "/.well-known/oauth-protected-resource";

/** jose's errors that mean the token itself is bad; any other (the JWKS unreachable) is ours. */
const TOKEN_FAULTS = new Set([
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  "ERR_JWT_EXPIRED",
  "ERR_JWT_CLAIM_VALIDATION_FAILED",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWKS_NO_MATCHING_KEY",
]);

/** One key set per issuer and isolate: jose caches the keys and refetches on an unknown `kid`. */
const keySets = new Map();

function keySet(issuer) {
  let keys = keySets.get(issuer);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(`${issuer.replace(/\/$/, "")}/.well-known/jwks.json`));
    keySets.set(issuer, keys);
  }
  return keys;
}

/**
 * This Worker as a protected resource, from its vars: AUTH_ISSUER (required), MCP_RESOURCE (the
 * canonical URI, `${origin}/mcp` unless set) and MCP_SCOPES (the scopes a token must carry).
 */
export function protectedResource(env, origin) {
  // Compared with each token's `iss` exactly (RFC 9068 §4), so written as the issuer writes it.
  const issuer = env.AUTH_ISSUER;
  if (!issuer) throw new Error("AUTH_ISSUER is not set");
  const resource = env.MCP_RESOURCE || `${origin}/mcp`;
  const scopes = (env.MCP_SCOPES || "openid offline_access").split(/\s+/).filter(Boolean);
  // RFC 9728 §3.1: the well-known segment goes between the resource's host and its path.
  const { origin: resourceOrigin, pathname } = new URL(resource);
  const metadataPath = `${METADATA_PATH}${pathname === "/" ? "" : pathname}`;
  const metadataUrl = `${resourceOrigin}${metadataPath}`;

  /** A refusal with the challenge of RFC 6750 §3 that points the client at the metadata. */
  function challenge(status, error) {
    const params = [
      error && `error="${error}"`,
      `resource_metadata="${metadataUrl}"`,
      `scope="${scopes.join(" ")}"`,
    ];
    const header = `Bearer ${params.filter(Boolean).join(", ")}`;
    return new Response(null, { status, headers: { "WWW-Authenticate": header } });
  }

  return {
    resource,

    /** Whether `path` is where this resource's metadata is served (its own path, and the root). */
    servesMetadataAt: (path) => path === metadataPath || path === METADATA_PATH,

    /** RFC 9728 §2. */
    metadata: () => ({
      resource,
      authorization_servers: [issuer],
      scopes_supported: scopes,
      bearer_methods_supported: ["header"],
      resource_name: "edge-auth example MCP server",
    }),

    /**
     * The MCP SDK's AuthInfo of the request's access token, or the Response that refuses it:
     * 401 with no token or a bad one, 403 when it lacks a scope (RFC 6750 §3.1).
     */
    async authenticate(request) {
      const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(request.headers.get("Authorization") ?? "")?.[1];
      if (!token) return challenge(401);
      let claims;
      try {
        // RFC 9068 §4: our issuer, our resource as audience (RFC 8707: a token minted for another
        // resource must not work here), the at+jwt type (not an ID token), a key from the JWKS.
        ({ payload: claims } = await jwtVerify(token, keySet(issuer), {
          issuer,
          audience: resource,
          typ: "at+jwt",
          algorithms: ["EdDSA"],
          requiredClaims: ["exp", "iat", "sub", "client_id"],
        }));
      } catch (error) {
        if (TOKEN_FAULTS.has(error?.code)) return challenge(401, "invalid_token");
        // Not the client's fault, so no invalid_token: that would send it to sign in again.
        console.error("verify access token", error);
        return new Response("The authorization server's keys are out of reach", { status: 503 });
      }
      const granted = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
      if (!scopes.every((scope) => granted.includes(scope))) return challenge(403, "insufficient_scope");
      return {
        token,
        clientId: claims.client_id,
        scopes: granted,
        expiresAt: claims.exp,
        resource: new URL(resource),
        extra: { sub: claims.sub },
      };
    },
  };
}
