//! The `oauth_states` table: a social sign-in between `/oauth/{provider}/start` and its callback.
//! The `state` is kept as its SHA-256 digest and taken in one statement (`DELETE … RETURNING`),
//! so a replayed or parallel callback finds nothing (RFC 9700 §4.7: one-time use of state).

use serde::Deserialize;
use wasm_bindgen::JsValue;

use super::{batch, first, int, statement, text, Db};
use crate::edge::error::ApiError;

const CREATE_SQL: &str = "INSERT INTO oauth_states \
      (digest, provider, nonce, verifier, redirect_to, app_challenge, link_user_id, expires_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
/// The live state `?1` of provider `?2`, taken.
const TAKE_SQL: &str =
    "DELETE FROM oauth_states WHERE digest = ?1 AND provider = ?2 AND expires_at > ?3 \
    RETURNING nonce, verifier, redirect_to, app_challenge, link_user_id";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[CREATE_SQL, TAKE_SQL];

/// A sign-in in flight.
pub struct NewState<'a> {
    pub digest: &'a str,
    pub provider: &'a str,
    pub nonce: &'a str,
    pub verifier: &'a str,
    pub redirect_to: &'a str,
    pub app_challenge: &'a str,
    pub link_user_id: Option<i64>,
    pub expires_at: i64,
}

/// What a callback finds.
#[derive(Debug, Deserialize)]
pub struct Taken {
    pub nonce: String,
    pub verifier: String,
    pub redirect_to: String,
    pub app_challenge: String,
    pub link_user_id: Option<i64>,
}

/// Stores a state (one round trip).
pub async fn create(db: &Db, state: &NewState<'_>) -> Result<(), ApiError> {
    let link = state.link_user_id.map_or(JsValue::NULL, int);
    let args = [
        text(state.digest),
        text(state.provider),
        text(state.nonce),
        text(state.verifier),
        text(state.redirect_to),
        text(state.app_challenge),
        link,
        int(state.expires_at),
    ];
    batch(
        db,
        vec![statement(db, CREATE_SQL, &args)?],
        "store oauth state",
    )
    .await?;
    Ok(())
}

/// Takes the live state of `digest` for `provider`: `None` if unknown, used or expired.
pub async fn take(
    db: &Db,
    digest: &str,
    provider: &str,
    now: i64,
) -> Result<Option<Taken>, ApiError> {
    let args = [text(digest), text(provider), int(now)];
    first(db, statement(db, TAKE_SQL, &args)?, "take oauth state").await
}
