// Signing up, in and out.
import type { Context } from "../context.ts";
import type * as T from "../types.ts";
import { ROUTES } from "./table.ts";

export function authRoutes({ http, session }: Context) {
  async function finish(answer: T.LoginAnswer | T.MfaChallenge): Promise<T.SignInResult> {
    if ("mfa_required" in answer && answer.mfa_required) {
      return { status: "mfa_required", mfaToken: answer.mfa_token, expiresIn: answer.expires_in };
    }
    const login = answer as T.LoginAnswer;
    await session.signedIn(login);
    return {
      status: "signed_in",
      user: { email: login.email, username: login.username, email_verified: login.email_verified },
      ...(login.recovery_codes_left !== undefined && { recoveryCodesLeft: login.recovery_codes_left }),
    };
  }

  return {
    /** `POST /register`: creates the account (and mails a verification code). */
    register: (body: T.RegisterRequest) => http.call<T.Message, T.RegisterRequest>(ROUTES.register, body),

    /**
     * `POST /login`: signed in, or `mfa_required` with the token for `loginMfa`. A refused
     * password throws ApiError `unauthorized`; an unverified address EmailNotVerifiedError.
     */
    login: async (body: T.LoginRequest) =>
      finish(await http.call<T.LoginAnswer | T.MfaChallenge, T.LoginRequest>(ROUTES.login, body)),

    /** `POST /login/mfa`: the second step, with a TOTP or a recovery code. */
    loginMfa: async (body: T.LoginMfaRequest) =>
      finish(await http.call<T.LoginAnswer, T.LoginMfaRequest>(ROUTES.loginMfa, body)),

    /**
     * `POST /logout`: ends this session (`all`: every session of the account) and signs every tab
     * out. The tabs forget the session even when the API cannot be reached.
     */
    async logout({ all = false }: { all?: boolean } = {}): Promise<void> {
      const refresh = session.machine.session?.refresh;
      try {
        if (session.machine.session) {
          await session.authorized((token) =>
            http.call<T.Message, T.LogoutRequest>(ROUTES.logout, refresh ? { refresh } : {}, {
              token,
              ...(all && { query: { scope: "all" } }),
            }),
          );
        }
      } finally {
        await session.signedOut("signed_out");
      }
    },
  };
}
