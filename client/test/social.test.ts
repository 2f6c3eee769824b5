// Social sign-in in the client: the PKCE pair and the start URL, the return page's code exchanged
// with the verifier kept for the flow, a link completed the same way by the signed-in session,
// and every other return (error, nothing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createClient, SocialSignInError } from "../src/index.ts";
import { memoryStore } from "../src/storage.ts";
import { memoryStorage } from "./fakes.ts";

function fakeApi(answer: unknown) {
  const posted: unknown[] = [];
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    posted.push({ path: new URL(request.url).pathname, body: await request.json() });
    return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  return { fetch, posted };
}

const LOGIN = { message: "Login successful", token: "a1", refresh: "r1", username: "Ada", email: "ada@x.io", email_verified: true, token_type: "Bearer", expires_in: 900 };

test("a sign-in URL carries the S256 challenge of the verifier kept for the flow; the code is exchanged with it", async () => {
  const api = fakeApi(LOGIN);
  const storage = memoryStorage();
  const client = createClient({ baseUrl: "http://api.test/", fetch: api.fetch, store: memoryStore(), flowStorage: storage });
  const url = new URL(await client.socialSignInUrl("google", "https://app.test/done"));
  assert.equal(`${url.origin}${url.pathname}`, "http://api.test/oauth/google/start");
  assert.equal(url.searchParams.get("redirect_to"), "https://app.test/done");
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  const { verifier } = JSON.parse([...storage.items.values()][0]!);
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(url.searchParams.get("code_challenge"), createHash("sha256").update(verifier).digest("base64url"));

  const result = await client.completeSocialSignIn("https://app.test/done?code=one-time");
  assert.deepEqual(result, { status: "signed_in", user: { email: "ada@x.io", username: "Ada", email_verified: true } });
  assert.deepEqual(api.posted, [{ path: "/oauth/token", body: { code: "one-time", code_verifier: verifier } }]);
  assert.equal(client.signedIn, true);
  assert.equal(storage.items.size, 0, "the verifier is spent");
  assert.equal(await client.token(), "a1");
  client.dispose();
});

test("an account with a second factor: the exchange answers the MFA step, as login does", async () => {
  const api = fakeApi({ message: "MFA required", mfa_required: true, mfa_token: "m1", expires_in: 300 });
  const client = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store: memoryStore(), flowStorage: memoryStorage() });
  await client.socialSignInUrl("test", "https://app.test/");
  assert.deepEqual(await client.completeSocialSignIn("https://app.test/?code=c"), { status: "mfa_required", mfaToken: "m1", expiresIn: 300 });
  assert.equal(client.signedIn, false);
  client.dispose();
});

test("an error, a code without a verifier, a link, an ordinary page", async () => {
  const api = fakeApi(LOGIN);
  const storage = memoryStorage();
  const client = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store: memoryStore(), flowStorage: storage });
  await client.socialSignInUrl("test", "https://app.test/");
  await assert.rejects(client.completeSocialSignIn("https://app.test/?error=account_exists"), (error: unknown) => {
    assert.ok(error instanceof SocialSignInError);
    assert.equal(error.code, "account_exists");
    return true;
  });
  assert.equal(storage.items.size, 0, "an error ends the flow");
  await assert.rejects(client.completeSocialSignIn("https://app.test/?code=c"), { name: "SocialSignInError", code: "no_verifier" });
  await assert.rejects(client.completeSocialSignIn("https://app.test/?link_code=l&provider=github"), { name: "SocialSignInError", code: "no_verifier" });
  assert.equal(await client.completeSocialSignIn("https://app.test/"), null);
  assert.deepEqual(api.posted, [], "nothing exchanged");
  client.dispose();
});

test("a link: the password asked again and the S256 challenge go to /oauth/{provider}/link; the link_code is completed with the verifier", async () => {
  const posted: { path: string; body: unknown; auth: string | null }[] = [];
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    posted.push({ path, body: await request.json(), auth: request.headers.get("Authorization") });
    const answer = path === "/identities" ? { message: "Linked", provider: "github" } : path === "/login" ? LOGIN : { url: "https://github.test/authorize" };
    return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  const storage = memoryStorage();
  const client = createClient({ baseUrl: "http://api.test", fetch, store: memoryStore(), flowStorage: storage });
  await client.login({ email: "ada@x.io", password: "pw" });
  assert.equal(await client.linkProvider("github", "https://app.test/", { password: "pw" }), "https://github.test/authorize");
  const { verifier } = JSON.parse([...storage.items.values()][0]!);
  const link = posted[1]!;
  assert.equal(link.path, "/oauth/github/link");
  assert.deepEqual(link.body, {
    password: "pw",
    redirect_to: "https://app.test/",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  });
  assert.deepEqual(await client.completeSocialSignIn("https://app.test/?link_code=l1&provider=github"), { status: "linked", provider: "github" });
  assert.deepEqual(posted[2], { path: "/identities", body: { code: "l1", code_verifier: verifier }, auth: "Bearer a1" });
  client.dispose();
});
