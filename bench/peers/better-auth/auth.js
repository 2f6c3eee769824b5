// better-auth as the benchmark's peer configures it: email and password (no verification mail),
// the bearer plugin, its default password hash (scrypt, N = 2^14, r = 16, p = 1: 32 MiB, through
// node:crypto under nodejs_compat), its D1 support (`database: env.DB`, a Kysely D1 dialect of its
// own). Shared by the worker (index.js) and the schema generator (schema.mjs).
import { betterAuth } from "better-auth";
import { bearer } from "better-auth/plugins";

/** The options of the peer, given the D1 binding, the secret and the base URL. */
export const authOptions = ({ database, secret, baseURL }) => ({
  database,
  secret,
  baseURL,
  emailAndPassword: { enabled: true, requireEmailVerification: false },
  plugins: [bearer()],
  // As in ours for the benchmark: one load generator is one IP, so no per-IP limit.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
});

export const createAuth = (env) =>
  betterAuth(authOptions({ database: env.DB, secret: env.BETTER_AUTH_SECRET, baseURL: env.BETTER_AUTH_URL }));
