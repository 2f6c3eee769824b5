// Email sign-in in the client: the start (with a link: the S256 challenge of a verifier kept in
// the link storage), the code, and the link's page, whose token is read from the fragment and
// posted with the verifier; a browser without the verifier gets EmailLinkError and posts nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createClient, EmailLinkError } from "../src/index.ts";
import { memoryStore } from "../src/storage.ts";
import { memoryStorage } from "./fakes.ts";

function fakeApi(answers: Record<string, unknown>) {
  const posted: { path: string; body: unknown }[] = [];
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    posted.push({ path, body: await request.json() });
    return new Response(JSON.stringify(answers[path]), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  return { fetch, posted };
}

const LOGIN = { message: "Login successful", token: "a1", refresh: "r1", username: null, email: "ada@x.io", email_verified: true, token_type: "Bearer", expires_in: 900 };
const ANSWERS = {
  "/email-sign-in": { message: "Check your email" },
  "/email-sign-in/code": LOGIN,
  "/email-sign-in/link": LOGIN,
};
const TOKEN = "t".repeat(43);

test("a code start posts only the address; the code signs in as login does", async () => {
  const api = fakeApi(ANSWERS);
  const client = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store: memoryStore(), linkStorage: memoryStorage() });
  assert.deepEqual(await client.startEmailSignIn("ada@x.io"), { message: "Check your email" });
  const result = await client.completeEmailSignIn({ email: "ada@x.io", code: "012345" });
  assert.deepEqual(result, { status: "signed_in", user: { email: "ada@x.io", username: null, email_verified: true } });
  assert.deepEqual(api.posted, [
    { path: "/email-sign-in", body: { email: "ada@x.io" } },
    { path: "/email-sign-in/code", body: { email: "ada@x.io", code: "012345" } },
  ]);
  assert.equal(await client.token(), "a1");
  client.dispose();
});

test("a link start sends the S256 challenge of the verifier it keeps; the link's page posts the fragment's token with it", async () => {
  const api = fakeApi(ANSWERS);
  const storage = memoryStorage();
  const client = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store: memoryStore(), linkStorage: storage });
  await client.startEmailSignIn("ada@x.io", { redirectTo: "https://app.test/in" });
  const verifier = [...storage.items.values()][0]!;
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(api.posted[0]!.body, {
    email: "ada@x.io",
    link: {
      redirect_to: "https://app.test/in",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    },
  });
  assert.equal(await client.completeEmailLink("https://app.test/in"), null, "a page load without a token");
  const result = await client.completeEmailLink(`https://app.test/in#sign_in_token=${TOKEN}`);
  assert.equal(result?.status, "signed_in");
  assert.deepEqual(api.posted.at(-1), { path: "/email-sign-in/link", body: { token: TOKEN, code_verifier: verifier } });
  assert.equal(storage.items.size, 0, "the verifier is spent");
  client.dispose();
});

test("a browser without the verifier posts nothing and says so", async () => {
  const api = fakeApi(ANSWERS);
  const client = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store: memoryStore(), linkStorage: memoryStorage() });
  await assert.rejects(client.completeEmailLink(`https://app.test/in#sign_in_token=${TOKEN}`), (e) => e instanceof EmailLinkError && e.code === "no_verifier");
  assert.deepEqual(api.posted, []);
  assert.equal(client.signedIn, false);
  client.dispose();
});
