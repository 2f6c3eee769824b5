export { createClient, type ClientOptions, type EdgeAuthClient } from "./client.ts";
export {
  ApiError,
  EdgeAuthError,
  EmailLinkError,
  EmailNotVerifiedError,
  NetworkError,
  NotSignedInError,
  PasskeyRefusedError,
  SocialSignInError,
  TooManyAttemptsError,
  ValidationError,
  type ErrorBody,
  type ErrorCode,
  type FieldProblem,
  type SocialErrorCode,
} from "./errors.ts";
export { RefreshMachine, type Change, type Clock, type RefreshState, type RotationRequest, type SignOutReason } from "./refresh.ts";
export { accessClaims, organizationClaims } from "./claims.ts";
export type { SessionEvent } from "./session.ts";
export { localStorageStore, memoryStore, type SessionStore, type StoredSession } from "./storage.ts";
export { ROUTES, type Route } from "./routes/table.ts";
export type { FlowStorage } from "./routes/social.ts";
export type { EmailSignInOptions } from "./routes/email.ts";
export {
  createPasskey,
  creationOptions,
  credentialJSON,
  fromBase64url,
  getPasskey,
  passkeysSupported,
  requestOptions,
  toBase64url,
  type AddPasskeyOptions,
  type PasskeySignInOptions,
  type PasskeySignUpOptions,
} from "./routes/passkeys.ts";
export type * from "./types.ts";
