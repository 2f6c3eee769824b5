// The documentation stays true: every relative link and #anchor in README.md and docs/ resolves,
// docs/README.md lists every page, and the README's curl walk runs against the worker.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { appsClosedAfter } from "./support/app.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DOCS = join(ROOT, "docs");
const pages = () => [
  join(ROOT, "README.md"),
  ...readdirSync(DOCS).filter((name) => name.endsWith(".md")).map((name) => join(DOCS, name)),
];
const spawn = appsClosedAfter(after);

/** The text outside fenced code blocks, line by line (a fence's lines become empty lines). */
function prose(text) {
  let fenced = false;
  return text.split("\n").map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line;
  });
}

/** GitHub's anchor for a heading: lower case, markup and punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading) {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor of a markdown file, duplicates numbered as GitHub does (`x`, `x-1`, …). */
function anchors(file) {
  const seen = new Map();
  const found = new Set();
  for (const line of prose(readFileSync(file, "utf8"))) {
    const heading = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!heading) continue;
    const base = slug(heading[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    found.add(n === 0 ? base : `${base}-${n}`);
  }
  return found;
}

/** The inline links of a markdown file: `[text](target)` outside code blocks (images too). */
function links(file) {
  const text = prose(readFileSync(file, "utf8")).join("\n");
  return [...text.matchAll(/\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({
    text: m[1].replace(/\s+/g, " "),
    target: m[2],
  }));
}

test("the slug is GitHub's", () => {
  assert.equal(slug("Two-step sign-in (TOTP)"), "two-step-sign-in-totp");
  assert.equal(slug("Linking, without takeovers"), "linking-without-takeovers");
  assert.equal(slug("The request log under `wrangler dev`"), "the-request-log-under-wrangler-dev");
  assert.equal(slug("Issue 26: beside better-auth, by `npm run bench:peers`"), "issue-26-beside-better-auth-by-npm-run-benchpeers");
  assert.equal(slug("The rest of an account's life"), "the-rest-of-an-accounts-life");
  assert.equal(slug("snake_case and a [link](x.md)"), "snake_case-and-a-link");
});

test("every relative link and #anchor in README.md and docs/ resolves", () => {
  const problems = [];
  let checked = 0;
  for (const file of pages()) {
    for (const { text, target } of links(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked += 1;
      const where = `${relative(ROOT, file)}: [${text}](${target})`;
      const [path, anchor] = target.split("#", 2);
      const resolved = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(resolved)) {
        problems.push(`${where}: no file ${relative(ROOT, resolved)}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith(".md")) {
        problems.push(`${where}: an anchor into a file that is not markdown`);
        continue;
      }
      if (!anchors(resolved).has(decodeURIComponent(anchor))) {
        problems.push(`${where}: no heading of ${relative(ROOT, resolved)} has the anchor #${anchor}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 50, `only ${checked} relative links checked`);
});

test("docs/README.md links every page of docs/, and README.md links docs/README.md", () => {
  const index = join(DOCS, "README.md");
  const listed = new Set(
    links(index)
      .map(({ target }) => target.split("#")[0])
      .filter((target) => target && !/^[a-z]+:/i.test(target))
      .map((target) => resolve(DOCS, target)),
  );
  const missing = pages()
    .filter((file) => dirname(file) === DOCS && file !== index)
    .filter((file) => !listed.has(file))
    .map((file) => relative(ROOT, file));
  assert.deepEqual(missing, [], "pages docs/README.md does not list");
  const front = links(join(ROOT, "README.md")).map(({ target }) => target);
  assert.ok(front.includes("docs/README.md"), "README.md links the documentation index");
});

// ---- The curl walk ----

/** Splits one shell command into words: '…' kept as is, "…" with $VAR/${VAR} expanded, bare words. */
function shellWords(command, vars) {
  const words = [];
  let i = 0;
  const expand = (text) =>
    text.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, braced, bare) => {
      const name = braced ?? bare;
      if (!(name in vars)) throw new Error(`the walk uses $${name} before setting it: ${command}`);
      return vars[name];
    });
  while (i < command.length) {
    if (/\s/.test(command[i])) {
      i += 1;
      continue;
    }
    let word = "";
    while (i < command.length && !/\s/.test(command[i])) {
      const c = command[i];
      if (c === "'") {
        const end = command.indexOf("'", i + 1);
        if (end < 0) throw new Error(`unclosed ' in: ${command}`);
        word += command.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        const end = command.indexOf('"', i + 1);
        if (end < 0) throw new Error(`unclosed " in: ${command}`);
        word += expand(command.slice(i + 1, end));
        i = end + 1;
      } else if (c === "$" || c === "|" || c === ";" || c === "&" || c === "`" || c === ">" || c === "<") {
        throw new Error(`shell syntax the walk's parser does not run (${c}) in: ${command}`);
      } else {
        word += c;
        i += 1;
      }
    }
    words.push(word);
  }
  return words;
}

/** A curl command's words as a request: method, path, headers, body. Any other option fails. */
function curlRequest(words, line) {
  assert.equal(words[0], "curl", `not a curl command: ${line}`);
  const request = { method: undefined, path: undefined, headers: {}, body: undefined };
  for (let i = 1; i < words.length; i += 1) {
    const word = words[i];
    const value = () => {
      i += 1;
      if (i >= words.length) throw new Error(`${word} without a value: ${line}`);
      return words[i];
    };
    if (word === "-s" || word === "--silent") continue;
    if (word === "-X" || word === "--request") request.method = value();
    else if (word === "-H" || word === "--header") {
      const header = value().match(/^([A-Za-z0-9-]+):\s*(.*)$/);
      if (!header) throw new Error(`a malformed header in: ${line}`);
      request.headers[header[1]] = header[2];
    } else if (word === "-d" || word === "--data") request.body = value();
    else if (word.startsWith("-")) throw new Error(`a curl option the walk's parser does not know (${word}): ${line}`);
    else {
      const url = word.match(/^(?:http:\/\/)?localhost:8787(\/[^\s]*)$/);
      if (!url) throw new Error(`not a URL of the local worker (localhost:8787): ${word} in: ${line}`);
      if (request.path) throw new Error(`two URLs in: ${line}`);
      request.path = url[1];
    }
  }
  if (!request.path) throw new Error(`no URL in: ${line}`);
  request.method ??= request.body === undefined ? "GET" : "POST";
  if (request.body !== undefined) {
    assert.equal(request.headers["Content-Type"], "application/json", `a body sent without its JSON Content-Type: ${line}`);
    request.json = JSON.parse(request.body); // a body that is not JSON fails here
  }
  return request;
}

/** The ```sh block under "Try it with curl", as steps: requests (with their expected answers) and assignments. */
function curlWalk() {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
  const heading = readme.findIndex((line) => /^#{2,4} Try it with curl\s*$/.test(line));
  assert.ok(heading >= 0, 'README.md has a "Try it with curl" heading');
  const open = readme.findIndex((line, i) => i > heading && /^```/.test(line));
  assert.equal(readme[open], "```sh", "the walk is a ```sh block right under its heading");
  assert.ok(readme.slice(heading + 1, open).every((line) => line.trim() === ""), "nothing between the heading and the block");
  const close = readme.findIndex((line, i) => i > open && /^```\s*$/.test(line));
  assert.ok(close > open, "the walk's block is closed");
  // Logical lines: a trailing backslash continues onto the next line.
  const lines = [];
  for (let i = open + 1; i < close; i += 1) {
    let line = readme[i];
    while (line.endsWith("\\")) line = line.slice(0, -1) + " " + readme[++i].trim();
    lines.push(line);
  }
  return lines;
}

test("the README's curl walk runs against the worker", async () => {
  const app = await spawn({ mail: true });
  const vars = {};
  const steps = [];
  let last = null;
  let resetFor = null;
  let assignments = 0;
  let expectations = 0;
  for (const raw of curlWalk()) {
    const line = raw.replace(/\s+#(?![^'"]*['"]).*$/, "").trim(); // a trailing comment, outside quotes
    const comment = raw.trim().startsWith("#") ? raw.trim().slice(1).trim() : null;
    if (comment !== null) {
      if (comment.startsWith("{")) {
        assert.ok(last, `an expected answer with no command before it: ${raw}`);
        assert.equal(last.expected, undefined, `two expected answers for one command: ${raw}`);
        last.expected = JSON.parse(comment); // an expected answer that is not JSON fails here
        expectations += 1;
      }
      continue;
    }
    if (line === "") continue;
    if (/^npm run dev$/.test(line)) continue; // the worker: here, a spawned app
    const assignment = line.match(/^([A-Z_][A-Z0-9_]*)=\$\((curl .*) \| jq -r \.([A-Za-z_][A-Za-z0-9_]*)\)$/);
    if (assignment) {
      steps.push((last = { line, command: assignment[2], assign: { name: assignment[1], field: assignment[3] } }));
      assignments += 1;
      continue;
    }
    if (/^curl /.test(line)) {
      steps.push((last = { line, command: line }));
      continue;
    }
    assert.fail(`a line of the walk this test cannot run: ${raw}`);
  }
  assert.ok(steps.length >= 5, `the walk has ${steps.length} requests`);
  assert.ok(assignments >= 1, "the walk carries a token from its login");
  assert.ok(expectations >= 1, "the walk shows at least one expected answer");

  for (const step of steps) {
    const request = curlRequest(shellWords(step.command, vars), step.line);
    if (request.path === "/reset-password") resetFor = request.json.email;
    if (request.json && "otp" in request.json) {
      // The code the README reads from `wrangler dev`'s output comes from the test mailbox.
      assert.ok(resetFor, `a reset code used before /reset-password asked for one: ${step.line}`);
      assert.equal(request.json.email, resetFor, "the reset code is used for the address that asked for it");
      const code = await app.mailbox.codeFor(resetFor, { kind: "reset" });
      request.json.otp = typeof request.json.otp === "number" ? Number(code) : code;
    }
    const answer = await app.request(request.method, request.path, {
      headers: request.headers,
      body: request.json === undefined ? undefined : JSON.stringify(request.json),
    });
    assert.ok(answer.status >= 200 && answer.status < 300, `${step.line}\nanswered ${answer.status} ${answer.text}`);
    if (step.expected) {
      for (const [key, value] of Object.entries(step.expected)) {
        assert.ok(answer.body && key in answer.body, `${step.line}\nthe answer lacks "${key}": ${answer.text}`);
        const actual = answer.body[key];
        if (typeof value === "number") assert.equal(typeof actual, "number", `${key} of ${step.line}`);
        else if (typeof value === "string" && !Number.isNaN(Date.parse(value)) && /^\d{4}-\d\d-\d\dT/.test(value)) {
          assert.ok(!Number.isNaN(Date.parse(actual)), `${key} is a timestamp: ${answer.text}`);
        } else assert.deepEqual(actual, value, `${key} of ${step.line}: ${answer.text}`);
      }
    }
    if (step.assign) {
      const value = answer.body?.[step.assign.field];
      assert.equal(typeof value, "string", `${step.line}\nthe answer has no "${step.assign.field}": ${answer.text}`);
      vars[step.assign.name] = value;
    }
  }
  assert.ok(resetFor, "the walk resets a password");
});
