// What `wrangler deploy` ships: no console mail or any-origin CORS, the routes that need a
// missing setting answer 500 naming it, and what `npm run dev` serves.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { appsClosedAfter } from "./support/app.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NEW_PASSWORD = "a brand new passphrase";

const app = appsClosedAfter(after);

// ---- 2. What `wrangler deploy` ships is safe -------------------------------------------------------

test("wrangler.toml's [vars] ship neither console mail nor any-origin CORS", () => {
  const toml = readFileSync(`${ROOT}wrangler.toml`, "utf8");
  const vars = toml.split(/^\[vars\]$/m)[1].split(/^\[/m)[0];
  const active = vars.split("\n").filter((line) => !line.trim().startsWith("#"));
  assert.equal(active.some((line) => /^EMAIL_PROVIDER\s*=/.test(line)), false);
  assert.equal(active.some((line) => /^CORS_ALLOWED_ORIGINS\s*=/.test(line)), false);
  const example = readFileSync(`${ROOT}.dev.vars.example`, "utf8");
  assert.match(example, /^EMAIL_PROVIDER="console"$/m, "local development keeps console mail");
  assert.match(example, /^CORS_ALLOWED_ORIGINS="\*"$/m);
});

test("deployed without EMAIL_PROVIDER, the mail routes answer 500 naming it and store no code", async () => {
  const production = await app({ production: true });
  const user = await production.signedInUser("prod");
  for (const response of [
    await production.resetPassword(user.email),
    await production.updatePassword({ email: user.email, otp: "123456", new_password: NEW_PASSWORD }),
  ]) {
    assert.equal(response.status, 500, response.text);
    assert.equal(response.body.error, "server_misconfigured");
    assert.equal(response.body.variable, "EMAIL_PROVIDER");
  }
  const stored = await (await production.database()).prepare("SELECT COUNT(*) AS n FROM email_codes WHERE purpose = 'reset'").first();
  assert.equal(stored.n, 0, "no code exists that nobody was sent");
  assert.equal((await production.me(user.token)).status, 200, "the other routes work");
});

test("deployed without CORS_ALLOWED_ORIGINS, no origin gets CORS headers", async () => {
  const production = await app({ production: true });
  const response = await production.request("GET", "/health", { headers: { Origin: "http://localhost:5173" } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-origin"), null);
  const preflight = await production.request("OPTIONS", "/login", { headers: { Origin: "http://localhost:5173" } });
  assert.equal(preflight.headers.get("access-control-allow-origin"), null);
});

test("npm run dev's settings still serve the seed's React client on http://localhost:5173", async () => {
  const dev = await app({});
  const response = await dev.request("GET", "/health", { headers: { Origin: "http://localhost:5173" } });
  assert.equal(response.headers.get("access-control-allow-origin"), "http://localhost:5173");
  assert.equal(response.headers.get("access-control-allow-credentials"), "true");
});

test("a server_misconfigured answer carries CORS headers, so the browser can read it", async () => {
  const broken = await app({ production: true, secret: null, vars: { CORS_ALLOWED_ORIGINS: "https://app.example" } });
  const response = await broken.request("GET", "/health", { headers: { Origin: "https://app.example" } });
  assert.equal(response.status, 500);
  assert.equal(response.body.variable, "JWT_SECRET");
  assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example");
  const other = await broken.request("GET", "/health", { headers: { Origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});
