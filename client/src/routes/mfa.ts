// The second factor: an authenticator app (TOTP) with recovery codes.
import type { Context } from "../context.ts";
import type * as T from "../types.ts";
import { authorizedCall } from "./account.ts";
import { ROUTES } from "./table.ts";

export function mfaRoutes(context: Context) {
  const call = authorizedCall(context);
  return {
    /** `POST /mfa/totp/enroll`: a pending factor (secret, otpauth URI, QR code as SVG). */
    enrollTotp: (body: T.EnrollTotpRequest) => call<T.TotpEnrolment, T.EnrollTotpRequest>(ROUTES.enrollTotp, body),
    /** `POST /mfa/totp/confirm` with a first code: the factor is on; keep the recovery codes. */
    confirmTotp: (body: T.ConfirmTotpRequest) => call<T.TotpConfirmed, T.ConfirmTotpRequest>(ROUTES.confirmTotp, body),
    /** `POST /mfa/totp/disable` with the password and a code. */
    disableTotp: (body: T.DisableTotpRequest) => call<T.Message, T.DisableTotpRequest>(ROUTES.disableTotp, body),
  };
}
