// Helpers of tests/ways_in.test.mjs: a worker wired to a real OpenID provider (two provider
// names on one issuer) whose accounts a test fills in as it needs them, the PKCE pair of an app,
// the link flow as a client runs it, the admin key, passkeys with the software authenticator, and
// rows planted directly in D1 (what an older worker, or a bug, could have left behind).
import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { freePort } from "./ports.mjs";
import { startOidcProvider } from "./oidc.mjs";
import { SoftAuthenticator, cborHead } from "./authenticator.mjs";

export const APP_RETURN = "https://app.example/auth/done";
export const ORIGIN = "https://app.example.com";
export const RP = { RP_ID: "example.com", RP_ORIGINS: ORIGIN, RP_NAME: "Example" };
export const OPS_KEY = "ops-key-0123456789-abcdefghijklmnop";
export const ADMIN = { ADMIN_API_KEYS: `ops:${OPS_KEY}` };
/** The two provider names configured on the one OpenID provider (distinctive words for the mail checks). */
export const PROVIDER = "acme";
export const OTHER_PROVIDER = "beta";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client address of its own for one flow (so no per-address cap of one test touches another's). */
export function randomIp() {
  const octet = () => 1 + Math.floor(Math.random() * 254);
  return `10.${octet()}.${octet()}.${octet()}`;
}

/** An app's PKCE pair (S256). */
export function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** A request of the admin API with the operator's key. */
export function admin(target, method, path, { json, ip, headers = {} } = {}) {
  return target.request(method, path, { json, ip, headers: { ...headers, Authorization: `Bearer ${OPS_KEY}` } });
}

/** The account id of `token`'s user. */
export async function idOf(target, token) {
  const me = await target.me(token);
  assert.equal(me.status, 200, me.text);
  return me.body.id;
}

/**
 * Polls `read` until `done(value)`: for what the worker stores after its answer. The bound (~60 s)
 * is only a backstop for a run that would otherwise hang; a loaded machine is slower, never wrong.
 */
export async function eventually(read, done) {
  let value;
  for (let i = 0; i < 600; i++) {
    value = await read();
    if (done(value)) return value;
    await sleep(100);
  }
  return value;
}

/** A mail to `address` whose subject and text match every pattern (waiting up to `ms`, a backstop), or undefined. */
export async function mailMatching(mailbox, address, patterns, { ms = 60_000 } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = mailbox.messages.find((m) => {
      if (!m.to.includes(address)) return false;
      const all = `${m.subject}\n${m.text ?? ""}\n${m.html ?? ""}`;
      return patterns.every((p) => p.test(all));
    });
    if (found || Date.now() > deadline) return found;
    await sleep(25);
  }
}

/**
 * An OpenID provider with `slots` accounts whose claims a test sets when it needs one
 * (`account(claims)` returns the login name), and a worker (made by `spawn`, the test file's
 * appsClosedAfter) whose providers `acme` and `beta` both use it. Returns the worker, the provider
 * and the flow helpers bound to them.
 */
export async function socialApp(spawn, { vars = {}, miniflare = {}, mail = true, slots = 60, stopping } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const accounts = {};
  for (let i = 0; i < slots; i++) accounts[`slot${i}`] = { sub: `h4-${randomUUID()}` };
  const oidc = await startOidcProvider({
    redirectUris: [`${base}/oauth/${PROVIDER}/callback`, `${base}/oauth/${OTHER_PROVIDER}/callback`],
    accounts,
  });
  stopping?.push(oidc);
  const target = await spawn({
    mail,
    miniflare: { port, ...miniflare },
    vars: {
      OIDC_PROVIDERS: `${PROVIDER},${OTHER_PROVIDER}`,
      OIDC_ACME_ISSUER: oidc.issuer,
      OIDC_ACME_CLIENT_ID: oidc.clientId,
      OIDC_ACME_CLIENT_SECRET: oidc.clientSecret,
      OIDC_BETA_ISSUER: oidc.issuer,
      OIDC_BETA_CLIENT_ID: oidc.clientId,
      OIDC_BETA_CLIENT_SECRET: oidc.clientSecret,
      OAUTH_REDIRECT_URLS: APP_RETURN,
      ...RP,
      ...ADMIN,
      ...vars,
    },
  });
  let next = 0;
  return new SocialFlows(target, oidc, () => {
    if (next >= slots) throw new Error("socialApp: out of provider accounts; raise `slots`");
    return `slot${next++}`;
  }, accounts);
}

class SocialFlows {
  constructor(target, oidc, nextSlot, accounts) {
    this.target = target;
    this.oidc = oidc;
    this.nextSlot = nextSlot;
    this.accounts = accounts;
  }

  /**
   * A provider account with these claims (`email`, `email_verified`, `name`; a claim left out is
   * absent from the ID token): its login name at the provider.
   */
  account(claims) {
    const login = this.nextSlot();
    const slot = this.accounts[login];
    for (const key of Object.keys(slot)) if (key !== "sub") delete slot[key];
    Object.assign(slot, claims);
    return login;
  }

  /** `GET /oauth/{provider}/start`: the raw answer. */
  startRaw(challenge, { provider = PROVIDER, ip = randomIp() } = {}) {
    const query = new URLSearchParams({ redirect_to: APP_RETURN, code_challenge: challenge, code_challenge_method: "S256" });
    return this.target.request("GET", `/oauth/${provider}/start?${query}`, { redirect: "manual", ip });
  }

  /** Plays the browser at our callback: where the worker sends it back to (a URL of the app). */
  async callback(providerAnswer) {
    const url = new URL(providerAnswer);
    const back = await this.target.request("GET", `${url.pathname}${url.search}`, { redirect: "manual" });
    assert.equal(back.status, 302, back.text);
    return new URL(back.headers.get("location"));
  }

  /** A whole provider sign-in up to the app's page: `{landed, verifier}`. */
  async signIn(login, { provider = PROVIDER } = {}) {
    const { verifier, challenge } = pkce();
    const started = await this.startRaw(challenge, { provider });
    assert.equal(started.status, 302, started.text);
    const landed = await this.callback(await this.oidc.authorize(started.headers.get("location"), { login }));
    return { landed, verifier };
  }

  exchange(code, code_verifier) {
    return this.target.request("POST", "/oauth/token", { json: { code, code_verifier } });
  }

  /** A provider sign-in through to the login answer (asserted 200). */
  async signedIn(login, options) {
    const { landed, verifier } = await this.signIn(login, options);
    const code = landed.searchParams.get("code");
    assert.ok(code, `a one-time code: ${landed}`);
    const answer = await this.exchange(code, verifier);
    assert.equal(answer.status, 200, answer.text);
    return answer.body;
  }

  /** `POST /oauth/{provider}/link` as the new API has it: the raw answer. */
  startLink(token, { provider = PROVIDER, challenge = pkce().challenge, ip, ...credentials } = {}) {
    return this.target.request("POST", `/oauth/${provider}/link`, {
      token,
      ip,
      json: { redirect_to: APP_RETURN, code_challenge: challenge, code_challenge_method: "S256", ...credentials },
    });
  }

  /**
   * A link as far as the app's page: started by `token` (with `credentials`: password, mfa_code),
   * signed in at the provider as `login`, from the app's client address `ip`. Returns
   * `{landed, verifier, ip}`; `landed` carries `link_code` and `provider`, or `error`.
   */
  async linkUpToApp(token, login, { provider = PROVIDER, ip = randomIp(), ...credentials } = {}) {
    const { verifier, challenge } = pkce();
    const started = await this.startLink(token, { provider, challenge, ip, ...credentials });
    assert.equal(started.status, 200, started.text);
    const landed = await this.callback(await this.oidc.authorize(started.body.url, { login }));
    return { landed, verifier, ip };
  }

  /** `POST /identities {code, code_verifier}`: completes a link. */
  completeLink(token, code, code_verifier, { ip } = {}) {
    return this.target.request("POST", "/identities", { token, ip, json: { code, code_verifier } });
  }

  /** A whole link (asserted): the answer of `POST /identities`. */
  async linked(token, login, options = {}) {
    const { landed, verifier, ip } = await this.linkUpToApp(token, login, options);
    const code = landed.searchParams.get("link_code");
    assert.ok(code, `a link_code: ${landed}`);
    const done = await this.completeLink(token, code, verifier, { ip });
    assert.equal(done.status, 200, done.text);
    return done.body;
  }

  /** The providers `GET /identities` lists for `token`'s user (asserted 200). */
  async providers(token) {
    const listed = await this.target.request("GET", "/identities", { token });
    assert.equal(listed.status, 200, listed.text);
    return listed.body.identities.map((i) => i.provider);
  }
}

/** A passkey added to a signed-in user (`credentials`: password, mfa_code): `{authenticator, id}`. */
export async function addPasskey(target, token, credentials = {}) {
  const authenticator = new SoftAuthenticator();
  const options = await target.request("POST", "/passkeys/register/options", { token, json: credentials });
  assert.equal(options.status, 200, options.text);
  const added = await target.request("POST", "/passkeys/register", { token, json: { credential: authenticator.create(options.body, { origin: ORIGIN }), name: "Laptop" } });
  assert.equal(added.status, 201, added.text);
  return { authenticator, id: added.body.id };
}

/** A usernameless passkey sign-in: the raw answer. `bend(credential)` may change the assertion. */
export async function passkeySignIn(target, authenticator, bend = (c) => c) {
  const options = await target.request("POST", "/passkeys/login/options", { json: {} });
  assert.equal(options.status, 200, options.text);
  const credential = bend(authenticator.get(options.body, { origin: ORIGIN }));
  return target.request("POST", "/passkeys/login", { json: { credential } });
}

/** An account made by a passkey sign-up (no password): its login answer and authenticator. */
export async function passkeySignUp(target, email) {
  const options = await target.request("POST", "/passkeys/signup/options", { json: { email } });
  assert.equal(options.status, 200, options.text);
  const code = await target.mailbox.codeFor(email, { kind: "verification" });
  const authenticator = new SoftAuthenticator();
  const done = await target.request("POST", "/passkeys/signup", { json: { code, credential: authenticator.create(options.body, { origin: ORIGIN }) } });
  assert.equal(done.status, 200, done.text);
  return { ...done.body, authenticator };
}

const now = () => Math.floor(Date.now() / 1000);
const token = () => randomBytes(16).toString("hex");

/**
 * Plants, for account `userId`, one row of every way in and every pending ceremony, as an older
 * worker (or a squatter before the rule) could have left them: a provider identity, a passkey,
 * TOTP on with a recovery code, a passkey registration and a link in flight. `totp: false` leaves
 * the factor out. Returns the row keys.
 */
export async function plantWaysIn(target, userId, { provider = PROVIDER, totp = true } = {}) {
  const db = await target.database();
  const at = now();
  const keys = { subject: `planted-${token()}`, credential: Buffer.from(randomBytes(16)).toString("base64url"), challenge: token(), state: token() };
  const statements = [
    db.prepare("INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5)").bind(provider, keys.subject, userId, `squatter-${token()}@example.net`, at),
    db.prepare(
      "INSERT INTO passkeys (credential_id, user_id, public_key, algorithm, sign_count, backup_eligible, backed_up, aaguid, name, created_at) VALUES (?1, ?2, ?3, -7, 0, 0, 0, ?4, 'Squatter key', ?5)",
    ).bind(keys.credential, userId, Buffer.from(randomBytes(77)).toString("base64url"), "00000000-0000-0000-0000-000000000000", at),
    db.prepare("INSERT INTO passkey_challenges (digest, ceremony, user_id, email, expires_at) VALUES (?1, 'register', ?2, NULL, ?3)").bind(keys.challenge, userId, at + 300),
    db.prepare(
      "INSERT INTO oauth_states (digest, provider, nonce, verifier, redirect_to, app_challenge, link_user_id, expires_at) VALUES (?1, ?2, 'n', 'v', ?3, 'c', ?4, ?5)",
    ).bind(keys.state, provider, APP_RETURN, userId, at + 600),
  ];
  if (totp) {
    statements.push(
      db.prepare("INSERT INTO totp_factors (user_id, secret_sealed, created_at, enabled_at) VALUES (?1, 'sealed-by-squatter', ?2, ?2)").bind(userId, at),
      db.prepare("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?1, ?2)").bind(userId, token()),
    );
  }
  await db.batch(statements);
  return keys;
}

/** How many rows of each way in and pending ceremony account `userId` has. */
export async function waysIn(target, userId) {
  const db = await target.database();
  const count = async (sql) => (await db.prepare(sql).bind(userId).first()).n;
  return {
    identities: await count("SELECT COUNT(*) AS n FROM identities WHERE user_id = ?1"),
    passkeys: await count("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = ?1"),
    totp_factors: await count("SELECT COUNT(*) AS n FROM totp_factors WHERE user_id = ?1"),
    recovery_codes: await count("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?1"),
    passkey_challenges: await count("SELECT COUNT(*) AS n FROM passkey_challenges WHERE user_id = ?1"),
    oauth_states: await count("SELECT COUNT(*) AS n FROM oauth_states WHERE link_user_id = ?1"),
  };
}

export const NONE_LEFT = { identities: 0, passkeys: 0, totp_factors: 0, recovery_codes: 0, passkey_challenges: 0, oauth_states: 0 };

/** The JSON payload of a JWT, decoded (not verified). */
export function payloadOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url"));
}

/** Minimal CBOR pieces for a hand-made attestation object. */
export const cbor = {
  text(value) {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([cbor.head(3, bytes.length), bytes]);
  },
  bytes(value) {
    return Buffer.concat([cbor.head(2, value.length), value]);
  },
  head: cborHead,
  /** The head of an array declaring `count` items, with an 8-byte argument (0x9b). */
  hugeArrayHead(count = 2n ** 32n) {
    const b = Buffer.alloc(9);
    b[0] = 0x9b;
    b.writeBigUInt64BE(count, 1);
    return b;
  },
};
