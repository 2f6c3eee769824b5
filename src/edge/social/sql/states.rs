//! The `oauth_states` table: a social sign-in between `/oauth/{provider}/start` and its callback.
//! The `state` is kept as its SHA-256 digest and taken in one statement (`DELETE … RETURNING`),
//! so a replayed or parallel callback finds nothing (RFC 9700 §4.7: one-time use of state).

use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::core::sessions::access_token::Principal;
use crate::edge::db::{batch, first, int, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// A state, unless the client `?10` has `?12` live ones at `?11` already (each start stores a
/// row, so without a cap one client could fill the table: OWASP Denial of Service Cheat Sheet).
const CREATE_SQL: &str = "INSERT INTO oauth_states \
      (digest, provider, nonce, verifier, redirect_to, app_challenge, link_user_id, expires_at, \
       session_id, client) \
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 \
    WHERE (SELECT COUNT(*) FROM oauth_states WHERE client = ?10 AND expires_at > ?11) < ?12 \
    RETURNING digest";
/// The live state `?1` of provider `?2`, taken.
const TAKE_SQL: &str =
    "DELETE FROM oauth_states WHERE digest = ?1 AND provider = ?2 AND expires_at > ?3 \
    RETURNING nonce, verifier, redirect_to, app_challenge, link_user_id, session_id";

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
    /// A link's account and session.
    pub link: Option<&'a Principal>,
    pub expires_at: i64,
    pub client: &'a str,
}

/// Sign-ins and links one client address may have in flight at once.
pub const LIVE_PER_CLIENT: i64 = 20;

/// What a callback finds.
#[derive(Debug, Deserialize)]
pub struct Taken {
    pub nonce: String,
    pub verifier: String,
    pub redirect_to: String,
    pub app_challenge: String,
    pub link_user_id: Option<i64>,
    /// The session that asked for a link.
    pub session_id: Option<String>,
}

/// Stores a state (one round trip); `false` when the client has too many in flight.
pub async fn create(db: &Db, state: &NewState<'_>, now: i64) -> Result<bool, ApiError> {
    let (link_user_id, session_id) = match state.link {
        Some(principal) => (int(principal.user_id), text(&principal.session_id)),
        None => (JsValue::NULL, JsValue::NULL),
    };
    let args = [
        text(state.digest),
        text(state.provider),
        text(state.nonce),
        text(state.verifier),
        text(state.redirect_to),
        text(state.app_challenge),
        link_user_id,
        int(state.expires_at),
        session_id,
        text(state.client),
        int(now),
        int(LIVE_PER_CLIENT),
    ];
    let stored = batch(
        db,
        vec![statement(db, CREATE_SQL, &args)?],
        "store oauth state",
    )
    .await?;
    #[derive(Deserialize)]
    struct Stored {
        #[allow(dead_code)]
        digest: String,
    }
    Ok(!rows::<Stored>(&stored[0], "read oauth state")?.is_empty())
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
