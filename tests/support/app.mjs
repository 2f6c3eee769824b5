// TestApp: the compiled worker in workerd (Miniflare, as `wrangler dev` runs it) on a fresh,
// migrated local D1, driven over HTTP. One helper per endpoint; unique data per test.
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { runInNewContext } from "node:vm";
import { fileURLToPath } from "node:url";
import { request as httpRequest } from "node:http";
import { startMailbox } from "./mailbox.mjs";
import { contractProblems } from "./contract.mjs";
import { newSigningKey } from "../../scripts/keygen.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop";
/** The access-token signing key of every test app unless a test gives its own: `{privateJwk, publicJwk}`. */
export const TEST_SIGNING_KEY = newSigningKey();

/** The `[vars]` of wrangler.toml, so tests run with the configuration `wrangler dev` would use. */
function wranglerVars() {
  const toml = readFileSync(`${ROOT}wrangler.toml`, "utf8");
  const section = toml.split(/^\[vars\]$/m)[1]?.split(/^\[/m)[0] ?? "";
  return Object.fromEntries(
    [...section.matchAll(/^([A-Z_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]),
  );
}

/** The local-development settings of .dev.vars.example that have a value (not the secret). */
function devVars() {
  const text = readFileSync(`${ROOT}.dev.vars.example`, "utf8");
  return Object.fromEntries(
    [...text.matchAll(/^([A-Z_]+)="([^"]+)"/gm)].map((m) => [m[1], m[2]]),
  );
}

function wranglerDatabaseId() {
  return readFileSync(`${ROOT}wrangler.toml`, "utf8").match(/^database_id\s*=\s*"([^"]+)"/m)[1];
}

function compatibilityDate() {
  return readFileSync(`${ROOT}wrangler.toml`, "utf8").match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
}

/** Applies every migration in order, statement by statement, through the D1 binding. */
async function migrate(db) {
  const files = readdirSync(`${ROOT}migrations`).filter((f) => f.endsWith(".sql")).sort();
  for (const file of files) {
    const sql = readFileSync(`${ROOT}migrations/${file}`, "utf8")
      .split("\n")
      .map((line) => line.replace(/--.*$/, ""))
      .join("\n");
    for (const statement of sql.split(";").map((s) => s.trim()).filter(Boolean)) {
      await db.prepare(statement).run();
    }
  }
}

/**
 * Starts a worker with the configuration `wrangler dev` would use (wrangler.toml's [vars] and
 * .dev.vars.example's settings), or with `production: true` only what `wrangler deploy` ships.
 * `vars` override both; `mail: true` points EMAIL_PROVIDER=resend at a local mailbox;
 * `secret: null` leaves JWT_SECRET unset; `signingKey` is the private JWK of JWT_SIGNING_KEY (`null`:
 * unset), `verifyKeys` the public JWKs of JWT_VERIFY_KEYS; `miniflare` adds Miniflare options; `persistTo` opens
 * the local D1 that `wrangler ... --persist-to DIR` wrote (migrated already, unless `migrate`),
 * which two apps can share.
 */
export async function spawnApp({
  vars = {},
  mail = false,
  secret = TEST_SECRET,
  signingKey = TEST_SIGNING_KEY.privateJwk,
  verifyKeys,
  miniflare = {},
  persistTo,
  migrate: migrateFirst = !persistTo,
  production = false,
} = {}) {
  const mailbox = mail ? await startMailbox() : null;
  const bindings = { ...wranglerVars(), ...(production ? {} : devVars()), ...vars };
  if (mailbox) {
    Object.assign(bindings, {
      EMAIL_PROVIDER: "resend",
      EMAIL_API_BASE: mailbox.url,
      RESEND_API_KEY: "re_test_key",
      ...vars,
    });
  }
  if (secret !== null) bindings.JWT_SECRET = secret;
  if (signingKey !== null) bindings.JWT_SIGNING_KEY = JSON.stringify(signingKey);
  if (verifyKeys) bindings.JWT_VERIFY_KEYS = JSON.stringify(verifyKeys);
  const logText = { value: "" };
  const capture = (stream) => stream.on("data", (chunk) => (logText.value += chunk));
  const mf = new Miniflare({
    // Everything the worker logs, kept for the tests that read it (app.logs()).
    handleRuntimeStdio(stdout, stderr) {
      capture(stdout);
      capture(stderr);
    },
    modules: true,
    scriptPath: `${ROOT}build/index.js`,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: compatibilityDate(),
    d1Databases: { DB: persistTo ? wranglerDatabaseId() : `test-${randomUUID()}` },
    ...(persistTo && { d1Persist: `${persistTo}/v3/d1` }),
    bindings,
    host: "127.0.0.1",
    port: 0,
    ...miniflare,
  });
  const url = await mf.ready;
  if (migrateFirst) await migrate(await mf.getD1Database("DB"));
  return new TestApp(mf, url, mailbox, logText);
}

/**
 * A `spawnApp` for a test file that starts several apps: each is closed after the file's tests.
 * Pass node:test's `after`.
 */
export function appsClosedAfter(after) {
  const apps = [];
  after(() => Promise.all(apps.map((a) => a.close())));
  return async (options) => {
    const started = await spawnApp(options);
    apps.push(started);
    return started;
  };
}

/** A unique email for one test. */
export function uniqueEmail(tag = "user") {
  return `${tag}-${randomUUID().slice(0, 8)}@example.com`;
}

export const STRONG_PASSWORD = "correct horse battery staple";

export class TestApp {
  constructor(mf, url, mailbox, logText) {
    this.mf = mf;
    this.base = url.href.replace(/\/$/, "");
    this.mailbox = mailbox;
    this.logText = logText;
  }

  /** Everything the worker wrote to its log so far, as text. */
  logOutput() {
    return this.logText.value;
  }

  /**
   * The worker's log objects so far. workerd prints a logged object as JavaScript (Node's
   * inspect format: `{ level: 'info', ... }`), which is evaluated back into an object here.
   */
  logs() {
    return [...this.logText.value.matchAll(/^\{\n[\s\S]*?\n\}$/gm)].map((m) => runInNewContext(`(${m[0]})`));
  }

  /** The D1 binding, for tests that must look at what is stored (a hash's format, say). */
  database() {
    return this.mf.getD1Database("DB");
  }

  async close() {
    await this.mf.dispose();
    await this.mailbox?.close();
  }

  /**
   * Any request; `json` is sent as a JSON body, `body` as it is; `ip` as CF-Connecting-IP (the
   * client address Cloudflare's edge sets); `redirect: "manual"` to see a redirect itself. Returns
   * status, headers, body.
   */
  async request(method, path, { json, body, headers = {}, token, ip, redirect = "follow" } = {}) {
    const allHeaders = { ...headers };
    if (ip) allHeaders["CF-Connecting-IP"] = ip;
    if (json !== undefined) {
      allHeaders["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    if (token) allHeaders.Authorization = `Bearer ${token}`;
    const response = await fetch(`${this.base}${path}`, { method, headers: allHeaders, body, redirect });
    const text = await response.text();
    // Every answer must be one the API's document describes (api/openapi.json).
    const problems = contractProblems({ method, path, status: response.status, headers: response.headers, text });
    if (problems.length > 0) throw new Error(`response outside the OpenAPI document:\n${problems.join("\n")}`);
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /**
   * A request whose answer comes before its body has been read (a body over the size limit), sent
   * over node:http as a client that stops sending once the answer arrives, so the worker's close
   * after answering never meets a write of ours (fetch fails the whole request, "fetch failed",
   * when it does). `json` declares its Content-Length with `Expect: 100-continue`: its body goes
   * only once the server asks for it (RFC 9110 §10.1.1), and an answer first means it never goes.
   * `chunks` (strings) are streamed with no Content-Length and the request is left open after
   * them: they must cross the limit, and the answer must come without the body's end (none comes
   * within `ms`: an error). Returns status, headers, body, text, checked against the API's
   * document like `request`.
   */
  async requestStoppingAtAnswer(method, path, { json, chunks, headers = {}, ms = 30_000 } = {}) {
    const allHeaders = { ...headers };
    let body;
    if (json !== undefined) {
      body = Buffer.from(JSON.stringify(json));
      Object.assign(allHeaders, { "Content-Type": "application/json", "Content-Length": String(body.length), Expect: "100-continue" });
    }
    const { status, headers: received, text } = await new Promise((resolve, reject) => {
      const req = httpRequest(`${this.base}${path}`, { method, headers: allHeaders, agent: false });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`${method} ${path}: no answer within ${ms} ms`));
      }, ms);
      let answered = false;
      req.on("response", (res) => {
        answered = true;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, headers: res.headers, text });
          req.destroy(); // the rest of the body is never sent: this connection is done
        });
        // Cut off before its end (the connection reset under it): the answer did not arrive.
        res.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      // Once the answer is in, the connection's end is none of the answer's business.
      req.on("error", (error) => {
        if (answered) return;
        clearTimeout(timer);
        reject(error);
      });
      if (body) {
        req.on("continue", () => req.end(body));
        req.flushHeaders();
      } else {
        for (const chunk of chunks) req.write(chunk);
      }
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(received)) {
      for (const one of [value].flat()) responseHeaders.append(name, one);
    }
    const problems = contractProblems({ method, path, status, headers: responseHeaders, text });
    if (problems.length > 0) throw new Error(`response outside the OpenAPI document:\n${problems.join("\n")}`);
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status, headers: responseHeaders, body: parsed, text };
  }

  health() {
    return this.request("GET", "/health");
  }

  register(json) {
    return this.request("POST", "/register", { json });
  }

  login(email, password, { ip } = {}) {
    return this.request("POST", "/login", { json: { email, password }, ip });
  }

  refresh(refresh) {
    return this.request("POST", "/refresh", { json: { refresh } });
  }

  logout(token, { scope, refresh } = {}) {
    const query = scope ? `?scope=${scope}` : "";
    return this.request("POST", `/logout${query}`, { token, json: refresh ? { refresh } : undefined });
  }

  me(token) {
    return this.request("GET", "/me", { token });
  }

  updateProfile(token, json) {
    return this.request("PUT", "/update-profile", { token, json });
  }

  resetPassword(email) {
    return this.request("POST", "/reset-password", { json: { email } });
  }

  updatePassword(json) {
    return this.request("POST", "/update-password", { json });
  }

  verifyEmail(email, code) {
    return this.request("POST", "/verify-email", { json: { email, code } });
  }

  resendVerification(email) {
    return this.request("POST", "/resend-verification", { json: { email } });
  }

  changePassword(token, current_password, new_password, { ip } = {}) {
    return this.request("POST", "/change-password", { token, json: { current_password, new_password }, ip });
  }

  changeEmail(token, new_email, password) {
    return this.request("POST", "/change-email", { token, json: { new_email, password } });
  }

  confirmEmailChange(token, code) {
    return this.request("POST", "/confirm-email-change", { token, json: { code } });
  }

  sessions(token) {
    return this.request("GET", "/sessions", { token });
  }

  endSession(token, id) {
    return this.request("DELETE", `/sessions/${encodeURIComponent(id)}`, { token });
  }

  deleteMe(token, password, mfa_code) {
    return this.request("DELETE", "/me", { token, json: { password, ...(mfa_code && { mfa_code }) } });
  }

  /** Registers a fresh account and logs it in; returns its email, password and login body. */
  async signedInUser(tag = "user", password = STRONG_PASSWORD) {
    const email = uniqueEmail(tag);
    const registered = await this.register({ email, password, username: `${tag} name` });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${registered.text}`);
    const login = await this.login(email, password);
    if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
    return { email, password, ...login.body };
  }

  /**
   * A verified, signed-in user with TOTP on: its secret, recovery codes and enrolment answer.
   * `code(secret, steps)` is the authenticator app (tests/support/totp.mjs's `totpCode`).
   */
  async userWithFactor(tag, code, waitForStep) {
    const user = await this.verifiedUser(tag);
    const enrolled = await this.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
    if (enrolled.status !== 200) throw new Error(`enroll: ${enrolled.status} ${enrolled.text}`);
    await waitForStep();
    const confirmedWith = code(enrolled.body.secret);
    const confirmed = await this.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: confirmedWith } });
    if (confirmed.status !== 200) throw new Error(`confirm: ${confirmed.status} ${confirmed.text}`);
    return { ...user, secret: enrolled.body.secret, recovery: confirmed.body.recovery_codes, enrolled: enrolled.body, confirmedWith };
  }

  /** Like `signedInUser`, with the address verified by the mailed code (needs `mail: true`). */
  async verifiedUser(tag = "user", password = STRONG_PASSWORD) {
    const user = await this.signedInUser(tag, password);
    const code = await this.mailbox.codeFor(user.email, { kind: "verification" });
    const verified = await this.verifyEmail(user.email, code);
    if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${verified.text}`);
    return user;
  }
}
