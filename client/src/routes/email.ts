// Email sign-in: a six-digit code that works on any device, and a link that works only in the
// browser that asked for it.
//
// `startEmailSignIn` mails the code; given `redirectTo` (one of the worker's OAUTH_REDIRECT_URLS),
// it also makes a PKCE verifier, keeps it in this browser's link storage (localStorage by
// default: the mail's link usually opens in a new tab) and asks for a link to that page. The link
// carries a single-use token in its fragment, which no server sees; on that page
// `completeEmailLink` posts the token with the verifier. A mail scanner that fetches the link
// spends nothing, one that runs the page has no verifier, and a link forwarded to another device
// fails there (EmailLinkError) while the code still works.
import type { Context } from "../context.ts";
import { EmailLinkError } from "../errors.ts";
import type * as T from "../types.ts";
import { signInResult } from "./auth.ts";
import { browserStorage, newVerifier, pkceChallenge, type FlowStorage } from "./social.ts";
import { ROUTES } from "./table.ts";

/** The fragment parameter of a sign-in link. */
const TOKEN_PARAM = "sign_in_token";

export interface EmailSignInOptions {
  /** Also mail a link to this page of the app (exactly one of the worker's OAUTH_REDIRECT_URLS). */
  redirectTo?: string;
}

export function emailRoutes({ http, session }: Context, storage: FlowStorage = browserStorage("localStorage")) {
  const key = `edge-auth.email-link:${http.baseUrl}`;

  return {
    /**
     * `POST /email-sign-in`: mails a sign-in code to `email` (and a link, with `redirectTo`). The
     * answer is the same whether or not the address has an account; the mail says which.
     */
    async startEmailSignIn(email: string, { redirectTo }: EmailSignInOptions = {}): Promise<T.Message<"Check your email">> {
      const body: T.StartEmailSignInRequest = { email };
      if (redirectTo !== undefined) {
        const verifier = newVerifier();
        body.link = { redirect_to: redirectTo, code_challenge: await pkceChallenge(verifier), code_challenge_method: "S256" };
        storage.setItem(key, verifier);
      }
      return http.call<T.Message<"Check your email">, T.StartEmailSignInRequest>(ROUTES.startEmailSignIn, body);
    },

    /** `POST /email-sign-in/code`: signs in with the mailed code, as `login` does. */
    completeEmailSignIn: async (body: T.EmailCodeSignInRequest): Promise<T.SignInResult> =>
      signInResult(session, await http.call<T.LoginAnswer | T.MfaChallenge, T.EmailCodeSignInRequest>(ROUTES.emailSignInWithCode, body)),

    /**
     * On the link's page: reads the token from the fragment of `url` (default: this page's
     * address, which then loses it) and signs in with this browser's verifier, as `login` does.
     * Null when the URL carries no token (an ordinary page load); EmailLinkError in a browser
     * without the verifier.
     */
    async completeEmailLink(url?: string | URL): Promise<T.SignInResult | null> {
      const here = new URL(url ?? globalThis.location.href);
      const fragment = new URLSearchParams(here.hash.replace(/^#/, ""));
      const token = fragment.get(TOKEN_PARAM);
      if (!token) return null;
      if (url === undefined) {
        // Out of the address bar (and the history): a reload must not post a spent token again.
        fragment.delete(TOKEN_PARAM);
        here.hash = fragment.toString();
        history.replaceState(history.state, "", here);
      }
      const verifier = storage.getItem(key);
      if (!verifier) throw new EmailLinkError();
      const answer = await http.call<T.LoginAnswer | T.MfaChallenge, T.EmailLinkSignInRequest>(ROUTES.emailSignInWithLink, {
        token,
        code_verifier: verifier,
      });
      storage.removeItem(key);
      return signInResult(session, answer);
    },
  };
}
