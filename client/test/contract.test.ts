// The client's route table and error codes against the API's document (api/openapi.json): the
// same routes, the same bearer requirement, the same request fields, required where it requires.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ROUTES } from "../src/routes/table.ts";

const doc = JSON.parse(readFileSync(new URL("../../api/openapi.json", import.meta.url), "utf8"));

/**
 * Fields the client sends ahead of the document: the second factor asked again and the
 * verification token, which the API is gaining (issue 22). Each may be absent from the document;
 * once the document has it, it is checked like any other field.
 */
const AHEAD: Record<string, string[]> = {
  "POST /change-password": ["mfa_code"],
  "POST /change-email": ["mfa_code"],
  "DELETE /me": ["mfa_code"],
  "POST /verify-email": ["verification_token"],
  "POST /resend-verification": ["verification_token"],
};

interface Operation {
  security?: { bearer?: string[]; adminKey?: string[] }[];
  requestBody?: { content: { "application/json": { schema: { properties: Record<string, unknown>; required?: string[] } } } };
}

/** The admin API is for the operator's backend, with a key no web page may hold: not the client's. */
const isAdmin = (operation: Operation) => (operation.security ?? []).some((s) => "adminKey" in s);
/**
 * The OAuth / OpenID provider's protocol routes are a relying party's and its hosted pages', not a
 * web app's (openid-client is the client there); the apps list (`/oauth2/grants`) is the client's.
 */
const isProtocol = (path: string) => (path.startsWith("/oauth2/") && !path.startsWith("/oauth2/grants")) || path.startsWith("/.well-known/o");

function documentRoutes(): Map<string, Operation> {
  const routes = new Map<string, Operation>();
  for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (isAdmin(operation) || isProtocol(path)) continue;
      if (["get", "post", "put", "delete", "patch"].includes(method)) routes.set(`${method.toUpperCase()} ${path}`, operation);
    }
  }
  return routes;
}

const clientRoutes = new Map(Object.values(ROUTES).map((route) => [`${route.method} ${route.path}`, route]));

test("the client has a method for every route of the document, and none more", () => {
  assert.deepEqual([...clientRoutes.keys()].sort(), [...documentRoutes().keys()].sort());
});

test("each route takes the bearer token exactly where the document says", () => {
  for (const [key, operation] of documentRoutes()) {
    const bearer = (operation.security ?? []).some((s) => "bearer" in s);
    assert.equal(clientRoutes.get(key)?.auth, bearer, key);
  }
});

test("each request body has the document's fields, required where it requires them", () => {
  for (const [key, operation] of documentRoutes()) {
    const fields = clientRoutes.get(key)?.fields ?? null;
    const schema = operation.requestBody?.content["application/json"].schema;
    if (!schema) {
      assert.equal(fields, null, `${key} takes no body`);
      continue;
    }
    assert.ok(fields, `${key} takes a body`);
    const documented = Object.keys(schema.properties);
    const required = schema.required ?? [];
    for (const name of documented) {
      const expected = required.includes(name) ? "required" : "optional";
      assert.equal((fields as Record<string, string>)[name], expected, `${key} ${name}`);
    }
    for (const name of Object.keys(fields)) {
      if (documented.includes(name)) continue;
      assert.ok(AHEAD[key]?.includes(name), `${key}: ${name} is not in the document`);
      assert.equal((fields as Record<string, string>)[name], "optional", `${key} ${name} (ahead of the document) is optional`);
    }
  }
});

test("the client's error codes are the document's", () => {
  const source = readFileSync(new URL("../src/errors.ts", import.meta.url), "utf8");
  const union = source.match(/export type ErrorCode =([^;]+);/)![1]!;
  const codes = [...union.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
  assert.deepEqual(codes.sort(), [...doc.components.schemas.Error.properties.error.enum].sort());
  const problems = source.match(/export type FieldProblem =([^;]+);/)![1]!;
  assert.deepEqual(
    [...problems.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]).sort(),
    [...doc.components.schemas.Error.properties.fields.additionalProperties.enum].sort(),
  );
});
