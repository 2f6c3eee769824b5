// The client: every route as a typed method, the tab's session, and a fetch for the app's own API.
import { organizationClaims } from "./claims.ts";
import type { Context } from "./context.ts";
import { Http, type FetchLike } from "./http.ts";
import type { Clock } from "./refresh.ts";
import { accountRoutes } from "./routes/account.ts";
import { authRoutes } from "./routes/auth.ts";
import { emailRoutes } from "./routes/email.ts";
import { metaRoutes } from "./routes/meta.ts";
import { mfaRoutes } from "./routes/mfa.ts";
import { organizationRoutes } from "./routes/organizations.ts";
import { passkeyRoutes } from "./routes/passkeys.ts";
import { recoveryRoutes } from "./routes/recovery.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { socialRoutes, type FlowStorage } from "./routes/social.ts";
import { Session, type SessionEvent } from "./session.ts";
import { defaultStore, type SessionStore } from "./storage.ts";
import type { OrganizationClaims, User } from "./types.ts";

export interface ClientOptions {
  /** The API's origin (and path prefix, if any), e.g. `https://auth.example.com`. */
  baseUrl: string;
  /** Where the session is kept; default `localStorage` where there is one, else memory. */
  store?: SessionStore;
  /**
   * Where a social sign-in's PKCE verifier waits while the browser is at the provider; default
   * `sessionStorage` (this tab only), else memory.
   */
  flowStorage?: FlowStorage;
  /**
   * Where an email sign-in link's PKCE verifier waits until the link is opened; default
   * `localStorage` (any tab of this browser: the mail's link usually opens a new one), else memory.
   */
  linkStorage?: FlowStorage;
  /** The `fetch` to call with; default the global one. */
  fetch?: FetchLike;
  clock?: Clock;
  /** Refresh this long before the access token expires (default 30 s, at most a quarter of its life). */
  refreshLeewayMs?: number;
  /** After a failed refresh, this long without another try (default 5 s). */
  refreshCooldownMs?: number;
}

export function createClient(options: ClientOptions) {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const http = new Http(options.baseUrl, fetchImpl);
  const session = new Session(http, {
    store: options.store ?? defaultStore(),
    ...(options.clock && { clock: options.clock }),
    ...(options.refreshLeewayMs !== undefined && { leewayMs: options.refreshLeewayMs }),
    ...(options.refreshCooldownMs !== undefined && { cooldownMs: options.refreshCooldownMs }),
  });
  const context: Context = { http, session };

  return {
    ...metaRoutes(context),
    ...authRoutes(context),
    ...recoveryRoutes(context),
    ...accountRoutes(context),
    ...mfaRoutes(context),
    ...sessionRoutes(context),
    ...socialRoutes(context, options.flowStorage),
    ...passkeyRoutes(context),
    ...emailRoutes(context, options.linkStorage),
    ...organizationRoutes(context),

    /** Settles once the stored session, if any, is loaded. */
    ready: session.ready,
    /** Who is signed in (as the sign-in answered), or null. */
    get user(): User | null {
      return session.user;
    },
    get signedIn(): boolean {
      return session.machine.session !== null;
    },
    /** The session's active organization, as its access token says (`switchOrganization` changes it), or null. */
    get activeOrganization(): OrganizationClaims | null {
      const current = session.machine.session;
      return current ? organizationClaims(current.token) : null;
    },
    /** A current access token, refreshed first when due; throws NotSignedInError when signed out. */
    token: () => session.token(),
    /** Refreshes now (concurrent callers share one rotation). */
    refresh: async () => {
      await session.ready;
      await session.machine.refresh();
    },
    /** Sign-ins, refreshes, sign-outs (of this tab or another); returns the unsubscribe function. */
    onChange: (listener: (event: SessionEvent) => void) => session.onChange(listener),

    /**
     * `fetch` for the app's own API: adds `Authorization: Bearer`, and on a 401 refreshes once and
     * sends the request again. Any other answer is returned as it is.
     */
    async fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
      const request = new Request(input, init);
      return session.authorized(
        (token) => {
          const attempt = request.clone();
          attempt.headers.set("Authorization", `Bearer ${token}`);
          return fetchImpl(attempt);
        },
        (response) => response.status === 401,
      );
    },

    /** Stops the refresh timer and leaves the tabs' channel; the stored session stays. */
    dispose: () => session.dispose(),
  };
}

export type EdgeAuthClient = ReturnType<typeof createClient>;
