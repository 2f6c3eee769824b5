//! Bearer authentication: a valid access token names a user and a session. Whether that session
//! is still live is checked by the handler's own SQL, in the same round trip as its work.

use worker::Request;

use crate::core::access_token::{self, Principal, TokenSettings};
use crate::core::config::Config;
use crate::edge::error::ApiError;
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
    let header = req
        .headers()
        .get("Authorization")
        .ok()
        .flatten()
        .ok_or(ApiError::Unauthorized)?;
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(ApiError::Unauthorized);
    }
    let principal = access_token::verify(&token_settings(&state.config), token.trim(), now)
        .map_err(|_| ApiError::Unauthorized)?;
    state.log.set_user(principal.user_id);
    Ok(principal)
}
