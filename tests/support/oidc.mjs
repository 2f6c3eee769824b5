// A real OpenID Provider (panva's oidc-provider, v9) standing in for Google/Okta/… in tests:
// one confidential client, authorization code + PKCE (S256), and a scripted "browser" to sign in.
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";

/**
 * @typedef {{ sub: string, email?: string, email_verified?: boolean, name?: string }} AccountClaims
 * @typedef {{ keys: object[] }} PrivateJwks
 */

/** A fresh private JWKS with one RS256 and one ES256 signing key (each with a `kid` and `alg`). */
function generateJwks() {
  const key = (type, options, alg) => ({
    ...generateKeyPairSync(type, options).privateKey.export({ format: "jwk" }),
    kid: `${alg.toLowerCase()}-${randomUUID()}`,
    alg,
    use: "sig",
  });
  return {
    keys: [key("rsa", { modulusLength: 2048 }, "RS256"), key("ec", { namedCurve: "P-256" }, "ES256")],
  };
}

/**
 * Starts an OpenID Provider on http://127.0.0.1:<random port>.
 *
 * Endpoints are oidc-provider's defaults: discovery at `${issuer}/.well-known/openid-configuration`,
 * `/auth`, `/token`, `/me` (userinfo), `/jwks`. Login and consent are handled by a tiny interaction
 * handler of our own at `/interaction/:uid` (oidc-provider's devInteractions are off), driven by
 * `authorize()`, or in a real browser through its HTML forms.
 *
 * @param {object} [options]
 * @param {string} [options.clientId]
 * @param {string} [options.clientSecret]
 * @param {string[]} options.redirectUris exact redirect_uri strings the client may use
 * @param {Record<string, AccountClaims>} [options.accounts] login name → claims (`sub` is the account id)
 * @param {PrivateJwks} [options.jwks] private JWKS to sign with (default: a fresh RS256 + ES256 pair)
 * @param {"RS256"|"ES256"} [options.idTokenAlg] the client's id_token_signed_response_alg (default RS256)
 */
export async function startOidcProvider({
  clientId = "edge-auth-test",
  clientSecret = "test-client-secret",
  redirectUris,
  accounts = {},
  jwks = generateJwks(),
  idTokenAlg = "RS256",
} = {}) {
  if (!redirectUris?.length) throw new Error("startOidcProvider: redirectUris is required");
  const store = new Map(); // this provider's codes, sessions, grants…
  const bySub = new Map(Object.values(accounts).map((claims) => [claims.sub, claims]));

  // Listen first: the issuer must contain the port.
  let handler = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        scope: "openid email profile",
        // client_secret_post is accepted too: oidc-provider treats basic and post as interchangeable.
        token_endpoint_auth_method: "client_secret_basic",
        id_token_signed_response_alg: idTokenAlg,
      },
    ],
    jwks: structuredClone(jwks), // oidc-provider takes ownership of what it is given
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    scopes: ["openid", "email", "profile"],
    // Put scope-granted claims (email, name…) in the ID token too, not only in userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true }, // v9 only knows S256
    features: { devInteractions: { enabled: false } },
    // Fixed lifetimes and our own in-memory store keep oidc-provider's "you should change this" notices quiet.
    ttl: { AccessToken: 3600, AuthorizationCode: 600, IdToken: 3600, Interaction: 3600, Session: 3600, Grant: 3600 },
    adapter: (model) => new MapAdapter(store, model),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const claims = bySub.get(sub);
      return claims && { accountId: sub, claims: async () => ({ ...claims }) };
    },
    // Let errors reach the test as responses, not as noise on stderr.
    renderError(ctx, out) {
      ctx.type = "json";
      ctx.body = out;
    },
  });
  provider.on("server_error", (_ctx, error) => console.error("oidc-provider server_error:", error));

  const callback = provider.callback();
  handler = (req, res) => {
    const match = /^\/interaction\/([^/?]+)(\/[^?]*)?/.exec(req.url);
    if (!match) return callback(req, res);
    interaction(provider, accounts, req, res, match[2] ?? "").catch((error) => {
      res.writeHead(400, { "Content-Type": "text/plain" }).end(String(error?.message ?? error));
    });
  };

  return {
    issuer,
    port,
    clientId,
    clientSecret,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    /** The private JWKS the provider signs with (JWKs, usable with jose's importJWK). */
    keys: structuredClone(jwks),
    /** The underlying oidc-provider instance, for anything exotic. */
    provider,
    /** Stops the server (and drops keep-alive connections). */
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    /**
     * Plays the browser: follows `authorizationUrl` through login (as `accounts[login]`) and consent
     * (granting what is asked, or aborting when `consent` is false), with manual redirects and a
     * hand-kept cookie jar. Stops at the first redirect into one of `redirectUris` and returns that
     * URL (with `code`, `state`, `iss`, or `error=access_denied`, `state`, `iss`). Throws on any
     * other non-redirect response (e.g. an error page for a bad redirect_uri).
     * @param {string} authorizationUrl
     * @param {{ login: string, consent?: boolean }} options
     * @returns {Promise<string>}
     */
    async authorize(authorizationUrl, { login, consent = true } = {}) {
      const jar = new CookieJar();
      let url = authorizationUrl;
      for (let hop = 0; hop < 20; hop++) {
        const res = await fetch(url, { redirect: "manual", headers: { cookie: jar.header(url) } });
        jar.store(url, res.headers.getSetCookie());
        if (res.status >= 300 && res.status < 400) {
          url = new URL(res.headers.get("location"), url).href;
          if (redirectUris.some((uri) => url.startsWith(uri))) return url;
          continue;
        }
        const body = await res.text();
        if (res.status !== 200 || !new URL(url).pathname.startsWith("/interaction/")) {
          throw new Error(`authorize: unexpected ${res.status} from ${url}: ${body.slice(0, 500)}`);
        }
        // Our interaction page: JSON naming the prompt; "submit the form" it stands for.
        const { prompt } = JSON.parse(body);
        if (prompt === "consent" && !consent) {
          url = `${url}/abort`;
          continue;
        }
        const form = prompt === "login" ? { login } : {};
        const submitted = await fetch(url, {
          method: "POST",
          redirect: "manual",
          headers: { cookie: jar.header(url), "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(form),
        });
        jar.store(url, submitted.headers.getSetCookie());
        if (submitted.status !== 303) {
          throw new Error(`authorize: ${prompt} failed (${submitted.status}): ${await submitted.text()}`);
        }
        url = new URL(submitted.headers.get("location"), url).href;
      }
      throw new Error("authorize: too many redirects");
    },
  };
}

/**
 * Our interaction endpoints, standing in for the provider's login/consent pages:
 *   GET  /interaction/:uid        → {"uid","prompt"} (prompt is "login" or "consent"); to a browser
 *                                   (Accept: text/html) the login or consent form instead
 *   POST /interaction/:uid        → login (form field `login`, an accounts key) or consent (grants all asked)
 *   GET  /interaction/:uid/abort  → finishes with error=access_denied
 */
async function interaction(provider, accounts, req, res, sub) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  if (req.method === "GET" && sub === "") {
    // A browser (asking for HTML) gets the forms a person would click through; authorize() JSON.
    if (/text\/html/.test(req.headers.accept ?? "")) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      res.end(interactionPage(details.uid, prompt.name, params.client_id, Object.keys(accounts)));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
    res.end(JSON.stringify({ uid: details.uid, prompt: prompt.name }));
    return;
  }
  if (req.method === "GET" && sub === "/abort") {
    const result = { error: "access_denied", error_description: "End-User aborted interaction" };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  if (req.method !== "POST" || sub !== "") throw new Error(`no such interaction route: ${req.method} ${req.url}`);

  if (prompt.name === "login") {
    const form = new URLSearchParams(await readBody(req));
    const account = accounts[form.get("login")];
    if (!account) throw new Error(`unknown login ${JSON.stringify(form.get("login"))}`);
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === "consent") {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(" "));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    return;
  }
  throw new Error(`unsupported prompt ${prompt.name}`);
}

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

/**
 * The HTML of an interaction, for a real browser: the login form (field `login`: a name of
 * `accounts`, typed or picked) or the consent form (Allow posts, Cancel aborts), posting to the
 * same `/interaction/:uid` endpoint authorize() posts to.
 */
function interactionPage(uid, prompt, clientId, logins) {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  const body =
    prompt === "login"
      ? `<h1>Sign in to the test provider</h1>
<form method="post" action="${action}" id="login">
  <label>Login <input name="login" id="login-name" list="logins" autocomplete="off" required></label>
  <datalist id="logins">${logins.map((l) => `<option value="${escapeHtml(l)}">`).join("")}</datalist>
  <button id="sign-in">Sign in</button>
</form>`
      : `<h1>Allow ${escapeHtml(clientId)}?</h1>
<p>It asks for your email address and profile.</p>
<form method="post" action="${action}" id="consent"><button id="allow">Allow</button></form>
<p><a id="cancel" href="${action}/abort">Cancel</a></p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider: ${escapeHtml(prompt)}</title>
<link rel="icon" href="data:,"></head><body data-prompt="${escapeHtml(prompt)}">${body}</body></html>`;
}

/** The smallest oidc-provider storage adapter: entries of one model in a shared Map, expiring lazily. */
class MapAdapter {
  constructor(store, model) {
    this.store = store;
    this.model = model;
  }
  #key(id) {
    return `${this.model}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    const { store } = this;
    store.set(this.#key(id), { payload, expires: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.uid) store.set(`${this.model}:uid:${payload.uid}`, id);
    if (payload.userCode) store.set(`${this.model}:userCode:${payload.userCode}`, id);
  }
  async find(id) {
    const entry = this.store.get(this.#key(id));
    if (!entry || entry.expires < Date.now()) return undefined;
    return structuredClone(entry.payload);
  }
  async findByUid(uid) {
    return this.find(this.store.get(`${this.model}:uid:${uid}`));
  }
  async findByUserCode(userCode) {
    return this.find(this.store.get(`${this.model}:userCode:${userCode}`));
  }
  async consume(id) {
    const entry = this.store.get(this.#key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    this.store.delete(this.#key(id));
  }
  async revokeByGrantId(grantId) {
    for (const [key, entry] of this.store) if (entry.payload?.grantId === grantId) this.store.delete(key);
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => resolve(raw));
    req.on("error", reject);
  });
}

/** Just enough of a cookie jar for one origin: name/path → value, honouring Path and deletions. */
class CookieJar {
  #cookies = new Map();

  /** Records the Set-Cookie headers of a response to `url`. */
  store(url, setCookies) {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = Object.fromEntries(
        attributes.map((a) => [a.split("=")[0].toLowerCase(), a.split("=").slice(1).join("=")]),
      );
      const path = attr.path || "/";
      const expired = attr["max-age"] === "0" || (attr.expires && Date.parse(attr.expires) <= Date.now());
      if (expired || value === "") this.#cookies.delete(`${name};${path}`);
      else this.#cookies.set(`${name};${path}`, { name, value, path });
    }
  }

  /** The Cookie header to send with a request to `url`. */
  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith("/") ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join("; ");
  }
}
