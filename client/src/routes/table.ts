// Every route of the API, with the fields of its request body. `Fields<B>` makes the compiler
// check each entry against the request type: every key of B, none more, each marked `required` or
// `optional` as B has it. test/contract.test.mjs checks the same entries against api/openapi.json.
import type * as T from "../types.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type Fields<B> = {
  [K in keyof B]-?: {} extends Pick<B, K> ? "optional" : "required";
};

export interface Route<B = never> {
  method: Method;
  /** The path; its first placeholder (`{id}`, `{provider}`) is replaced by the call's id, the others by its params. */
  path: string;
  /** Whether it takes the session's bearer token. */
  auth: boolean;
  /** The request body's fields (`null`: no body). */
  fields: Fields<B> | null;
}

function route<B = never>(method: Method, path: string, auth: boolean, fields: Fields<B> | null = null): Route<B> {
  return { method, path, auth, fields };
}

const R = "required";
const O = "optional";

export const ROUTES = {
  health: route("GET", "/health", false),
  jwks: route("GET", "/.well-known/jwks.json", false),
  openapi: route("GET", "/openapi.json", false),
  register: route<T.RegisterRequest>("POST", "/register", false, { email: R, password: R, username: O }),
  login: route<T.LoginRequest>("POST", "/login", false, { email: R, password: R }),
  loginMfa: route<T.LoginMfaRequest>("POST", "/login/mfa", false, { mfa_token: R, code: R }),
  refresh: route<T.RefreshRequest>("POST", "/refresh", false, { refresh: R, organization_id: O }),
  logout: route<T.LogoutRequest>("POST", "/logout", true, { refresh: O }),
  resetPassword: route<T.ResetPasswordRequest>("POST", "/reset-password", false, { email: R }),
  updatePassword: route<T.UpdatePasswordRequest>("POST", "/update-password", false, {
    email: R, otp: R, new_password: R, mfa_code: O,
  }),
  updateProfile: route<T.UpdateProfileRequest>("PUT", "/update-profile", true, { name: R }),
  me: route("GET", "/me", true),
  deleteMe: route<T.DeleteMeRequest>("DELETE", "/me", true, { password: R, mfa_code: O }),
  verifyEmail: route<T.VerifyEmailRequest>("POST", "/verify-email", false, { email: R, code: R, verification_token: O }),
  resendVerification: route<T.ResendVerificationRequest>("POST", "/resend-verification", false, {
    email: R, verification_token: O,
  }),
  changePassword: route<T.ChangePasswordRequest>("POST", "/change-password", true, {
    current_password: R, new_password: R, mfa_code: O,
  }),
  changeEmail: route<T.ChangeEmailRequest>("POST", "/change-email", true, { new_email: R, password: R, mfa_code: O }),
  confirmEmailChange: route<T.ConfirmEmailChangeRequest>("POST", "/confirm-email-change", true, { code: R }),
  enrollTotp: route<T.EnrollTotpRequest>("POST", "/mfa/totp/enroll", true, { password: R }),
  confirmTotp: route<T.ConfirmTotpRequest>("POST", "/mfa/totp/confirm", true, { code: R }),
  disableTotp: route<T.DisableTotpRequest>("POST", "/mfa/totp/disable", true, { password: R, code: R }),
  listSessions: route("GET", "/sessions", true),
  myEvents: route("GET", "/me/events", true),
  endSession: route("DELETE", "/sessions/{id}", true),
  // The apps the account allowed through this service's OAuth / OpenID provider.
  listApps: route("GET", "/oauth2/grants", true),
  revokeApp: route("DELETE", "/oauth2/grants/{id}", true),
  // Social sign-in: the browser navigates to `start` (see routes/social.ts); the provider sends it
  // to `callback`, which sends it on to the app. Neither is called with fetch.
  oauthStart: route("GET", "/oauth/{provider}/start", false),
  oauthCallback: route("GET", "/oauth/{provider}/callback", false),
  oauthToken: route<T.OAuthTokenRequest>("POST", "/oauth/token", false, { code: R, code_verifier: R }),
  linkProvider: route<T.LinkProviderRequest>("POST", "/oauth/{provider}/link", true, {
    redirect_to: R, code_challenge: R, code_challenge_method: R, password: R, mfa_code: O,
  }),
  completeLink: route<T.CompleteLinkRequest>("POST", "/identities", true, { code: R, code_verifier: R }),
  listIdentities: route("GET", "/identities", true),
  unlinkIdentity: route<T.Reauthentication>("DELETE", "/identities/{provider}", true, { password: R, mfa_code: O }),
  // Passkeys (routes/passkeys.ts): each ceremony's options, then the browser's answer.
  passkeyRegisterOptions: route<T.PasskeyRegisterOptionsRequest>("POST", "/passkeys/register/options", true, {
    password: R, mfa_code: O,
  }),
  passkeyRegister: route<T.PasskeyRegisterRequest>("POST", "/passkeys/register", true, { credential: R, name: O }),
  passkeyLoginOptions: route<T.PasskeyLoginOptionsRequest>("POST", "/passkeys/login/options", false, { email: O }),
  passkeyLogin: route<T.PasskeyLoginRequest>("POST", "/passkeys/login", false, { credential: R }),
  passkeySignUpOptions: route<T.PasskeySignUpOptionsRequest>("POST", "/passkeys/signup/options", false, { email: R, name: O }),
  passkeySignUp: route<T.PasskeySignUpRequest>("POST", "/passkeys/signup", false, { code: R, credential: R, name: O }),
  loginMfaPasskeyOptions: route<T.PasskeyFactorOptionsRequest>("POST", "/login/mfa/passkey/options", false, { mfa_token: R }),
  loginMfaPasskey: route<T.PasskeyFactorRequest>("POST", "/login/mfa/passkey", false, { mfa_token: R, credential: R }),
  listPasskeys: route("GET", "/passkeys", true),
  // Email sign-in (routes/email.ts): a code, and for a link the app's PKCE challenge.
  startEmailSignIn: route<T.StartEmailSignInRequest>("POST", "/email-sign-in", false, { email: R, link: O }),
  emailSignInWithCode: route<T.EmailCodeSignInRequest>("POST", "/email-sign-in/code", false, { email: R, code: R }),
  emailSignInWithLink: route<T.EmailLinkSignInRequest>("POST", "/email-sign-in/link", false, { token: R, code_verifier: R }),
  renamePasskey: route<T.RenamePasskeyRequest>("PUT", "/passkeys/{id}", true, { name: R }),
  deletePasskey: route<T.Reauthentication>("DELETE", "/passkeys/{id}", true, { password: R, mfa_code: O }),
  // Organizations (routes/organizations.ts): the account's memberships, their members,
  // invitations and teams. The active one is switched by `refresh` with an `organization_id`.
  createOrganization: route<T.CreateOrganizationRequest>("POST", "/organizations", true, { name: R, slug: R }),
  listOrganizations: route("GET", "/organizations", true),
  getOrganization: route("GET", "/organizations/{id}", true),
  updateOrganization: route<T.UpdateOrganizationRequest>("PATCH", "/organizations/{id}", true, { name: O, slug: O }),
  deleteOrganization: route("DELETE", "/organizations/{id}", true),
  listMembers: route("GET", "/organizations/{id}/members", true),
  updateMember: route<T.UpdateMemberRequest>("PATCH", "/organizations/{id}/members/{user_id}", true, { role: R }),
  removeMember: route("DELETE", "/organizations/{id}/members/{user_id}", true),
  invite: route<T.InviteRequest>("POST", "/organizations/{id}/invitations", true, { email: R, role: R, teams: O, redirect_to: O }),
  listInvitations: route("GET", "/organizations/{id}/invitations", true),
  revokeInvitation: route("DELETE", "/organizations/{id}/invitations/{invitation_id}", true),
  resendInvitation: route("POST", "/organizations/{id}/invitations/{invitation_id}/resend", true),
  myInvitations: route("GET", "/invitations", true),
  acceptInvitation: route<T.AcceptInvitationRequest>("POST", "/invitations/accept", true, { token: R }),
  listTeams: route("GET", "/organizations/{id}/teams", true),
  createTeam: route<T.CreateTeamRequest>("POST", "/organizations/{id}/teams", true, { name: R }),
  deleteTeam: route("DELETE", "/organizations/{id}/teams/{team_id}", true),
  setTeamMember: route<T.TeamMemberRequest>("PUT", "/organizations/{id}/teams/{team_id}/members/{user_id}", true, { role: R }),
  removeTeamMember: route("DELETE", "/organizations/{id}/teams/{team_id}/members/{user_id}", true),
  organizationEvents: route("GET", "/organizations/{id}/events", true),
} as const;
