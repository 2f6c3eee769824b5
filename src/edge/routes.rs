//! The routes: one static table (`ROUTES`), looked up per request by `router.rs`, and the call of
//! each endpoint's handler. (workers-rs's `Router` builds a radix tree of every route on every
//! request, since it owns the request's data: about a tenth of `GET /health`'s CPU, BENCHMARKS.md
//! "Per-request CPU". A table of 60 routes needs no tree.)

use worker::{Env, Method, Request, Response};

use crate::edge::accounts::{credentials, profile, routes as account};
use crate::edge::codes::verification;
use crate::edge::context::RouteContext;
use crate::edge::email_sign_in::routes as email_sign_in;
use crate::edge::error::ApiError;
use crate::edge::events::routes as events;
use crate::edge::meta::{health, jwks, openapi};
use crate::edge::mfa::routes as mfa;
use crate::edge::mfa::second_step as mfa_step;
use crate::edge::operators::{
    actions as admin_actions, trail as admin_trail, users as admin_users,
};
use crate::edge::passkeys::{
    manage as passkey_list, routes as passkeys, second_step as passkey_factor,
    sign_up as passkey_sign_up,
};
use crate::edge::passwords::reset as password_reset;
use crate::edge::sessions::{list as session_list, routes as session};
use crate::edge::social::{links as identities, sign_in as oauth};
use crate::edge::state::State;

/// Whether a route sits behind the flood shield (the unauthenticated routes that take a body).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shield {
    On,
    Off,
}

/// Every endpoint, named by its handler.
#[derive(Clone, Copy)]
pub enum Endpoint {
    Health,
    Jwks,
    OpenApi,
    Register,
    Login,
    LoginMfa,
    Refresh,
    Logout,
    ResetPassword,
    UpdatePassword,
    UpdateProfile,
    Me,
    DeleteMe,
    VerifyEmail,
    ResendVerification,
    ChangePassword,
    ChangeEmail,
    ConfirmEmailChange,
    EnrollTotp,
    ConfirmTotp,
    DisableTotp,
    ListSessions,
    EndSession,
    OAuthStart,
    OAuthCallback,
    OAuthLink,
    OAuthToken,
    ListIdentities,
    CompleteLink,
    Unlink,
    PasskeyRegisterOptions,
    PasskeyRegister,
    PasskeyLoginOptions,
    PasskeyLogin,
    PasskeySignUpOptions,
    PasskeySignUp,
    PasskeyFactorOptions,
    PasskeyFactor,
    EmailSignIn,
    EmailSignInCode,
    EmailSignInLink,
    MyEvents,
    AdminListUsers,
    AdminCreateUser,
    AdminGetUser,
    AdminUpdateUser,
    AdminDeleteUser,
    AdminDisableUser,
    AdminEnableUser,
    AdminRemoveFactors,
    AdminEndSessions,
    AdminSendReset,
    AdminUserEvents,
    AdminEvents,
    ListPasskeys,
    RenamePasskey,
    DeletePasskey,
}

use Endpoint as E;
use Shield::{Off, On};

/// Method, pattern (as the log shows it), endpoint, shield. A `{id}` segment of a pattern matches
/// one non-empty path segment there.
pub const ROUTES: &[(Method, &str, Endpoint, Shield)] = &[
    (Method::Get, "/health", E::Health, Off),
    (Method::Get, "/.well-known/jwks.json", E::Jwks, Off),
    (Method::Get, "/openapi.json", E::OpenApi, Off),
    (Method::Post, "/register", E::Register, On),
    (Method::Post, "/login", E::Login, On),
    (Method::Post, "/login/mfa", E::LoginMfa, On),
    (Method::Post, "/refresh", E::Refresh, On),
    (Method::Post, "/logout", E::Logout, Off),
    (Method::Post, "/reset-password", E::ResetPassword, On),
    (Method::Post, "/update-password", E::UpdatePassword, On),
    (Method::Put, "/update-profile", E::UpdateProfile, Off),
    (Method::Get, "/me", E::Me, Off),
    (Method::Delete, "/me", E::DeleteMe, Off),
    (Method::Post, "/verify-email", E::VerifyEmail, On),
    (
        Method::Post,
        "/resend-verification",
        E::ResendVerification,
        On,
    ),
    (Method::Post, "/change-password", E::ChangePassword, Off),
    (Method::Post, "/change-email", E::ChangeEmail, Off),
    (
        Method::Post,
        "/confirm-email-change",
        E::ConfirmEmailChange,
        Off,
    ),
    (Method::Post, "/mfa/totp/enroll", E::EnrollTotp, Off),
    (Method::Post, "/mfa/totp/confirm", E::ConfirmTotp, Off),
    (Method::Post, "/mfa/totp/disable", E::DisableTotp, Off),
    (Method::Get, "/sessions", E::ListSessions, Off),
    (Method::Delete, "/sessions/{id}", E::EndSession, Off),
    // Behind the shield: every start stores a row (and the rows per client are capped too).
    (Method::Get, "/oauth/{id}/start", E::OAuthStart, On),
    (Method::Get, "/oauth/{id}/callback", E::OAuthCallback, Off),
    (Method::Post, "/oauth/{id}/link", E::OAuthLink, Off),
    (Method::Post, "/oauth/token", E::OAuthToken, On),
    (Method::Get, "/identities", E::ListIdentities, Off),
    (Method::Post, "/identities", E::CompleteLink, Off),
    (Method::Delete, "/identities/{id}", E::Unlink, Off),
    (
        Method::Post,
        "/passkeys/register/options",
        E::PasskeyRegisterOptions,
        Off,
    ),
    (Method::Post, "/passkeys/register", E::PasskeyRegister, Off),
    (
        Method::Post,
        "/passkeys/login/options",
        E::PasskeyLoginOptions,
        On,
    ),
    (Method::Post, "/passkeys/login", E::PasskeyLogin, On),
    (
        Method::Post,
        "/passkeys/signup/options",
        E::PasskeySignUpOptions,
        On,
    ),
    (Method::Post, "/passkeys/signup", E::PasskeySignUp, On),
    (
        Method::Post,
        "/login/mfa/passkey/options",
        E::PasskeyFactorOptions,
        On,
    ),
    (Method::Post, "/login/mfa/passkey", E::PasskeyFactor, On),
    (Method::Post, "/email-sign-in", E::EmailSignIn, On),
    (Method::Post, "/email-sign-in/code", E::EmailSignInCode, On),
    (Method::Post, "/email-sign-in/link", E::EmailSignInLink, On),
    (Method::Get, "/me/events", E::MyEvents, Off),
    // The admin API: an admin key as the bearer; absent without ADMIN_API_KEYS.
    (Method::Get, "/admin/users", E::AdminListUsers, Off),
    (Method::Post, "/admin/users", E::AdminCreateUser, Off),
    (Method::Get, "/admin/users/{id}", E::AdminGetUser, Off),
    (Method::Patch, "/admin/users/{id}", E::AdminUpdateUser, Off),
    (Method::Delete, "/admin/users/{id}", E::AdminDeleteUser, Off),
    (
        Method::Post,
        "/admin/users/{id}/disable",
        E::AdminDisableUser,
        Off,
    ),
    (
        Method::Post,
        "/admin/users/{id}/enable",
        E::AdminEnableUser,
        Off,
    ),
    (
        Method::Delete,
        "/admin/users/{id}/factors",
        E::AdminRemoveFactors,
        Off,
    ),
    (
        Method::Delete,
        "/admin/users/{id}/sessions",
        E::AdminEndSessions,
        Off,
    ),
    (
        Method::Post,
        "/admin/users/{id}/password-reset",
        E::AdminSendReset,
        Off,
    ),
    (
        Method::Get,
        "/admin/users/{id}/events",
        E::AdminUserEvents,
        Off,
    ),
    (Method::Get, "/admin/events", E::AdminEvents, Off),
    (Method::Get, "/passkeys", E::ListPasskeys, Off),
    (Method::Put, "/passkeys/{id}", E::RenamePasskey, Off),
    (Method::Delete, "/passkeys/{id}", E::DeletePasskey, Off),
];

/// Runs the endpoint's handler.
pub async fn call(
    endpoint: Endpoint,
    req: Request,
    data: State,
    env: Env,
    param: Option<String>,
) -> Result<Response, ApiError> {
    let ctx = RouteContext::new(data, env, param);
    match endpoint {
        E::Health => health::health(req, ctx).await,
        E::Jwks => jwks::jwks(req, ctx).await,
        E::OpenApi => openapi::openapi(req, ctx).await,
        E::Register => account::register(req, ctx).await,
        E::Login => session::login(req, ctx).await,
        E::LoginMfa => mfa_step::login_mfa(req, ctx).await,
        E::Refresh => session::refresh(req, ctx).await,
        E::Logout => session::logout(req, ctx).await,
        E::ResetPassword => password_reset::request_code(req, ctx).await,
        E::UpdatePassword => password_reset::update_password(req, ctx).await,
        E::UpdateProfile => profile::update_profile(req, ctx).await,
        E::Me => profile::me(req, ctx).await,
        E::DeleteMe => account::delete_me(req, ctx).await,
        E::VerifyEmail => verification::verify_email(req, ctx).await,
        E::ResendVerification => verification::resend_verification(req, ctx).await,
        E::ChangePassword => credentials::change_password(req, ctx).await,
        E::ChangeEmail => credentials::change_email(req, ctx).await,
        E::ConfirmEmailChange => credentials::confirm_email_change(req, ctx).await,
        E::EnrollTotp => mfa::enroll(req, ctx).await,
        E::ConfirmTotp => mfa::confirm(req, ctx).await,
        E::DisableTotp => mfa::disable(req, ctx).await,
        E::ListSessions => session_list::list_sessions(req, ctx).await,
        E::EndSession => session_list::end_session(req, ctx).await,
        E::OAuthStart => oauth::start(req, ctx).await,
        E::OAuthCallback => oauth::callback(req, ctx).await,
        E::OAuthLink => identities::start(req, ctx).await,
        E::CompleteLink => identities::complete(req, ctx).await,
        E::OAuthToken => oauth::exchange(req, ctx).await,
        E::ListIdentities => identities::list(req, ctx).await,
        E::Unlink => identities::unlink(req, ctx).await,
        E::PasskeyRegisterOptions => passkeys::register_options(req, ctx).await,
        E::PasskeyRegister => passkeys::register(req, ctx).await,
        E::PasskeyLoginOptions => passkeys::login_options(req, ctx).await,
        E::PasskeyLogin => passkeys::login(req, ctx).await,
        E::PasskeySignUpOptions => passkey_sign_up::options(req, ctx).await,
        E::PasskeySignUp => passkey_sign_up::complete(req, ctx).await,
        E::PasskeyFactorOptions => passkey_factor::options(req, ctx).await,
        E::PasskeyFactor => passkey_factor::complete(req, ctx).await,
        E::EmailSignIn => email_sign_in::start(req, ctx).await,
        E::EmailSignInCode => email_sign_in::with_code(req, ctx).await,
        E::EmailSignInLink => email_sign_in::with_link(req, ctx).await,
        E::MyEvents => events::my_events(req, ctx).await,
        E::AdminListUsers => admin_users::list_users(req, ctx).await,
        E::AdminCreateUser => admin_users::create_user(req, ctx).await,
        E::AdminGetUser => admin_users::get_user(req, ctx).await,
        E::AdminUpdateUser => admin_users::update_user(req, ctx).await,
        E::AdminDeleteUser => admin_users::delete_user(req, ctx).await,
        E::AdminDisableUser => admin_actions::disable_user(req, ctx).await,
        E::AdminEnableUser => admin_actions::enable_user(req, ctx).await,
        E::AdminRemoveFactors => admin_actions::remove_factors(req, ctx).await,
        E::AdminEndSessions => admin_actions::end_sessions(req, ctx).await,
        E::AdminSendReset => admin_actions::send_reset(req, ctx).await,
        E::AdminUserEvents => admin_trail::user_events(req, ctx).await,
        E::AdminEvents => admin_trail::all_events(req, ctx).await,
        E::ListPasskeys => passkey_list::list(req, ctx).await,
        E::RenamePasskey => passkey_list::rename(req, ctx).await,
        E::DeletePasskey => passkey_list::delete(req, ctx).await,
    }
}
