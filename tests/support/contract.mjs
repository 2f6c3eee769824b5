// The API contract, api/openapi.json, held against every response the black-box tests receive:
// TestApp.request checks each one here and throws when the document does not describe it. The
// JSON Schemas of the document (OpenAPI 3.1 uses JSON Schema 2020-12) are checked by Ajv; this
// file only finds, for a request and its status, the response object the document gives.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DOCUMENT = JSON.parse(readFileSync(`${ROOT}api/openapi.json`, "utf8"));
const DOC_ID = "openapi.json";

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(DOCUMENT, DOC_ID);

const pointer = (ref) => ref.replace(/^#/, "");
/** Follows a local `$ref` ("#/components/responses/NotFound") to its object. */
function resolve(node) {
  if (!node?.$ref) return [node, null];
  const path = pointer(node.$ref).split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  return [path.reduce((at, key) => at?.[key], DOCUMENT), node.$ref];
}

const escape = (segment) => segment.replace(/~/g, "~0").replace(/\//g, "~1");
const validators = new Map();
/** An Ajv validator for the schema at this JSON pointer of the document. */
function validatorAt(jsonPointer) {
  if (!validators.has(jsonPointer)) validators.set(jsonPointer, ajv.compile({ $ref: `${DOC_ID}#${jsonPointer}` }));
  return validators.get(jsonPointer);
}

/**
 * The problems (an empty list when none) of one response against the document: an undocumented
 * path, method or status, a missing or wrong required header, a wrong media type or body.
 */
/** The document's path for a request path: itself, or the template it fills (`/sessions/{id}`). */
function documentedPath(pathname) {
  if (DOCUMENT.paths[pathname]) return pathname;
  return Object.keys(DOCUMENT.paths).find((template) => {
    if (!template.includes("{")) return false;
    const pattern = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")).join("[^/]+");
    return new RegExp(`^${pattern}$`).test(pathname);
  });
}

export function contractProblems({ method, path, status, headers, text }) {
  const pathname = documentedPath(new URL(path, "http://x").pathname) ?? new URL(path, "http://x").pathname;
  const item = DOCUMENT.paths[pathname];
  let location;
  let response;
  if (!item) {
    if (status !== 404 && status !== 500) return [`${method} ${pathname}: not in the document, yet answered ${status}`];
    location = status === 404 ? "/components/responses/NotFound" : "/components/responses/ServerError";
    [response] = resolve({ $ref: `#${location}` });
  } else if (!item[method.toLowerCase()]) {
    if (status !== 405 && status !== 500) return [`${method} ${pathname}: method not in the document, yet answered ${status}`];
    location = status === 405 ? "/components/responses/MethodNotAllowed" : "/components/responses/ServerError";
    [response] = resolve({ $ref: `#${location}` });
  } else {
    const declared = item[method.toLowerCase()].responses[String(status)];
    if (!declared) return [`${method} ${pathname}: status ${status} is not documented`];
    const [found, ref] = resolve(declared);
    response = found;
    location = ref ? pointer(ref) : `/paths/${escape(pathname)}/${method.toLowerCase()}/responses/${status}`;
  }

  const problems = [];
  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    const [header, ref] = resolve(declared);
    const value = headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`${method} ${pathname} ${status}: header ${name} is missing`);
      continue;
    }
    const at = ref ? `${pointer(ref)}/schema` : `${location}/headers/${escape(name)}/schema`;
    if (!validatorAt(at)(value)) problems.push(`${method} ${pathname} ${status}: header ${name}=${value} does not match its schema`);
  }
  const content = response.content ?? {};
  const mediaType = (headers.get("content-type") ?? "").split(";")[0].trim();
  if (Object.keys(content).length === 0) {
    if (text !== "") problems.push(`${method} ${pathname} ${status}: a body where the document describes none`);
    return problems;
  }
  if (!content[mediaType]) return [...problems, `${method} ${pathname} ${status}: media type ${mediaType || "(none)"} is not documented`];
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return [...problems, `${method} ${pathname} ${status}: the body is not JSON`];
  }
  const validate = validatorAt(`${location}/content/${escape(mediaType)}/schema`);
  if (!validate(body)) {
    problems.push(`${method} ${pathname} ${status}: body does not match the document: ${ajv.errorsText(validate.errors)}`);
  }
  return problems;
}
