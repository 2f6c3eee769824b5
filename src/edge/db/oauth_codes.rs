//! The `oauth_codes` table: the one-time code a social sign-in's callback hands the app, never a
//! token in a URL (RFC 9700 §4.3.3). Seconds-lived, single use, kept as its SHA-256 digest and
//! bound to the app's PKCE `code_challenge`, so a code seen on its way back is useless without
//! the verifier that stayed in the app.

use serde::Deserialize;

use super::{batch, first, int, statement, text, Db};
use crate::edge::error::ApiError;

const CREATE_SQL: &str =
    "INSERT INTO oauth_codes (digest, user_id, app_challenge, expires_at, used_at) \
    VALUES (?1, ?2, ?3, ?4, NULL)";
/// The live, unused code `?1`, used now; its account and challenge.
const USE_SQL: &str = "UPDATE oauth_codes SET used_at = ?2 \
    WHERE digest = ?1 AND used_at IS NULL AND expires_at > ?2 \
    RETURNING user_id, app_challenge";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[CREATE_SQL, USE_SQL];

/// How long the app has to exchange the code.
pub const TTL_SECONDS: i64 = 60;

/// Stores a code for `user_id` bound to `app_challenge` (one round trip).
pub async fn create(
    db: &Db,
    digest: &str,
    user_id: i64,
    app_challenge: &str,
    now: i64,
) -> Result<(), ApiError> {
    let args = [
        text(digest),
        int(user_id),
        text(app_challenge),
        int(now + TTL_SECONDS),
    ];
    batch(
        db,
        vec![statement(db, CREATE_SQL, &args)?],
        "store oauth code",
    )
    .await?;
    Ok(())
}

/// A code, used.
#[derive(Debug, Deserialize)]
pub struct Used {
    pub user_id: i64,
    pub app_challenge: String,
}

/// Uses the code of `digest`: `None` if unknown, used or expired. Used even when the verifier
/// then proves wrong, so a code gets one try.
pub async fn take(db: &Db, digest: &str, now: i64) -> Result<Option<Used>, ApiError> {
    first(
        db,
        statement(db, USE_SQL, &[text(digest), int(now)])?,
        "use oauth code",
    )
    .await
}
