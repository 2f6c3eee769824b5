//! One error type for the edge, mapped to the status codes and `error` codes of `API.md`.

use serde_json::{Map, Value};
use worker::Response;

use crate::core::config_error::ConfigError;
use crate::core::violation::{Violation, Violations};

/// Everything a handler can fail with. Client errors say what to fix; infrastructure errors are
/// logged whole (on the request's log line) and answered with a generic `500`, so no internals
/// reach a client.
#[derive(Debug)]
pub enum ApiError {
    InvalidJson,
    Validation(Violations),
    PayloadTooLarge,
    Unauthorized,
    UserExists,
    InvalidOtp,
    /// An emailed verification or email-change code that is wrong, used, expired or spent.
    InvalidCode,
    /// An operator disabled the account (the admin API).
    AccountDisabled,
    /// The right password, but the address is unverified and `REQUIRE_EMAIL_VERIFICATION` is on;
    /// the answer carries a `verification_token` (`core/verification_token.rs`).
    EmailNotVerified {
        verification_token: String,
    },
    /// A second factor, passkey or provider added to an address nobody proved to own: a
    /// squatter's would stand between the owner and their account after a reset by emailed code.
    FactorNeedsVerifiedEmail,
    /// A password asked again of an account that has none (made by a social sign-in).
    NoPassword,
    /// A signed-in caller re-entered a wrong password.
    InvalidPassword,
    /// An account without a password changed its ways in with a sign-in older than
    /// `REAUTH_MAX_AGE_SECONDS`.
    ReauthenticationRequired,
    /// A provider link whose identity is another account's.
    IdentityTaken,
    /// A provider link to an account that has another identity of that provider.
    AlreadyLinked,
    /// The address an email change was going to became another account's in between.
    EmailTaken,
    /// A second-factor code (TOTP or recovery) that is wrong, replayed, or past the budget.
    InvalidMfaCode,
    /// An enrolment of a second factor while one is on.
    MfaAlreadyEnabled,
    /// A confirmation or removal of a second factor that is not pending, or not on.
    MfaNotEnrolled,
    TooManyAttempts {
        retry_after: i64,
    },
    /// A social sign-in asked to come back to an address off `OAUTH_REDIRECT_URLS`.
    RedirectNotAllowed,
    /// A social sign-in's callback with no live state of ours (replayed, foreign or expired).
    InvalidOAuthState,
    /// A social sign-in provider failed (discovery, token exchange, its answer).
    ProviderUnavailable,
    /// Unlinking the account's last way to sign in.
    LastSignInMethod,
    /// A WebAuthn ceremony refused: `reason` is stable, `message` names what was expected.
    PasskeyRefused {
        reason: &'static str,
        message: String,
    },
    NotFound,
    /// Organizations (`docs/organizations.md`): a slug in use, the creator's cap, an action the
    /// caller's role does not allow, a role above the caller's own, the last owner, the member cap,
    /// an invitee already a member, an invitation for another address, one that is not there (or
    /// no longer), a switch to an organization the caller is not a member of.
    SlugTaken,
    OrganizationLimit,
    NotAllowed,
    RoleAboveOwn,
    LastOwner,
    MemberLimit,
    AlreadyMember,
    WrongAccount,
    InvitationNotFound,
    InvitedAddressNotVerified,
    TeamNameTaken,
    NotAMember,
    /// A provider page's request from another site (`Origin`, `Sec-Fetch-Site`).
    Forbidden,
    /// A secret rotation of a public client, which has none.
    NoClientSecret,
    /// The path exists with the methods of `allow`.
    MethodNotAllowed {
        allow: String,
    },
    Misconfigured(ConfigError),
    Internal {
        context: &'static str,
        cause: String,
    },
}

impl ApiError {
    /// Wraps an infrastructure failure with what we were doing ("insert user").
    pub fn internal(context: &'static str, cause: impl std::fmt::Display) -> Self {
        Self::Internal {
            context,
            cause: cause.to_string(),
        }
    }

    fn parts(&self) -> (u16, &'static str, String) {
        match self {
            Self::InvalidJson => (400, "invalid_json", "Request body is not valid JSON".into()),
            Self::Validation(v) => (400, "validation_failed", v.message().to_owned()),
            Self::PayloadTooLarge => (
                413,
                "payload_too_large",
                "Request body is larger than 64 KiB".into(),
            ),
            Self::Unauthorized => (401, "unauthorized", "Invalid or expired credentials".into()),
            Self::UserExists => (
                409,
                "user_exists",
                "An account with this email already exists".into(),
            ),
            Self::InvalidOtp => (400, "invalid_otp", "Invalid or expired OTP".into()),
            Self::InvalidCode => (400, "invalid_code", "Invalid or expired code".into()),
            Self::AccountDisabled => (
                403,
                "account_disabled",
                "This account is disabled; its operator can enable it".into(),
            ),
            Self::EmailNotVerified { .. } => (
                403,
                "email_not_verified",
                "Verify your email address first: enter the code we mailed you".into(),
            ),
            Self::FactorNeedsVerifiedEmail => (
                403,
                "email_not_verified",
                "Verify your email address before adding a second factor, a passkey or a provider (POST /verify-email with the mailed code)".into(),
            ),
            Self::NoPassword => (
                403,
                "no_password",
                "This account has no password yet (it signs in with a provider or a passkey); set one with a password reset by email".into(),
            ),
            Self::InvalidPassword => (403, "invalid_password", "The password is wrong".into()),
            Self::ReauthenticationRequired => (
                403,
                "reauthentication_required",
                "Sign in again first: this change needs a recent sign-in".into(),
            ),
            Self::IdentityTaken => (
                409,
                "identity_taken",
                "This provider account is linked to another account".into(),
            ),
            Self::AlreadyLinked => (
                409,
                "already_linked",
                "This account has another identity of this provider; unlink it first".into(),
            ),

            Self::InvalidMfaCode => (
                400,
                "invalid_mfa_code",
                "Invalid or already used second-factor code".into(),
            ),
            Self::MfaAlreadyEnabled => (
                409,
                "mfa_already_enabled",
                "A second factor is already on; turn it off first".into(),
            ),
            Self::MfaNotEnrolled => (
                409,
                "mfa_not_enrolled",
                "No second factor is waiting for confirmation, or on".into(),
            ),
            Self::EmailTaken => (
                409,
                "email_taken",
                "Another account uses this email now; nothing was changed".into(),
            ),
            Self::TooManyAttempts { .. } => (
                429,
                "too_many_attempts",
                "Too many attempts; try again later".into(),
            ),
            Self::RedirectNotAllowed => (
                400,
                "redirect_not_allowed",
                "redirect_to is not one of the configured OAUTH_REDIRECT_URLS".into(),
            ),
            Self::InvalidOAuthState => (
                400,
                "invalid_state",
                "This sign-in link expired or was already used; start the sign-in again".into(),
            ),
            Self::ProviderUnavailable => (
                502,
                "provider_error",
                "The sign-in provider could not be reached; try again".into(),
            ),
            Self::LastSignInMethod => (
                409,
                "last_sign_in_method",
                "This is the account's last way to sign in; set a password or link another provider first".into(),
            ),
            Self::PasskeyRefused { message, .. } => (400, "passkey_refused", message.clone()),
            Self::NotFound => (404, "not_found", "Not found".into()),
            Self::SlugTaken => (
                409,
                "slug_taken",
                "Another organization uses this slug".into(),
            ),
            Self::OrganizationLimit => (
                403,
                "organization_limit",
                "This account created as many organizations as the service allows".into(),
            ),
            Self::NotAllowed => (
                403,
                "not_allowed",
                "Your role in this organization does not allow this".into(),
            ),
            Self::RoleAboveOwn => (
                403,
                "role_above_own",
                "You cannot give or change a role above your own".into(),
            ),
            Self::LastOwner => (
                409,
                "last_owner",
                "An organization keeps at least one owner; make another member owner first".into(),
            ),
            Self::MemberLimit => (
                409,
                "member_limit",
                "The organization has as many members and pending invitations as the service allows".into(),
            ),
            Self::AlreadyMember => (
                409,
                "already_member",
                "This address's account is already a member".into(),
            ),
            Self::WrongAccount => (
                403,
                "wrong_account",
                "This invitation is for another address; sign in with the account that verified it".into(),
            ),
            Self::InvitationNotFound => (
                404,
                "invitation_not_found",
                "No pending invitation matches: it expired, was revoked or was accepted".into(),
            ),
            Self::InvitedAddressNotVerified => (
                403,
                "email_not_verified",
                "Verify this account's address first, then accept the invitation".into(),
            ),
            Self::TeamNameTaken => (
                409,
                "team_name_taken",
                "Another team of this organization has this name, or it has as many teams as allowed".into(),
            ),
            Self::NotAMember => (
                403,
                "not_a_member",
                "You are not a member of this organization".into(),
            ),
            Self::NoClientSecret => (
                409,
                "no_client_secret",
                "A public client has no secret to rotate".into(),
            ),
            Self::Forbidden => (
                403,
                "forbidden",
                "This request must come from the provider's own pages".into(),
            ),
            Self::MethodNotAllowed { .. } => (405, "method_not_allowed", "Method not allowed".into()),
            // The variable's name and what is wrong with it, never its value (ConfigError).
            Self::Misconfigured(e) => (
                500,
                "server_misconfigured",
                format!("The server is misconfigured: {} {}", e.variable, e.problem),
            ),
            Self::Internal { .. } => (500, "internal", "Internal error".into()),
        }
    }

    /// The stable `error` code of the answer.
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    /// For a server error, what failed, for the log (the request log writes it on the request's
    /// line): a context and the infrastructure's message, or the misconfigured variable. Never a
    /// client's input.
    pub fn cause(&self) -> Option<String> {
        match self {
            Self::Misconfigured(e) => Some(e.to_string()),
            Self::Internal { context, cause } => Some(format!("{context}: {cause}")),
            _ => None,
        }
    }

    /// The JSON answer. The caller logs the error first (`RequestLog::fail`).
    pub fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let mut body = Map::new();
        body.insert("message".into(), Value::String(message));
        body.insert("error".into(), Value::String(code.into()));
        if let Self::Misconfigured(e) = &self {
            body.insert("variable".into(), Value::String(e.variable.to_string()));
        }
        if let Self::PasskeyRefused { reason, .. } = &self {
            body.insert("reason".into(), Value::String((*reason).into()));
        }
        if let Self::EmailNotVerified { verification_token } = &self {
            body.insert(
                "verification_token".into(),
                Value::String(verification_token.clone()),
            );
        }
        if let Self::Validation(violations) = &self {
            let fields: Map<String, Value> = violations
                .0
                .iter()
                .map(|v| (v.field.to_owned(), Value::String(v.reason.to_owned())))
                .collect();
            body.insert("fields".into(), Value::Object(fields));
        }
        let response = crate::edge::response::json(status, &Value::Object(body));
        match self {
            Self::TooManyAttempts { retry_after } => {
                let _ = response
                    .headers()
                    .set("Retry-After", &retry_after.max(1).to_string());
                response
            }
            // RFC 6750 §3 (and RFC 9110 §15.5.2: a 401 names its scheme). One value for every
            // 401, so the header tells a wrong password from an unknown email no better than the body.
            Self::Unauthorized => {
                let _ = response
                    .headers()
                    .set("WWW-Authenticate", "Bearer realm=\"edge-auth\"");
                response
            }
            // RFC 9110 §15.5.6: a 405 lists the methods the resource has.
            Self::MethodNotAllowed { allow } => {
                let _ = response.headers().set("Allow", &allow);
                response
            }
            _ => response,
        }
    }
}

impl From<Violation> for ApiError {
    fn from(violation: Violation) -> Self {
        Self::Validation(violation.into())
    }
}

impl From<Violations> for ApiError {
    fn from(violations: Violations) -> Self {
        Self::Validation(violations)
    }
}
