//! The password asked again of a signed-in caller before a sensitive change (password, email,
//! deletion, a second factor): a stolen access token alone cannot make it (OWASP Authentication
//! Cheat Sheet, "Reauthentication"). Wrong passwords count toward the login lockout of the
//! account's email from the caller's address, exactly as login attempts do; a right one is
//! released at once, so a route that then refuses for another reason (a breached new password,
//! an unchanged email, a wrong second-factor code) never counts it as a failed login.
//! With a second factor on, [`confirm_password_and_factor`] also takes a current code: step-up
//! (NIST SP 800-63B §4.2.3: reauthentication at the session's authenticator assurance level).

use worker::Request;

use crate::core::accounts::email::Email;
use crate::core::body::Body;
use crate::core::mfa::mfa_requests::SecondFactor;
use crate::core::passwords::password_hash;
use crate::core::sessions::access_token::Principal;
use crate::core::violation::{Violation, Violations};
use crate::edge::accounts::sql::users;
use crate::edge::accounts::sql::users::Credentials;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, Db};
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, read_body};
use crate::edge::log::Level;
use crate::edge::mfa::proof::{prove, spend, Factor};
use crate::edge::sessions::bearer::principal;
use crate::edge::sessions::sql::login_attempts;
use crate::edge::state::State;

/// A signed-in request whose body carried the account's password, checked.
pub struct Confirmed<T> {
    /// The body, parsed.
    pub input: T,
    pub principal: Principal,
    pub db: Db,
    pub now: i64,
    pub checked: Reauthenticated,
}

/// How every route that asks for the password again begins: the caller's session (`401`), the
/// body parsed as `T` (`400`), then [`reauthenticate`] with the password `password` finds in it.
pub async fn confirm_password<T>(
    req: &mut Request,
    ctx: &RouteContext,
    password: fn(&T) -> &str,
) -> Result<Confirmed<T>, ApiError>
where
    T: for<'a> TryFrom<&'a Body, Error = Violations>,
{
    let now = now();
    let principal = principal(req, &ctx.data, now)?;
    let input = T::try_from(&read_body(req).await?)?;
    let db = ctx.data.database(&ctx.env)?;
    let checked = reauthenticate(req, &ctx.data, &db, &principal, password(&input), now).await?;
    Ok(Confirmed {
        input,
        principal,
        db,
        now,
        checked,
    })
}

/// Like [`confirm_password`], and once the account has a second factor on, a current code of it
/// too (`mfa_code`: TOTP or recovery), proved and spent before the change: `400
/// validation_failed` naming `mfa_code` when it is missing, `400 invalid_mfa_code` when wrong.
pub async fn confirm_password_and_factor<T>(
    req: &mut Request,
    ctx: &RouteContext,
    password: fn(&T) -> &str,
    mfa_code: fn(&T) -> Option<&SecondFactor>,
) -> Result<Confirmed<T>, ApiError>
where
    T: for<'a> TryFrom<&'a Body, Error = Violations>,
{
    let confirmed = confirm_password(req, ctx, password).await?;
    if confirmed.checked.account.mfa_enabled != 0 {
        let user_id = confirmed.principal.user_id;
        let code = mfa_code(&confirmed.input);
        step_up(&ctx.data, &confirmed.db, user_id, code, confirmed.now).await?;
    }
    Ok(confirmed)
}

/// The current code of an account whose factor is on, proved and spent: `400
/// validation_failed` naming `mfa_code` when it is missing, `400 invalid_mfa_code` when wrong.
pub async fn step_up(
    state: &State,
    db: &Db,
    user_id: i64,
    code: Option<&SecondFactor>,
    now: i64,
) -> Result<(), ApiError> {
    let code = code.ok_or_else(|| {
        ApiError::from(Violation::new(
            "mfa_code",
            "missing",
            "mfa_code is required: this account has two-step sign-in on",
        ))
    })?;
    let (proof, _) = prove(state, db, user_id, code, Factor::Enabled, now, Vec::new()).await?;
    spend(db, user_id, proof).await
}

/// Before a way into the account is added or removed (a passkey, a provider): whatever the
/// account signs in with is asked again, its password if it has one, and its current factor
/// once on; an account without a password (a provider or a passkey made it) proves instead that
/// its session signed in within `REAUTH_MAX_AGE_SECONDS` (OWASP Authentication Cheat Sheet,
/// "Reauthentication"; NIST SP 800-63B §4.2.3). The body's `password` and `mfa_code` are read
/// here. `account` must have been read through the caller's live session.
pub async fn confirm_way_in_change(
    req: &Request,
    state: &State,
    db: &Db,
    principal: &Principal,
    account: &Credentials,
    body: &Body,
    now: i64,
) -> Result<(), ApiError> {
    let password = body.optional_string("password")?;
    let mfa_code = SecondFactor::from_field(body, "mfa_code")?;
    if account.password_hash.is_empty() {
        if principal.auth_time < now - state.config.reauth_max_age_seconds {
            return Err(ApiError::ReauthenticationRequired);
        }
    } else {
        let password = password.ok_or_else(|| ApiError::from(Violation::missing("password")))?;
        reauthenticate(req, state, db, principal, password, now).await?;
    }
    if account.mfa_enabled != 0 {
        step_up(state, db, principal.user_id, mfa_code.as_ref(), now).await?;
    }
    Ok(())
}

/// A caller whose password was just checked.
pub struct Reauthenticated {
    pub account: Credentials,
    pub email: Email,
}

/// Checks `password` against the caller's account: `401` if the session is not live, `429`
/// when the login lockout holds, `403 invalid_password` when wrong. Two round trips (the
/// account; the attempt counts) and one password verification.
pub async fn reauthenticate(
    req: &Request,
    state: &State,
    db: &Db,
    principal: &Principal,
    password: &str,
    now: i64,
) -> Result<Reauthenticated, ApiError> {
    let account = users::account_by_session(db, principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let email = Email::parse(&account.email)
        .map_err(|e| ApiError::internal("read account email", e.message))?;
    if account.password_hash.is_empty() {
        return Err(ApiError::NoPassword);
    }
    let client = client_address(req);
    let limits = state.config.lockout_limits();
    let reserve = login_attempts::reserve(db, &email, &client, now, limits)?;
    let counted = batch(db, reserve.into(), "count password check").await?;
    login_attempts::judge(&counted[0], &counted[1], limits, now)?;
    let verified = password_hash::verify(password, &account.password_hash).unwrap_or_else(|e| {
        state.log.event(
            Level::Error,
            format!("account {}: unreadable password hash: {e}", account.id),
        );
        false
    });
    if !verified {
        return Err(ApiError::InvalidPassword);
    }
    let release = login_attempts::record_success(db, &email, &client, &principal.session_id)?;
    batch(db, release.into(), "release password check").await?;
    Ok(Reauthenticated { account, email })
}
