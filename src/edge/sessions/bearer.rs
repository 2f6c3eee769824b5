//! Bearer authentication: a valid access token names a user and a session. Whether that session
//! is still live is checked by the handler's own SQL, in the same round trip as its work.

use worker::Request;

use crate::core::sessions::access_token;
use crate::core::sessions::access_token::{Principal, TokenSettings};
use std::cell::RefCell;

use crate::core::config::Config;
use crate::core::sessions::verified_tokens::VerifiedTokens;
use crate::edge::error::ApiError;
use crate::edge::http::bearer_credential;
use crate::edge::state::State;

/// The token settings of this configuration, for issuing and checking.
pub fn token_settings(config: &Config) -> TokenSettings<'_> {
    TokenSettings {
        keys: &config.token_keys,
        issuer: &config.issuer,
        audience: &config.audience,
        ttl_seconds: config.access_token_ttl,
    }
}

/// The principal of the request's `Authorization: Bearer` access token. Every failure is the
/// same `401`, whatever its reason (API.md "Routes").
pub fn principal(req: &Request, state: &State, now: i64) -> Result<Principal, ApiError> {
    let token = bearer_credential(req).ok_or(ApiError::Unauthorized)?;
    let token = token.as_str();
    let principal = match VERIFIED.with(|cache| cache.borrow().get(token, now)) {
        Some(principal) => principal,
        None => {
            let (principal, expires_at) =
                access_token::verify_until(&token_settings(&state.config), token, now)
                    .map_err(|_| ApiError::Unauthorized)?;
            VERIFIED.with(|cache| {
                cache
                    .borrow_mut()
                    .insert(token, principal.clone(), expires_at, now)
            });
            principal
        }
    };
    state.log.set_user(principal.user_id);
    Ok(principal)
}

thread_local! {
    /// The access tokens this isolate verified (`core/verified_tokens.rs`). The keys do not
    /// change while an isolate lives (its configuration is read once), so neither does a
    /// token's verdict before its `exp`.
    static VERIFIED: RefCell<VerifiedTokens> = RefCell::new(VerifiedTokens::default());
}

/// A signed-in caller whose session was checked live in D1 (one round trip), for the routes
/// whose own statements do not check it (listing and changing sign-in methods).
pub struct LiveCaller {
    pub principal: Principal,
    pub db: crate::edge::db::Db,
    pub now: i64,
    pub account: crate::edge::accounts::sql::users::Credentials,
}

/// The caller of `req`: `401` without a valid token or a live session.
pub async fn live_caller(
    req: &Request,
    ctx: &crate::edge::context::RouteContext,
) -> Result<LiveCaller, ApiError> {
    let db = ctx.data.database(&ctx.env)?;
    caller_on(req, ctx, db).await
}

/// The same for a read-only route, on a D1 session that may read from the nearest replica (no
/// older than the client's last bookmark): a session revoked elsewhere may still read there for
/// as long as the replica lags (README, "Reads near the user").
pub async fn live_reader(
    req: &Request,
    ctx: &crate::edge::context::RouteContext,
) -> Result<LiveCaller, ApiError> {
    let db = ctx.data.reader(&ctx.env, req)?;
    caller_on(req, ctx, db).await
}

async fn caller_on(
    req: &Request,
    ctx: &crate::edge::context::RouteContext,
    db: crate::edge::db::Db,
) -> Result<LiveCaller, ApiError> {
    let now = crate::edge::bindings::now();
    let principal = principal(req, &ctx.data, now)?;
    let account = crate::edge::accounts::sql::users::account_by_session(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(LiveCaller {
        principal,
        db,
        now,
        account,
    })
}
