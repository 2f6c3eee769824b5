// The OpenAPI 3.1 document (api/openapi.json): valid, served at /openapi.json, and able to refuse
// what it does not describe. (Every response of every black-box test is checked against it in
// TestApp.request, through tests/support/contract.mjs.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { spawnApp } from "./support/app.mjs";
import { DOCUMENT, contractProblems } from "./support/contract.mjs";

let app;
after(() => app?.close());

test("the document is valid OpenAPI 3.1", async () => {
  assert.equal(DOCUMENT.openapi, "3.1.0");
  const result = await new Validator().validate(DOCUMENT);
  assert.deepEqual(result.errors ?? [], []);
  assert.equal(result.valid, true);
});

test("GET /openapi.json serves the document, and every operation in it answers as it says", async () => {
  app = await spawnApp({});
  const served = await app.request("GET", "/openapi.json");
  assert.equal(served.status, 200);
  // Less the routes of what this deployment leaves off (tests/openapi_served.test.mjs).
  for (const [path, item] of Object.entries(served.body.paths)) assert.deepEqual(item, DOCUMENT.paths[path], path);
  assert.deepEqual({ ...served.body, paths: {}, components: {} }, { ...DOCUMENT, paths: {}, components: {} });

  // Each documented operation, called without credentials or body: the answer (checked against the
  // document by app.request) is a documented one.
  const user = await app.signedInUser("openapi");
  for (const [path, item] of Object.entries(DOCUMENT.paths)) {
    for (const method of Object.keys(item)) {
      const response = await app.request(method.toUpperCase(), path, { json: method === "get" || method === "options" ? undefined : {} });
      assert.ok(response.status < 500, `${method} ${path}: ${response.status}`);
      if (item[method].security?.length) {
        const authorised = await app.request(method.toUpperCase(), path, { token: user.token, json: method === "get" ? undefined : { name: "Renamed" } });
        assert.ok(authorised.status < 500);
      }
    }
  }
});

test("the check refuses what the document does not describe", () => {
  const headers = (entries) => new Headers(entries);
  const good = {
    method: "GET",
    path: "/me",
    status: 401,
    headers: headers({ "content-type": "application/json; charset=utf-8", "x-request-id": "0123456789abcdef", "www-authenticate": 'Bearer realm="edge-auth"' }),
    text: JSON.stringify({ message: "Invalid or expired credentials", error: "unauthorized" }),
  };
  assert.deepEqual(contractProblems(good), [], "the control case passes: the check is right");
  const cases = {
    "an undocumented status": { ...good, status: 418 },
    "an error code the status does not allow": { ...good, text: JSON.stringify({ message: "x", error: "user_exists" }) },
    "a field the schema lacks": { ...good, text: JSON.stringify({ message: "x", error: "unauthorized", token: "leak" }) },
    "a required header missing": { ...good, headers: headers({ "content-type": "application/json", "x-request-id": "0123456789abcdef" }) },
    "no request id": { ...good, headers: headers({ "content-type": "application/json", "www-authenticate": 'Bearer realm="edge-auth"' }) },
    "another media type": { ...good, headers: headers({ "content-type": "text/plain", "x-request-id": "a", "www-authenticate": 'Bearer realm="edge-auth"' }) },
    "a success body without a field": { ...good, status: 200, text: JSON.stringify({ id: 1, email: "a@b.c", username: null }) },
    "a path the document lacks, answered 200": { ...good, path: "/admin", status: 200 },
    "a method the path lacks, answered 200": { ...good, method: "DELETE", status: 200 },
  };
  for (const [name, response] of Object.entries(cases)) {
    assert.notDeepEqual(contractProblems(response), [], name);
  }
});
