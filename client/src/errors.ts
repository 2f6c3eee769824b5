/** Every `error` code the API answers with (api/openapi.json, `components.schemas.Error`). */
export type ErrorCode =
  | "invalid_json"
  | "validation_failed"
  | "invalid_otp"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "user_exists"
  | "payload_too_large"
  | "too_many_attempts"
  | "server_misconfigured"
  | "internal"
  | "invalid_code"
  | "email_not_verified"
  | "invalid_password"
  | "email_taken"
  | "invalid_mfa_code"
  | "mfa_already_enabled"
  | "mfa_not_enrolled"
  | "invalid_state"
  | "provider_error"
  | "last_sign_in_method"
  | "no_password"
  | "passkey_refused"
  | "redirect_not_allowed"
  | "account_disabled"
  | "reauthentication_required"
  | "identity_taken"
  | "already_linked"
  | "forbidden"
  | "no_client_secret"
  // Organizations (issue 34).
  | "slug_taken"
  | "organization_limit"
  | "not_allowed"
  | "role_above_own"
  | "last_owner"
  | "member_limit"
  | "already_member"
  | "wrong_account"
  | "invitation_not_found"
  | "not_a_member"
  | "team_name_taken";

/** Why a field of a request was refused (`fields` of a `validation_failed` answer). */
export type FieldProblem =
  | "missing"
  | "wrong_type"
  | "invalid"
  | "too_short"
  | "too_long"
  | "too_common"
  | "breached"
  | "control_characters"
  | "not_an_object"
  | "unchanged";

/** The body of every error answer. */
export interface ErrorBody {
  message: string;
  error: ErrorCode;
  fields?: Record<string, FieldProblem>;
  variable?: string;
  verification_token?: string;
  /** `passkey_refused`: the rule that refused the ceremony. */
  reason?: string;
}

/** The root of everything this client throws. */
export class EdgeAuthError extends Error {
  override name = "EdgeAuthError";
}

/** The API answered with an error: `code` is its `error`, `status` the HTTP status. */
export class ApiError extends EdgeAuthError {
  override name = "ApiError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly requestId: string | null;
  readonly body: ErrorBody;

  constructor(status: number, body: ErrorBody, requestId: string | null) {
    super(body.message);
    this.status = status;
    this.code = body.error;
    this.body = body;
    this.requestId = requestId;
  }
}

/** `400 validation_failed`: `fields` names each refused field and why. */
export class ValidationError extends ApiError {
  override name = "ValidationError";
  readonly fields: Record<string, FieldProblem>;

  constructor(status: number, body: ErrorBody, requestId: string | null) {
    super(status, body, requestId);
    this.fields = body.fields ?? {};
  }
}

/** `429 too_many_attempts`: `retryAfter` is the `Retry-After` header in seconds, when sent. */
export class TooManyAttemptsError extends ApiError {
  override name = "TooManyAttemptsError";
  readonly retryAfter: number | null;

  constructor(status: number, body: ErrorBody, requestId: string | null, retryAfter: number | null) {
    super(status, body, requestId);
    this.retryAfter = retryAfter;
  }
}

/**
 * `403 email_not_verified` at sign-in: the address must be verified first. `verificationToken`
 * (when the API sends one) goes to `verifyEmail` and `resendVerification`.
 */
export class EmailNotVerifiedError extends ApiError {
  override name = "EmailNotVerifiedError";
  readonly verificationToken: string | undefined;

  constructor(status: number, body: ErrorBody, requestId: string | null) {
    super(status, body, requestId);
    this.verificationToken = body.verification_token;
  }
}

/**
 * `400 passkey_refused`: the API refused a WebAuthn ceremony; `reason` names the rule
 * (`origin_mismatch`: the page's origin is not one of the worker's RP_ORIGINS; `rp_id_mismatch`,
 * `challenge` (unknown, used or expired: ask for new options), `challenge_mismatch`,
 * `user_not_verified`, `sign_count_regressed` (a cloned authenticator?), `bad_signature`, …).
 */
export class PasskeyRefusedError extends ApiError {
  override name = "PasskeyRefusedError";
  readonly reason: string;

  constructor(status: number, body: ErrorBody, requestId: string | null) {
    super(status, body, requestId);
    this.reason = body.reason ?? "unknown";
  }
}

/**
 * Why a social sign-in or link came back without a code: the worker's `error` on the return URL
 * (`access_denied`: the user said no at the provider; `provider_error`: the provider failed or its
 * answer was refused; `account_exists`: an account has this address and it cannot be linked
 * safely, so sign in with the password and link there; `email_missing` / `email_not_verified`: the
 * provider gave no address, or did not vouch for it; `identity_taken`: that provider account is
 * linked to another account; `already_linked`: this account already has that provider), or
 * `no_verifier`: this tab holds no PKCE verifier for the code (it was not started here, or was
 * completed already).
 */
export type SocialErrorCode =
  | "access_denied"
  | "provider_error"
  | "account_exists"
  | "email_missing"
  | "email_not_verified"
  | "identity_taken"
  | "already_linked"
  | "no_verifier";

/** A social sign-in (or link) that came back with an `error`; `code` says which. */
export class SocialSignInError extends EdgeAuthError {
  override name = "SocialSignInError";
  readonly code: SocialErrorCode;

  constructor(code: SocialErrorCode) {
    super(`social sign-in: ${code}`);
    this.code = code;
  }
}

/**
 * A sign-in link opened where it cannot work: `no_verifier`, a browser other than the one that
 * asked for it (another device, another profile), which holds no verifier. The mail's code
 * still works there (`completeEmailSignIn`).
 */
export class EmailLinkError extends EdgeAuthError {
  override name = "EmailLinkError";
  readonly code = "no_verifier";

  constructor() {
    super("email sign-in link: open it in the browser where you asked for it, or enter the code");
  }
}

/** The request never got an answer (offline, DNS, CORS refused), or the answer was not JSON. */
export class NetworkError extends EdgeAuthError {
  override name = "NetworkError";
}

/** A call that needs a session was made while signed out (or the session ended meanwhile). */
export class NotSignedInError extends EdgeAuthError {
  override name = "NotSignedInError";
  constructor() {
    super("not signed in");
  }
}

/** The error class for an error answer. */
export function apiError(status: number, body: ErrorBody, headers: Headers): ApiError {
  const requestId = headers.get("X-Request-Id");
  switch (body.error) {
    case "validation_failed":
      return new ValidationError(status, body, requestId);
    case "too_many_attempts": {
      const after = Number(headers.get("Retry-After"));
      return new TooManyAttemptsError(status, body, requestId, Number.isFinite(after) && after > 0 ? after : null);
    }
    case "email_not_verified":
      return new EmailNotVerifiedError(status, body, requestId);
    case "passkey_refused":
      return new PasskeyRefusedError(status, body, requestId);
    default:
      return new ApiError(status, body, requestId);
  }
}
