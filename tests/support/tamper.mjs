// A man in the middle of an OpenID provider, for the tests that an ID token is verified: it
// serves the real provider's discovery document under an issuer of its own, forwards the code
// exchange to the real token endpoint, and re-signs the ID token it gets back, as `mode` says:
// with a claim changed (signed by the real provider's own key, so only the claim is wrong), or
// with a key the provider never published.
import { createServer } from "node:http";
import { generateKeyPair, importJWK, SignJWT, decodeJwt } from "jose";

/**
 * Starts the issuer on 127.0.0.1. `provider` is what startOidcProvider returned. Set `mode` on
 * the result to one of: "pass" (the claims as the provider made them, re-signed with its key),
 * "nonce", "aud", "expired", "unknown-key".
 */
export async function startTamperingIssuer(provider) {
  const rsa = provider.keys.keys.find((k) => k.kty === "RSA");
  const providerKey = await importJWK(rsa, "RS256");
  const stranger = await generateKeyPair("RS256");
  const real = await (await fetch(provider.discoveryUrl)).json();
  const state = { mode: "pass" };
  const server = createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === "/.well-known/openid-configuration") {
      return send(200, { ...real, issuer: state.issuer, token_endpoint: `${state.issuer}/token`, jwks_uri: real.jwks_uri });
    }
    if (req.url === "/token" && req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      const answer = await fetch(real.token_endpoint, {
        method: "POST",
        headers: { "Content-Type": req.headers["content-type"], Authorization: req.headers.authorization, Accept: "application/json" },
        body,
      });
      const tokens = await answer.json();
      if (!tokens.id_token) return send(answer.status, tokens);
      const claims = { ...decodeJwt(tokens.id_token), iss: state.issuer };
      const now = Math.floor(Date.now() / 1000);
      if (state.mode === "nonce") claims.nonce = "not-the-nonce";
      if (state.mode === "aud") claims.aud = "another-client";
      if (state.mode === "expired") Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
      const [key, kid] = state.mode === "unknown-key" ? [stranger.privateKey, "not-published"] : [providerKey, rsa.kid];
      tokens.id_token = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid }).sign(key);
      return send(200, tokens);
    }
    send(404, { error: "not_found" });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.issuer = `http://127.0.0.1:${server.address().port}`;
  return {
    get issuer() {
      return state.issuer;
    },
    set mode(value) {
      state.mode = value;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
