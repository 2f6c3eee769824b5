// Prints a new Ed25519 key for signing access tokens, as JWKs (RFC 8037), named by its RFC 7638
// thumbprint. `--private` prints only the private JWK, to pipe into `wrangler secret put`:
//   npm run --silent keygen -- --private | npx wrangler secret put JWT_SIGNING_KEY
// `--rsa` makes the OpenID provider's RS256 ID-token key instead (2048 bits, NIST SP 800-131A):
//   npm run --silent keygen -- --rsa --private | npx wrangler secret put ID_TOKEN_RSA_KEY
import { createHash, generateKeyPairSync } from "node:crypto";

/** The RFC 7638 thumbprint of an Ed25519 public key: SHA-256 of its required members, in order. */
export function thumbprint({ crv, kty, x }) {
  return createHash("sha256").update(JSON.stringify({ crv, kty, x })).digest("base64url");
}

/** A new key pair: `{ privateJwk, publicJwk }`, both with `kid`. */
export function newSigningKey() {
  const { privateKey } = generateKeyPairSync("ed25519");
  const { crv, kty, x, d } = privateKey.export({ format: "jwk" });
  const kid = thumbprint({ crv, kty, x });
  return { privateJwk: { kty, crv, kid, x, d }, publicJwk: { kty, crv, kid, x } };
}

/** A new RSA key pair for ID tokens (RS256), both JWKs with the RFC 7638 thumbprint as `kid`. */
export function newRsaKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  const kid = createHash("sha256").update(JSON.stringify({ e: jwk.e, kty: "RSA", n: jwk.n })).digest("base64url");
  return { privateJwk: { ...jwk, kid, alg: "RS256" }, publicJwk: { kty: "RSA", n: jwk.n, e: jwk.e, kid, alg: "RS256", use: "sig" } };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes("--rsa")) {
  const { privateJwk, publicJwk } = newRsaKey();
  if (process.argv.includes("--private")) {
    process.stdout.write(`${JSON.stringify(privateJwk)}\n`);
  } else {
    console.log(`# A new RSA key for the provider's RS256 ID tokens, kid ${privateJwk.kid}.`);
    console.log("# Private JWK (a secret: `npx wrangler secret put ID_TOKEN_RSA_KEY`, never in git):");
    console.log(JSON.stringify(privateJwk));
    console.log("# Public JWK (for ID_TOKEN_RSA_VERIFY_KEYS while this key is rotated out):");
    console.log(JSON.stringify(publicJwk));
  }
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const { privateJwk, publicJwk } = newSigningKey();
  if (process.argv.includes("--private")) {
    process.stdout.write(`${JSON.stringify(privateJwk)}\n`);
  } else {
    console.log(`# A new Ed25519 signing key, kid ${privateJwk.kid}.`);
    console.log("# Private JWK (a secret: `npx wrangler secret put JWT_SIGNING_KEY`, never in git):");
    console.log(JSON.stringify(privateJwk));
    console.log("# Public JWK (for JWT_VERIFY_KEYS while this key is rotated in or out; see the README):");
    console.log(JSON.stringify(publicJwk));
  }
}
