// The bodies of the API's requests and answers, as api/openapi.json describes them. The route
// table (routes/table.ts) ties each request type to its route, and test/contract.test.mjs checks
// the table against the document.

/** A six-digit code: digits as a string, or a number whose leading zeros were lost. */
export type Code = string | number;

export interface RegisterRequest { email: string; password: string; username?: string | null }
export interface LoginRequest { email: string; password: string }
export interface LoginMfaRequest { mfa_token: string; code: Code }
/** `organization_id`: the session's active organization from now on (`null`: none). */
export interface RefreshRequest { refresh: string; organization_id?: string | null }
export interface LogoutRequest { refresh?: string }
export interface ResetPasswordRequest { email: string }
export interface UpdatePasswordRequest { email: string; otp: Code; new_password: string; mfa_code?: Code }
export interface UpdateProfileRequest { name: string | null }
/** `mfa_code` (a TOTP or recovery code) is required once the account has a second factor on. */
export interface DeleteMeRequest { password: string; mfa_code?: Code }
/** `verification_token`: from a sign-in refused with `email_not_verified`, when the API sends one. */
export interface VerifyEmailRequest { email: string; code: Code; verification_token?: string }
export interface ResendVerificationRequest { email: string; verification_token?: string }
export interface ChangePasswordRequest { current_password: string; new_password: string; mfa_code?: Code }
export interface ChangeEmailRequest { new_email: string; password: string; mfa_code?: Code }
export interface ConfirmEmailChangeRequest { code: Code }
export interface EnrollTotpRequest { password: string }
export interface ConfirmTotpRequest { code: Code }
export interface DisableTotpRequest { password: string; code: Code }
/** The one-time `code` a social sign-in came back with, and the PKCE verifier of the app that started it. */
export interface OAuthTokenRequest { code: string; code_verifier: string }
/**
 * Who you are, asked again before a way in is added or removed (a passkey, a provider): the
 * account's `password` (ignored for an account without one, which must have signed in within the
 * worker's REAUTH_MAX_AGE_SECONDS instead), and `mfa_code` once a second factor is on.
 */
export interface Reauthentication { password: string; mfa_code?: Code }
/** `redirect_to`: one of the worker's OAUTH_REDIRECT_URLS; the app's PKCE challenge binds the link to it. */
export interface LinkProviderRequest extends Reauthentication {
  redirect_to: string;
  code_challenge: string;
  code_challenge_method: "S256";
}
/** The `link_code` a link came back with, and the PKCE verifier of the app that started it. */
export interface CompleteLinkRequest { code: string; code_verifier: string }

/**
 * The account's `password`, asked again (any string for an account a provider made, which has
 * none); `mfa_code` is required once the account has a second factor on.
 */
export interface PasskeyRegisterOptionsRequest { password: string; mfa_code?: Code }
/** `credential`: `PublicKeyCredential.toJSON()` of navigator.credentials.create() (base64url fields). */
export interface PasskeyRegisterRequest { credential: PasskeyCredentialJSON; name?: string }
/** Without `email`: usernameless (any passkey of this site). */
export interface PasskeyLoginOptionsRequest { email?: string }
/** `credential`: `PublicKeyCredential.toJSON()` of navigator.credentials.get(). */
export interface PasskeyLoginRequest { credential: PasskeyCredentialJSON }
export interface RenamePasskeyRequest { name: string }
/** Sign-up with a passkey, step 1: the address (a code is mailed there) and the person's name. */
/**
 * `POST /email-sign-in`: mails a sign-in code to `email`; with `link` (a page of the app, one of
 * the worker's OAUTH_REDIRECT_URLS, and the app's PKCE challenge), a link to that page too.
 */
export interface StartEmailSignInRequest { email: string; link?: EmailLinkRequest }
export interface EmailLinkRequest { redirect_to: string; code_challenge: string; code_challenge_method: "S256" }
/** `POST /email-sign-in/code`: the mailed code, from any device. */
export interface EmailCodeSignInRequest { email: string; code: Code }
/** `POST /email-sign-in/link`: the link's token (from its fragment) and this browser's verifier. */
export interface EmailLinkSignInRequest { token: string; code_verifier: string }
export interface PasskeySignUpOptionsRequest { email: string; name?: string }
/** Step 2: the mailed code and the new passkey; `name` is the passkey's. */
export interface PasskeySignUpRequest { code: Code; credential: PasskeyCredentialJSON; name?: string }
/** A passkey after a password: the `mfa_token` of the password step. */
export interface PasskeyFactorOptionsRequest { mfa_token: string }
export interface PasskeyFactorRequest { mfa_token: string; credential: PasskeyCredentialJSON }
/** The creation options of a passkey sign-up, with how long the mailed code lasts. */
export interface PasskeySignUpOptionsJSON extends PasskeyCreationOptionsJSON { message: string; expires_in: number }

/** A credential in WebAuthn's JSON form: binary fields as base64url. */
export interface PasskeyCredentialJSON {
  id: string;
  rawId: string;
  type: "public-key";
  /** Registration: `clientDataJSON`, `attestationObject` (…); sign-in: `clientDataJSON`, `authenticatorData`, `signature`, `userHandle`. */
  response: Record<string, unknown>;
  authenticatorAttachment?: string | null;
  clientExtensionResults?: Record<string, unknown>;
}

/** PublicKeyCredentialCreationOptions in JSON (`challenge`, `user.id`, `excludeCredentials[].id` base64url). */
export interface PasskeyCreationOptionsJSON {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  pubKeyCredParams: { type: "public-key"; alg: number }[];
  timeout?: number;
  excludeCredentials?: { type: "public-key"; id: string; transports?: string[] }[];
  authenticatorSelection?: Record<string, unknown>;
  attestation?: string;
  [extra: string]: unknown;
}

/** PublicKeyCredentialRequestOptions in JSON (`challenge`, `allowCredentials[].id` base64url). */
export interface PasskeyRequestOptionsJSON {
  challenge: string;
  rpId?: string;
  timeout?: number;
  userVerification?: string;
  allowCredentials?: { type: "public-key"; id: string; transports?: string[] }[];
  [extra: string]: unknown;
}

/** One of the account's passkeys (`GET /passkeys`). */
export interface Passkey {
  id: string;
  name: string;
  /** COSE algorithm: -7 ES256, -8 EdDSA, -257 RS256. */
  algorithm: number;
  sign_count: number;
  backup_eligible: boolean;
  backed_up: boolean;
  /** RFC 3339 */
  created_at: string;
  last_used_at: string | null;
}

export interface PasskeyAdded { message: "Passkey added"; id: string; name: string }
export interface PasskeyRenamed { message: "Passkey renamed"; name: string }

/** Every success answer carries a `message`. */
export interface Message<M extends string = string> { message: M }

/** `POST /login` and `POST /login/mfa` when signed in. */
export interface LoginAnswer {
  message: "Login successful";
  token: string;
  refresh: string;
  username: string | null;
  email: string;
  email_verified: boolean;
  token_type: "Bearer";
  expires_in: number;
  recovery_codes_left?: number;
}

/** `POST /login` when the account has a second factor on. */
export interface MfaChallenge {
  message: string;
  mfa_required: true;
  mfa_token: string;
  expires_in: number;
}

export interface RefreshAnswer {
  message: "Token refreshed";
  token: string;
  refresh: string;
  token_type: "Bearer";
  expires_in: number;
}

export interface Profile {
  id: number;
  email: string;
  email_verified: boolean;
  mfa_enabled: boolean;
  username: string | null;
  /** RFC 3339 */
  created_at: string;
  /** The session's active organization, read live (absent from a worker without organizations). */
  organization?: ActiveOrganization | null;
}

/** An app the account allowed through the provider (`GET /oauth2/grants`). */
export interface GrantedApp {
  client_id: string;
  name: string;
  scopes: string[];
  granted_at: string;
  /** How many of its grants (sessions with tokens) are live. */
  active_grants: number;
}

export interface SessionEntry {
  id: string;
  created_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  /** Whether it is the session this client signed in with. */
  current: boolean;
}

/** One event of the account's security trail (`GET /me/events`): never a secret or a code. */
export interface SecurityEvent {
  id: string;
  /** `sign_in.succeeded`, `sign_in.failed`, `password.changed`, `factor.added`, … */
  type: string;
  at: string;
  /** `user`, or `admin:<key id>` for the operator's actions. */
  actor: string;
  client: string | null;
  user_agent: string | null;
  detail: Record<string, string>;
}

/** A page of the trail, newest first; `next_cursor` fetches the older ones. */
export interface EventsPage {
  events: SecurityEvent[];
  next_cursor: string | null;
}

/** A provider linked to the account (`GET /identities`). */
export interface Identity {
  provider: string;
  /** The address the provider gave, if any. */
  email: string | null;
  /** RFC 3339 */
  created_at: string;
  last_used_at: string | null;
}

export interface TotpEnrolment { message: string; otpauth_uri: string; secret: string; qr_svg: string }
export interface TotpConfirmed { message: string; recovery_codes: string[] }
export interface PasswordUpdated { message: "Password updated successfully"; recovery_codes_left?: number }
export interface EmailChanged { message: "Email changed"; email: string }
export interface Health { status: "ok" }
export interface Jwk { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; use: "sig"; alg: "EdDSA" }
export interface Jwks { keys: Jwk[] }

/** Who signed in, as the sign-in answered. */
export interface User { email: string; username: string | null; email_verified: boolean }

/**
 * The result of a sign-in: signed in, or the second step (`mfaToken` goes to `loginMfa` with the
 * code from the authenticator app or a recovery code).
 */
export type SignInResult =
  | { status: "signed_in"; user: User; recoveryCodesLeft?: number }
  | { status: "mfa_required"; mfaToken: string; expiresIn: number };

/** What a social sign-in's return page comes to: a sign-in's result, or a provider linked. */
export type SocialSignInResult = SignInResult | { status: "linked"; provider: string };

/**
 * A role in an organization: the built-in `owner` > `admin` > `member`, or one the deployment adds
 * in its ORG_ROLES (ranked as `member`).
 */
export type OrganizationRole = "owner" | "admin" | "member" | (string & {});

export interface CreateOrganizationRequest { name: string; slug: string }
export interface UpdateOrganizationRequest { name?: string; slug?: string }
export interface UpdateMemberRequest { role: OrganizationRole }
/**
 * `teams`: ids of the organization's teams the invitee joins on accepting; `redirect_to`: one of
 * the worker's OAUTH_REDIRECT_URLS, where the mail links with the token in the fragment.
 */
export interface InviteRequest { email: string; role: OrganizationRole; teams?: string[]; redirect_to?: string }
/** The token from the invitation's mail (its link's `#invitation=`, or the token mailed to paste). */
export interface AcceptInvitationRequest { token: string }
export interface CreateTeamRequest { name: string }
export interface TeamMemberRequest { role: string }

/** An organization the account is a member of; `role` and `permissions` are the account's in it. */
export interface Organization {
  id: string;
  name: string;
  slug: string;
  /** RFC 3339 */
  created_at: string;
  role: OrganizationRole;
  /** `org:read`, `members:invite`, `teams:manage`, … */
  permissions: string[];
}

/** The session's active organization (`GET /me`'s `organization`). */
export interface ActiveOrganization {
  id: string;
  name: string;
  slug: string;
  role: OrganizationRole;
  permissions: string[];
}

/** A member of an organization (`GET /organizations/{id}/members`). */
export interface Member {
  user_id: number;
  email: string;
  name: string | null;
  role: OrganizationRole;
  /** RFC 3339 */
  joined_at: string;
}

/** A pending invitation, as the organization sees it. */
export interface Invitation {
  id: string;
  email: string;
  role: OrganizationRole;
  teams: string[];
  created_at: string;
  expires_at: string;
  /** The inviting member's user id. */
  invited_by: number;
}

/** A pending invitation to the account's verified address (`GET /invitations`); it is accepted with its mail's token. */
export interface ReceivedInvitation {
  id: string;
  organization: { id: string; name: string; slug: string };
  role: OrganizationRole;
  expires_at: string;
}

export interface Team {
  id: string;
  name: string;
  created_at: string;
  members: TeamMember[];
}

/** A member of a team: an organization member, with a role in the team. */
export interface TeamMember { user_id: number; role: string }

/**
 * What an access token says of the session's active organization: its id, the account's role
 * there and that role's permissions.
 */
export interface OrganizationClaims {
  org_id: string;
  org_role: OrganizationRole;
  org_permissions: string[];
}

/** The claims of an access token the client reads: `sub` is the account's user id. */
export interface AccessClaims extends Partial<OrganizationClaims> {
  sub: string;
  /** Seconds since the epoch. */
  exp: number;
}
