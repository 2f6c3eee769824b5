//! The password asked again of a signed-in caller before a sensitive change (password, email,
//! deletion, a second factor): a stolen access token alone cannot make it (OWASP Authentication
//! Cheat Sheet, "Reauthentication"). Wrong passwords count toward the login lockout of the
//! account's email from the caller's address, exactly as login attempts do.

use worker::{D1PreparedStatement, Request};

use crate::core::access_token::Principal;
use crate::core::body::Body;
use crate::core::email::Email;
use crate::core::password_hash;
use crate::core::violation::Violations;
use crate::edge::auth::principal;
use crate::edge::db::users::{self, Credentials};
use crate::edge::db::{batch, login_attempts, Db};
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, read_body};
use crate::edge::log::Level;
use crate::edge::routes::RouteContext;
use crate::edge::state::{now, State};

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

/// A caller whose password was just checked.
pub struct Reauthenticated {
    pub account: Credentials,
    pub email: Email,
    /// Releases the attempt this check counted: for the batch that makes the change.
    pub release_attempt: [D1PreparedStatement; 2],
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
    let release_attempt =
        login_attempts::record_success(db, &email, &client, &principal.session_id)?;
    Ok(Reauthenticated {
        account,
        email,
        release_attempt,
    })
}
