// The settings that turn on every capability a deployment may leave off (src/core/meta/openapi.rs):
// the admin API, passkeys, social sign-in and the OAuth 2.1 / OpenID provider. Without them (spawnApp's defaults) all three are
// off, their routes answer 404, and the worker leaves them out of the /openapi.json it serves.

import { RSA_KEY } from "./provider.mjs";

/** The admin API key of EVERYTHING_ON, as `ADMIN_API_KEYS` lists it under the id `fuzz`. */
export const ADMIN_KEY = "fuzz-admin-key-0123456789-abcdefghij";

/** spawnApp `vars` with every capability on. */
export const EVERYTHING_ON = {
  // GitHub needs no discovery (its start only builds a URL; the provider is never reached).
  GITHUB_CLIENT_ID: "fuzz-client",
  GITHUB_CLIENT_SECRET: "fuzz-secret",
  GITHUB_WEB_BASE: "http://127.0.0.1:9",
  GITHUB_API_BASE: "http://127.0.0.1:9",
  OAUTH_REDIRECT_URLS: "https://app.example/auth/done",
  // Passkeys need only their relying party.
  RP_ID: "localhost",
  RP_ORIGINS: "http://localhost:5173",
  ADMIN_API_KEYS: `fuzz:${ADMIN_KEY}`,
  // The provider needs the RSA key of its ID tokens.
  OAUTH_PROVIDER: "true",
  OAUTH_DYNAMIC_REGISTRATION: "true",
  ID_TOKEN_RSA_KEY: JSON.stringify(RSA_KEY),
};
