// The document a deployment serves at /openapi.json describes that deployment (src/core/meta/openapi.rs):
// with the admin API, passkeys, social sign-in and the provider off (and email sign-in, by EMAIL_SIGN_IN=false), their routes answer 404 and are not in it;
// with them on, it is api/openapi.json itself.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter } from "./support/app.mjs";
import { EVERYTHING_ON } from "./support/capabilities.mjs";
import { DOCUMENT } from "./support/contract.mjs";

const spawnApp = appsClosedAfter(after);

/** The paths of api/openapi.json that exist only while their capability is on. */
const PROVIDER = Object.keys(DOCUMENT.paths).filter(
  (path) => path.startsWith("/oauth2/") || path.startsWith("/admin/clients") || path.startsWith("/.well-known/o"),
);
const ADMIN = Object.keys(DOCUMENT.paths).filter((path) => path.startsWith("/admin/") && !PROVIDER.includes(path));
const PASSKEY_CEREMONIES = [
  "/passkeys/register/options",
  "/passkeys/register",
  "/passkeys/login/options",
  "/passkeys/login",
  "/passkeys/signup/options",
  "/passkeys/signup",
  "/login/mfa/passkey/options",
  "/login/mfa/passkey",
];
const SOCIAL = ["/oauth/{provider}/start", "/oauth/{provider}/callback", "/oauth/{provider}/link"];
const EMAIL_SIGN_IN = ["/email-sign-in", "/email-sign-in/code", "/email-sign-in/link"];
assert.ok(ADMIN.includes("/admin/users") && ADMIN.includes("/admin/events"));

const operations = (document) =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => [method.toUpperCase(), path]));

test("with everything off, the served document lists only routes that exist", async () => {
  const app = await spawnApp({});
  const served = await app.request("GET", "/openapi.json");
  assert.equal(served.status, 200);
  const document = served.body;
  for (const path of [...ADMIN, ...PASSKEY_CEREMONIES, ...SOCIAL]) {
    assert.ok(DOCUMENT.paths[path], `${path} is in api/openapi.json`);
    assert.equal(document.paths[path], undefined, `${path} is not served`);
  }
  assert.equal(document.components.securitySchemes.adminKey, undefined, "the admin key's scheme goes with the admin API");
  for (const [path, item] of Object.entries(document.paths)) {
    assert.deepEqual(item, DOCUMENT.paths[path], `${path} is served as written`);
  }
  // What stays needs no relying party or provider: an account keeps what it registered or
  // linked while they were on.
  for (const path of ["/passkeys", "/passkeys/{id}", "/identities", "/identities/{provider}", "/oauth/token"]) {
    assert.ok(document.paths[path], `${path} stays`);
  }
  // Email sign-in is on unless EMAIL_SIGN_IN is false.
  for (const path of EMAIL_SIGN_IN) assert.ok(document.paths[path], `${path} is served by default`);

  // Every listed operation, asked plainly (no credentials, an empty body), is answered by a route.
  for (const [method, path] of operations(document)) {
    const json = method === "GET" || method === "OPTIONS" ? undefined : {};
    const response = await app.request(method, path, { json });
    assert.notEqual(response.status, 404, `${method} ${path} is listed, yet answers 404`);
    assert.ok(response.status < 500, `${method} ${path}: ${response.status}`);
  }
  // And every operation left out answers 404, even to a signed-in user: it is off, not hidden.
  const user = await app.signedInUser("served");
  const left = operations(DOCUMENT).filter(([method, path]) => method !== "OPTIONS" && !document.paths[path]);
  assert.ok(left.length > 0);
  for (const [method, path] of left) {
    const json = method === "GET" ? undefined : {};
    const response = await app.request(method, path, { json, token: user.token });
    assert.equal(response.status, 404, `${method} ${path} is left out, yet answers ${response.status}`);
  }
});

test("with everything on, the served document is api/openapi.json", async () => {
  const app = await spawnApp({ vars: EVERYTHING_ON });
  const served = await app.request("GET", "/openapi.json");
  assert.equal(served.status, 200);
  for (const path of [...ADMIN, ...PASSKEY_CEREMONIES, ...SOCIAL]) {
    assert.ok(served.body.paths[path], `${path} is served`);
  }
  assert.ok(served.body.components.securitySchemes.adminKey);
  assert.deepEqual(served.body, DOCUMENT);
});

test("each capability takes only its own routes out", async () => {
  const cases = {
    // Without the admin API, its /admin/clients go too.
    "the admin API": [{ ADMIN_API_KEYS: undefined }, [...ADMIN, "/admin/clients", "/admin/clients/{id}", "/admin/clients/{id}/secret"]],
    passkeys: [{ RP_ID: undefined, RP_ORIGINS: undefined }, PASSKEY_CEREMONIES],
    "social sign-in": [{ GITHUB_CLIENT_ID: undefined, GITHUB_CLIENT_SECRET: undefined }, SOCIAL],
    "email sign-in": [{ EMAIL_SIGN_IN: "false" }, EMAIL_SIGN_IN],
    "the provider": [{ OAUTH_PROVIDER: undefined }, PROVIDER],
  };
  for (const [name, [unset, paths]] of Object.entries(cases)) {
    const vars = Object.fromEntries(Object.entries({ ...EVERYTHING_ON, ...unset }).filter(([, v]) => v !== undefined));
    const app = await spawnApp({ vars });
    const { body: document } = await app.request("GET", "/openapi.json");
    const missing = Object.keys(DOCUMENT.paths).filter((path) => !document.paths[path]);
    assert.deepEqual(missing.sort(), [...paths].sort(), `${name} off`);
  }
});
