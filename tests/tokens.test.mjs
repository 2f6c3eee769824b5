// Access tokens any backend can verify: EdDSA (Ed25519) with a kid, the JWKS endpoint, rotation
// with overlap, and interop with `jose`, a JOSE library nobody here wrote.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from "jose";
import { appsClosedAfter, TEST_SIGNING_KEY } from "./support/app.mjs";
import { newSigningKey } from "../scripts/keygen.mjs";

const app = appsClosedAfter(after);

const kidOf = (token) => decodeProtectedHeader(token).kid;

test("jose verifies a worker-issued access token against the worker's JWKS URL, and refuses a tampered one", async () => {
  const target = await app({});
  const user = await target.signedInUser("jose");
  const jwks = createRemoteJWKSet(new URL(`${target.base}/.well-known/jwks.json`));
  const options = { issuer: "edge-auth", audience: "edge-auth", typ: "at+jwt", algorithms: ["EdDSA"] };

  const { payload, protectedHeader } = await jwtVerify(user.token, jwks, options);
  assert.deepEqual(
    { alg: protectedHeader.alg, typ: protectedHeader.typ, kid: protectedHeader.kid },
    { alg: "EdDSA", typ: "at+jwt", kid: TEST_SIGNING_KEY.privateJwk.kid },
  );
  assert.equal(payload.typ, "access");
  const me = await target.me(user.token);
  assert.equal(payload.sub, String(me.body.id), "sub is the user's id");

  const [head, body, signature] = user.token.split(".");
  const claims = JSON.parse(Buffer.from(body, "base64url"));
  const tampered = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: String(Number(claims.sub) + 1) })).toString("base64url")}.${signature}`;
  await assert.rejects(jwtVerify(tampered, jwks, options), { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
  await assert.rejects(jwtVerify(user.token, jwks, { ...options, audience: "another-app" }), { code: "ERR_JWT_CLAIM_VALIDATION_FAILED" });
});

test("GET /.well-known/jwks.json: public Ed25519 keys, cacheable, readable from any origin", async () => {
  const next = newSigningKey();
  const target = await app({ verifyKeys: [next.publicJwk], vars: { CORS_ALLOWED_ORIGINS: "https://app.example" } });
  const response = await target.request("GET", "/.well-known/jwks.json", { headers: { Origin: "https://backend.example" } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type"), /^application\/jwk-set\+json/);
  assert.equal(response.headers.get("cache-control"), "public, max-age=300");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.equal(response.headers.get("access-control-allow-credentials"), null, "public, so no credentials");
  const expected = (jwk) => ({ kty: "OKP", crv: "Ed25519", x: jwk.x, kid: jwk.kid, use: "sig", alg: "EdDSA" });
  assert.deepEqual(response.body, { keys: [expected(TEST_SIGNING_KEY.publicJwk), expected(next.publicJwk)] });
  assert.ok(!response.text.includes(TEST_SIGNING_KEY.privateJwk.d), "the private key is never published");

  // Every other answer still says no-store, and credentialed CORS only for allowed origins.
  const health = await target.request("GET", "/health", { headers: { Origin: "https://app.example" } });
  assert.equal(health.headers.get("cache-control"), "no-store");
  assert.equal(health.headers.get("access-control-allow-origin"), "https://app.example");
});

test("rotation with overlap: old tokens verify until their key is dropped; unknown kids are refused", async () => {
  // Three deployments of the worker over one D1, as `wrangler secret put` would make them.
  const shared = mkdtempSync(`${tmpdir()}/edge-auth-rotation-`);
  const [first, second] = [newSigningKey(), newSigningKey()];
  try {
    const before = await app({ signingKey: first.privateJwk, persistTo: shared, migrate: true });
    const oldUser = await before.signedInUser("rotation");
    assert.equal(kidOf(oldUser.token), first.privateJwk.kid);

    // Step 1: the next key is published while the current one still signs.
    const published = await app({ signingKey: first.privateJwk, verifyKeys: [second.publicJwk], persistTo: shared });
    assert.deepEqual((await published.request("GET", "/.well-known/jwks.json")).body.keys.map((k) => k.kid), [first.privateJwk.kid, second.privateJwk.kid]);
    assert.equal(kidOf((await published.login(oldUser.email, oldUser.password)).body.token), first.privateJwk.kid, "the published key does not sign yet");

    // Step 2: the next key signs; the previous one is still honoured.
    const during = await app({ signingKey: second.privateJwk, verifyKeys: [first.publicJwk, second.publicJwk], persistTo: shared });
    assert.equal((await during.me(oldUser.token)).status, 200, "a token signed before the rotation still works after it");
    const fresh = await during.login(oldUser.email, oldUser.password);
    assert.equal(kidOf(fresh.body.token), second.privateJwk.kid, "new tokens are signed with the new key");
    assert.deepEqual((await during.request("GET", "/.well-known/jwks.json")).body.keys.map((k) => k.kid), [second.privateJwk.kid, first.privateJwk.kid]);

    // Step 3: the previous key is dropped.
    const after = await app({ signingKey: second.privateJwk, persistTo: shared });
    const refused = await after.me(oldUser.token);
    assert.equal(refused.status, 401, "a token of a dropped key is refused");
    assert.equal(refused.body.error, "unauthorized");
    assert.equal((await after.me(fresh.body.token)).status, 200);
    assert.deepEqual((await after.request("GET", "/.well-known/jwks.json")).body.keys.map((k) => k.kid), [second.privateJwk.kid]);

    // A token signed by a key we never had, whatever kid it claims, is refused.
    const stranger = await app({ signingKey: newSigningKey().privateJwk, persistTo: shared });
    const strangerToken = (await stranger.login(oldUser.email, oldUser.password)).body.token;
    assert.equal((await after.me(strangerToken)).status, 401, "a token whose kid is unknown is refused");
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
});

test("a missing or malformed signing key is a 500 naming its variable, never showing its value", async () => {
  const hmacLike = "an-hs256-secret-from-before-0123456789";
  const cases = [
    [{ signingKey: null }, "JWT_SIGNING_KEY"],
    [{ signingKey: hmacLike }, "JWT_SIGNING_KEY"],
    [{ signingKey: { ...TEST_SIGNING_KEY.privateJwk, x: newSigningKey().publicJwk.x } }, "JWT_SIGNING_KEY"],
    [{ verifyKeys: [TEST_SIGNING_KEY.privateJwk] }, "JWT_VERIFY_KEYS"],
    [{ verifyKeys: { keys: "not a list" } }, "JWT_VERIFY_KEYS"],
  ];
  for (const [options, variable] of cases) {
    const target = await app(options);
    for (const response of [await target.health(), await target.request("GET", "/.well-known/jwks.json")]) {
      assert.equal(response.status, 500, JSON.stringify(options));
      assert.equal(response.body.error, "server_misconfigured");
      assert.equal(response.body.variable, variable);
      assert.ok(!response.text.includes(TEST_SIGNING_KEY.privateJwk.d), "the key is never shown");
      assert.ok(!response.text.includes(hmacLike));
    }
  }
});
