// The benchmark's peer: better-auth in a Worker on D1 (see auth.js). Its routes are its own, under
// /api/auth: sign-up/email, sign-in/email, get-session, update-user, and /ok, its trivial route.
import { createAuth } from "./auth.js";

let auth; // built once per isolate, as ours parses its configuration once

export default {
  async fetch(request, env) {
    auth ??= createAuth(env);
    return auth.handler(request);
  },
};
