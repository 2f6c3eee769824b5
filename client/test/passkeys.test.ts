// Passkeys in the client, without a browser: base64url both ways, the API's JSON options turned
// into navigator.credentials' (by hand: Node has no PublicKeyCredential), the credential posted in
// its JSON form, and a refused ceremony thrown with its reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, creationOptions, fromBase64url, PasskeyRefusedError, requestOptions, toBase64url } from "../src/index.ts";
import { memoryStore } from "../src/storage.ts";

const LOGIN = { message: "Login successful", token: "a1", refresh: "r1", username: null, email: "ada@x.io", email_verified: true, token_type: "Bearer", expires_in: 900 };
const bytes = (...b: number[]) => new Uint8Array(b);

test("base64url both ways: no padding, URL-safe alphabet, any length", () => {
  for (let n = 0; n < 70; n++) {
    const data = crypto.getRandomValues(new Uint8Array(n));
    const text = toBase64url(data);
    assert.match(text, /^[A-Za-z0-9_-]*$/);
    assert.deepEqual(fromBase64url(text), data);
    assert.equal(text, Buffer.from(data).toString("base64url"));
  }
  assert.equal(toBase64url(bytes(0xfb, 0xff).buffer), "-_8");
  assert.deepEqual(fromBase64url("-_8="), bytes(0xfb, 0xff));
  assert.equal(toBase64url(new Uint8Array([9, 1, 2, 3]).subarray(1, 3)), toBase64url(bytes(1, 2)), "a view's own bytes only");
});

test("the API's options become navigator.credentials' options, binary fields decoded", () => {
  const created = creationOptions({
    challenge: "AAEC",
    rp: { id: "localhost", name: "x" },
    user: { id: "AAAAAAAAAAc", name: "ada@x.io", displayName: "Ada" },
    pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    excludeCredentials: [{ type: "public-key", id: "_w" }],
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
  assert.deepEqual(new Uint8Array(created.challenge as ArrayBuffer), bytes(0, 1, 2));
  assert.deepEqual(new Uint8Array(created.user.id as ArrayBuffer), bytes(0, 0, 0, 0, 0, 0, 0, 7));
  assert.equal(created.user.name, "ada@x.io");
  assert.deepEqual(new Uint8Array(created.excludeCredentials![0]!.id as ArrayBuffer), bytes(0xff));
  assert.equal(created.authenticatorSelection?.residentKey, "required");
  const requested = requestOptions({ challenge: "AAEC", rpId: "localhost", allowCredentials: [], userVerification: "required" });
  assert.deepEqual(new Uint8Array(requested.challenge as ArrayBuffer), bytes(0, 1, 2));
  assert.deepEqual([requested.rpId, requested.allowCredentials, requested.userVerification], ["localhost", [], "required"]);
});

/** A navigator.credentials whose get() answers an assertion without toJSON (an older browser). */
function fakeCredentials() {
  const asked: unknown[] = [];
  const credentials = {
    create: async () => null,
    get: async (options: unknown) => {
      asked.push(options);
      return {
        id: "_w",
        rawId: bytes(0xff).buffer,
        type: "public-key",
        authenticatorAttachment: "platform",
        getClientExtensionResults: () => ({}),
        response: { clientDataJSON: bytes(1).buffer, authenticatorData: bytes(2).buffer, signature: bytes(3).buffer, userHandle: bytes(4).buffer },
      };
    },
  };
  Object.defineProperty(globalThis, "PublicKeyCredential", { value: function PublicKeyCredential() {}, configurable: true });
  Object.defineProperty(globalThis, "navigator", { value: { credentials }, configurable: true });
  return asked;
}

test("signing in with a passkey: options, the ceremony, the assertion posted in JSON, the session adopted", async () => {
  const asked = fakeCredentials();
  const posted: { path: string; body: unknown }[] = [];
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    posted.push({ path, body: await request.json() });
    const answer = path === "/passkeys/login/options" ? { challenge: "AAEC", rpId: "localhost", allowCredentials: [], userVerification: "required" } : LOGIN;
    return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  const client = createClient({ baseUrl: "http://api.test", fetch, store: memoryStore() });
  const result = await client.signInWithPasskey({ email: "ada@x.io" });
  assert.equal(result.status, "signed_in");
  assert.equal(client.signedIn, true);
  assert.deepEqual(posted[0], { path: "/passkeys/login/options", body: { email: "ada@x.io" } });
  assert.deepEqual(posted[1], {
    path: "/passkeys/login",
    body: {
      credential: {
        id: "_w", rawId: "_w", type: "public-key",
        response: { clientDataJSON: "AQ", authenticatorData: "Ag", signature: "Aw", userHandle: "BA" },
        authenticatorAttachment: "platform", clientExtensionResults: {},
      },
    },
  });
  const publicKey = (asked[0] as { publicKey: PublicKeyCredentialRequestOptions }).publicKey;
  assert.deepEqual(new Uint8Array(publicKey.challenge as ArrayBuffer), bytes(0, 1, 2));
  client.dispose();
});

test("a refused ceremony throws PasskeyRefusedError with its reason", async () => {
  fakeCredentials();
  const fetch = async (input: Request | string | URL) => {
    const path = new URL(new Request(input).url).pathname;
    const [status, answer] = path === "/passkeys/login/options"
      ? [200, { challenge: "AAEC", rpId: "localhost" }]
      : [400, { error: "passkey_refused", reason: "origin_mismatch", message: "expected http://localhost:5173" }];
    return new Response(JSON.stringify(answer), { status, headers: { "Content-Type": "application/json" } });
  };
  const client = createClient({ baseUrl: "http://api.test", fetch, store: memoryStore() });
  await assert.rejects(client.signInWithPasskey(), (error: unknown) => {
    assert.ok(error instanceof PasskeyRefusedError);
    assert.deepEqual([error.status, error.code, error.reason], [400, "passkey_refused", "origin_mismatch"]);
    return true;
  });
  assert.equal(client.signedIn, false);
  client.dispose();
});
