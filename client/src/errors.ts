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
  | "mfa_not_enrolled";

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
    default:
      return new ApiError(status, body, requestId);
  }
}
