// A local HTTP server standing in for GitHub's OAuth web flow and the two REST calls a sign-in needs.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

/**
 * @typedef {{ email: string, primary?: boolean, verified?: boolean, visibility?: "public"|"private"|null }} GitHubEmail
 * @typedef {{ id: number, login: string, name?: string|null, email?: string|null, emails?: GitHubEmail[] }} GitHubUser
 *   `email` is the public profile email /user reports (GitHub's default: null).
 * @typedef {{ method: string, path: string, query: Record<string,string>, body?: Record<string,string>, headers: Record<string,string|undefined> }} RecordedRequest
 */

/**
 * Starts the stand-in on http://127.0.0.1:<random port>.
 *
 * Web (webBase):
 *   GET  /login/oauth/authorize     302 → redirect_uri?code=…&state=… for the user named by the `login`
 *                                   query parameter a test appends (default: the first user), or
 *                                   ?error=access_denied&state=… when `deny=1`.
 *   POST /login/oauth/access_token  form or JSON body (or HTTP Basic client auth); checks client
 *                                   credentials, single-use code, redirect_uri and the PKCE verifier
 *                                   (S256). Always 200, like GitHub: `{access_token, token_type, scope}`
 *                                   or `{error, error_description}`. JSON only with `Accept: application/json`,
 *                                   form-encoded otherwise (as GitHub does).
 * API (apiBase = webBase + "/api"):
 *   GET  /user, /user/emails        `Authorization: Bearer|token <t>`; 401 on a bad token, 403 without a
 *                                   User-Agent header (GitHub rejects those), 404 for /user/emails
 *                                   unless the token has the `user:email` (or `user`) scope.
 *
 * @param {object} options
 * @param {string} options.clientId
 * @param {string} options.clientSecret
 * @param {Record<string, GitHubUser>} options.users login → user
 */
export async function startGitHubStandIn({ clientId, clientSecret, users }) {
  /** @type {RecordedRequest[]} */
  const requests = [];
  const codes = new Map(); // code → { login, redirectUri, scope, challenge, method }
  const tokens = new Map(); // access token → { login, scope }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://stand-in");
      const raw = await readBody(req);
      const body = raw ? parseBody(raw, req.headers["content-type"]) : undefined;
      const headers = { authorization: req.headers.authorization, accept: req.headers.accept, "user-agent": req.headers["user-agent"] };
      requests.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body, headers });
      const route = `${req.method} ${url.pathname}`;
      if (route === "GET /login/oauth/authorize") return authorize(url.searchParams, res);
      if (route === "POST /login/oauth/access_token") return accessToken(req, body ?? {}, res);
      if (route === "GET /api/user" || route === "GET /api/user/emails") return api(req, url.pathname, res);
      json(res, 404, { message: "Not Found" });
    } catch (error) {
      json(res, 500, { message: String(error?.message ?? error) });
    }
  });

  function authorize(query, res) {
    const redirectUri = query.get("redirect_uri");
    if (query.get("client_id") !== clientId || !redirectUri) {
      res.writeHead(400, { "Content-Type": "text/plain" }).end("unknown client_id or missing redirect_uri");
      return;
    }
    const back = new URL(redirectUri);
    if (query.get("deny") === "1") {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "The user has denied your application access.");
    } else {
      const login = query.get("login") ?? Object.keys(users)[0];
      if (!users[login]) {
        res.writeHead(400, { "Content-Type": "text/plain" }).end(`unknown login ${login}`);
        return;
      }
      const method = query.get("code_challenge_method") ?? (query.has("code_challenge") ? "plain" : undefined);
      if (method && method !== "S256") {
        res.writeHead(400, { "Content-Type": "text/plain" }).end("code_challenge_method must be S256");
        return;
      }
      const code = randomBytes(10).toString("hex");
      const scope = (query.get("scope") ?? "").split(/[\s,]+/).filter(Boolean).join(",");
      codes.set(code, { login, redirectUri, scope, challenge: query.get("code_challenge") });
      back.searchParams.set("code", code);
    }
    if (query.has("state")) back.searchParams.set("state", query.get("state"));
    res.writeHead(302, { Location: back.href }).end();
  }

  function accessToken(req, body, res) {
    const reply = (payload) => {
      if (/application\/json/.test(req.headers.accept ?? "")) return json(res, 200, payload);
      res.writeHead(200, { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" });
      res.end(new URLSearchParams(payload).toString());
    };
    let { client_id: id, client_secret: secret } = body;
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
    if (basic) [id, secret] = Buffer.from(basic[1], "base64").toString().split(/:(.*)/s);
    if (id !== clientId || !equal(secret, clientSecret)) {
      return reply({ error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." });
    }
    const grant = codes.get(body.code);
    codes.delete(body.code); // single use, even when the exchange fails
    const badCode = { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." };
    if (!grant) return reply(badCode);
    if (body.redirect_uri !== undefined && body.redirect_uri !== grant.redirectUri) {
      return reply({ error: "redirect_uri_mismatch", error_description: "The redirect_uri MUST match the registered callback URL for this application." });
    }
    if (grant.challenge !== undefined && grant.challenge !== null) {
      const verifier = body.code_verifier ?? "";
      const expected = createHash("sha256").update(verifier).digest("base64url");
      if (!verifier || !equal(expected, grant.challenge)) return reply(badCode);
    }
    const token = `gho_${randomBytes(18).toString("hex")}`;
    tokens.set(token, { login: grant.login, scope: grant.scope });
    reply({ access_token: token, token_type: "bearer", scope: grant.scope });
  }

  function api(req, path, res) {
    if (!req.headers["user-agent"]) {
      res.writeHead(403, { "Content-Type": "text/plain" });
      res.end("Request forbidden by administrative rules. Please make sure your request has a User-Agent header.");
      return;
    }
    const bearer = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? "");
    const session = bearer && tokens.get(bearer[1]);
    if (!session) return json(res, 401, { message: "Bad credentials", status: "401" });
    const user = users[session.login];
    if (path === "/api/user") {
      return json(res, 200, { id: user.id, login: user.login, name: user.name ?? null, email: user.email ?? null });
    }
    const scopes = session.scope.split(",");
    if (!scopes.includes("user:email") && !scopes.includes("user")) return json(res, 404, { message: "Not Found", status: "404" });
    json(
      res,
      200,
      (user.emails ?? []).map(({ email, primary = false, verified = false, visibility = null }) => ({ email, primary, verified, visibility })),
    );
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    /** Origin serving /login/oauth/authorize and /login/oauth/access_token. */
    webBase: origin,
    /** Base serving /user and /user/emails (i.e. `${apiBase}/user`). */
    apiBase: `${origin}/api`,
    /** Every request received, in order. */
    requests,
    /** Stops the server (and drops keep-alive connections). */
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function json(res, status, payload) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify(payload));
}

function equal(a, b) {
  const x = Buffer.from(String(a ?? ""));
  const y = Buffer.from(String(b ?? ""));
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseBody(raw, contentType = "") {
  if (/json/.test(contentType)) return JSON.parse(raw);
  return Object.fromEntries(new URLSearchParams(raw));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => resolve(raw));
    req.on("error", reject);
  });
}
