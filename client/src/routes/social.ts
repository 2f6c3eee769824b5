// Social sign-in (an OpenID provider, GitHub) and the providers linked to an account.
//
// The dance: `socialSignInUrl` makes a PKCE verifier, keeps it in this tab's flow storage
// (sessionStorage by default) and returns the worker's /oauth/{provider}/start URL; the app sends
// the browser there. The provider sends it to the worker, the worker back to `redirectTo` with a
// one-time `code` (or an `error`); there `completeSocialSignIn` exchanges the code, with the
// verifier, for the session: a code read from the URL is worth nothing without it. A link is the
// same dance from a signed-in tab: `linkProvider` keeps its verifier, and the return's
// `link_code` is completed by this tab's session with it (`POST /identities`), so a link URL sent
// to someone else links nothing (RFC 9700 §4.7).
import type { Context } from "../context.ts";
import { SocialSignInError, type SocialErrorCode } from "../errors.ts";
import type * as T from "../types.ts";
import { authorizedCall } from "./account.ts";
import { signInResult } from "./auth.ts";
import { ROUTES } from "./table.ts";

/** Where the PKCE verifier waits while the browser is away: `sessionStorage` (this tab only) by default. */
export type FlowStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** The URL's query parameters a return carries (removed from the address bar once read). */
const RETURN_PARAMS = ["code", "error", "link_code", "provider"] as const;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A new PKCE verifier: 256 random bits (RFC 7636 §4.1). */
export function newVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 challenge of `verifier` (RFC 7636 §4.2). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

/** The browser's `sessionStorage` or `localStorage`, or memory where there is none (or it is blocked: the flow then works within one page only). */
export function browserStorage(kind: "sessionStorage" | "localStorage"): FlowStorage {
  try {
    if (globalThis[kind]) return globalThis[kind];
  } catch {
    // blocked storage: fall through to memory
  }
  const memory = new Map<string, string>();
  return {
    getItem: (key) => memory.get(key) ?? null,
    setItem: (key, value) => void memory.set(key, value),
    removeItem: (key) => void memory.delete(key),
  };
}

export function socialRoutes(context: Context, storage: FlowStorage = browserStorage("sessionStorage")) {
  const { http, session } = context;
  const call = authorizedCall(context);
  // One flow in flight per tab and API: a tab that leaves for a provider comes back to finish it.
  const key = `edge-auth.pkce:${http.baseUrl}`;
  const path = (template: string, provider: string) => template.replace("{provider}", encodeURIComponent(provider));
  /** A new PKCE verifier kept for this tab's flow; its S256 challenge. */
  const newFlow = async (provider: string, redirectTo: string) => {
    const verifier = newVerifier();
    storage.setItem(key, JSON.stringify({ verifier, provider, redirectTo }));
    return pkceChallenge(verifier);
  };

  return {
    /**
     * The URL to send the browser to for signing in with `provider` (a name of the worker's
     * OIDC_PROVIDERS, or `github`); it comes back to `redirectTo` (exactly one of the worker's
     * OAUTH_REDIRECT_URLS), where `completeSocialSignIn` finishes. Starting again replaces the
     * pending flow of this tab.
     */
    async socialSignInUrl(provider: string, redirectTo: string): Promise<string> {
      const challenge = await newFlow(provider, redirectTo);
      const query = new URLSearchParams({ redirect_to: redirectTo, code_challenge: challenge, code_challenge_method: "S256" });
      return `${http.baseUrl}${path(ROUTES.oauthStart.path, provider)}?${query}`;
    },

    /**
     * On the return page: reads what the worker sent back on `url` (default: this page's address,
     * which then loses it). A `code` is exchanged with this tab's verifier (`POST /oauth/token`)
     * and signs in as `login` does: `signed_in`, or `mfa_required` (go on with `loginMfa`). An
     * `error` throws SocialSignInError with its code. A link's `link_code` is completed with this
     * tab's verifier by the signed-in session (`POST /identities`) and resolves to
     * `{status: "linked", provider}`; a URL with none of these (an ordinary page load) to null.
     */
    async completeSocialSignIn(url?: string | URL): Promise<T.SocialSignInResult | null> {
      const here = new URL(url ?? globalThis.location.href);
      const [code, error, linkCode, provider] = RETURN_PARAMS.map((name) => here.searchParams.get(name));
      if (!code && !error && !linkCode) return null;
      if (url === undefined) {
        // Out of the address bar (and the history): a reload must not replay a spent code.
        for (const name of RETURN_PARAMS) here.searchParams.delete(name);
        history.replaceState(history.state, "", here);
      }
      const pending = storage.getItem(key);
      storage.removeItem(key);
      if (error) throw new SocialSignInError(error as SocialErrorCode);
      let verifier: string | undefined;
      try {
        verifier = pending ? (JSON.parse(pending) as { verifier?: string }).verifier : undefined;
      } catch {
        // a corrupt entry is no verifier
      }
      if (!verifier) throw new SocialSignInError("no_verifier");
      if (linkCode) {
        const linked = await call<{ message: "Linked"; provider: string }, T.CompleteLinkRequest>(ROUTES.completeLink, {
          code: linkCode,
          code_verifier: verifier,
        });
        return { status: "linked", provider: linked.provider ?? provider ?? "" };
      }
      const answer = await http.call<T.LoginAnswer | T.MfaChallenge, T.OAuthTokenRequest>(ROUTES.oauthToken, {
        code: code!,
        code_verifier: verifier,
      });
      return signInResult(session, answer);
    },

    /**
     * `POST /oauth/{provider}/link`, with the password (and a current code once a factor is on)
     * asked again: the URL to send the browser to for linking `provider` to the signed-in
     * account. It comes back to `redirectTo` with a `link_code`, which `completeSocialSignIn`
     * completes with this tab's verifier and session (or an `error`).
     */
    async linkProvider(provider: string, redirectTo: string, confirm: T.Reauthentication): Promise<string> {
      const challenge = await newFlow(provider, redirectTo);
      const body: T.LinkProviderRequest = { ...confirm, redirect_to: redirectTo, code_challenge: challenge, code_challenge_method: "S256" };
      return (await call<{ url: string }, T.LinkProviderRequest>(ROUTES.linkProvider, body, { id: provider })).url;
    },

    /** `GET /identities`: the providers linked to the account. */
    identities: async () => (await call<{ identities: T.Identity[] }>(ROUTES.listIdentities)).identities,

    /**
     * `DELETE /identities/{provider}`, with the password (and a current code once a factor is on)
     * asked again: never the account's last way to sign in (409 `last_sign_in_method`).
     */
    unlink: (provider: string, confirm: T.Reauthentication) =>
      call<T.Message<"Unlinked">, T.Reauthentication>(ROUTES.unlinkIdentity, confirm, { id: provider }),
  };
}
