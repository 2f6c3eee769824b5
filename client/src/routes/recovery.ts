// Proving the address and getting back in without the password: codes by mail.
import type { Context } from "../context.ts";
import type * as T from "../types.ts";
import { ROUTES } from "./table.ts";

export function recoveryRoutes({ http }: Context) {
  return {
    /** `POST /verify-email` with the mailed code. */
    verifyEmail: (body: T.VerifyEmailRequest) => http.call<T.Message, T.VerifyEmailRequest>(ROUTES.verifyEmail, body),
    /** `POST /resend-verification`: a new code (the same answer for every address). */
    resendVerification: (body: T.ResendVerificationRequest) =>
      http.call<T.Message, T.ResendVerificationRequest>(ROUTES.resendVerification, body),
    /** `POST /reset-password`: mails a reset code (the same answer for every address). */
    resetPassword: (body: T.ResetPasswordRequest) =>
      http.call<T.Message, T.ResetPasswordRequest>(ROUTES.resetPassword, body),
    /** `POST /update-password` with the reset code; every session of the account ends. */
    updatePassword: (body: T.UpdatePasswordRequest) =>
      http.call<T.PasswordUpdated, T.UpdatePasswordRequest>(ROUTES.updatePassword, body),
  };
}
