//! Sessions as the provider sees them: the browser session its cookie names, and the grants
//! (sessions of a client) that its tokens stand for.

use serde::Deserialize;

use wasm_bindgen::JsValue;

use crate::edge::db::{first, int, nullable_text, statement, text, Db};
use crate::edge::error::ApiError;

/// The cookie joins a live first-party session of the caller.
const SET_COOKIE_SQL: &str = "UPDATE sessions SET cookie_digest = ?3 \
    WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?4 AND client_id IS NULL \
    RETURNING id";
/// The person a cookie names, if its session is live and the account enabled.
const BY_COOKIE_SQL: &str = "SELECT s.id, s.user_id, s.created_at AS auth_time, u.email \
    FROM sessions s JOIN users u ON u.id = s.user_id \
    WHERE s.cookie_digest = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2 \
      AND NOT (u.disabled_at IS NOT NULL AND (u.disabled_until IS NULL OR u.disabled_until > ?2))";
/// Signing out of the provider ends the cookie's session.
const END_BY_COOKIE_SQL: &str = "UPDATE sessions SET revoked_at = ?2 \
    WHERE cookie_digest = ?1 AND revoked_at IS NULL";
/// A grant, if live, with what UserInfo tells of its account.
const LIVE_GRANT_SQL: &str = "SELECT s.user_id, u.email, u.name, u.email_verified_at \
    FROM sessions s JOIN users u ON u.id = s.user_id \
    WHERE s.id = ?1 AND s.client_id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3 \
      AND NOT (u.disabled_at IS NOT NULL AND (u.disabled_until IS NULL OR u.disabled_until > ?3))";
/// An unspent refresh token of a live grant, for introspection.
const LIVE_REFRESH_SQL: &str = "SELECT s.id AS session_id, s.user_id, s.client_id, s.scope, \
      s.resource, s.expires_at, t.issued_at \
    FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
    WHERE t.digest = ?1 AND t.rotated_at IS NULL AND s.revoked_at IS NULL AND s.expires_at > ?2 \
      AND s.client_id IS NOT NULL";
/// Revocation (RFC 7009) of a refresh token: its grant, if it is the client's.
const REVOKE_BY_REFRESH_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE revoked_at IS NULL AND client_id = ?2 \
      AND id = (SELECT session_id FROM refresh_tokens WHERE digest = ?1)";
/// Revocation of an access token: its grant, if it is the client's.
const REVOKE_BY_ID_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE id = ?1 AND client_id = ?2 AND revoked_at IS NULL";

/// A spend of a single-use code (an authorization code, an approved device code) into a grant:
/// the arguments of its batch. `?1` the code's digest, `?2` this request's marker, `?3` the
/// grant's session id, `?4` now, `?5` the grant's end, `?6` the client's User-Agent.
pub struct Spend<'a> {
    pub digest: &'a str,
    pub marker: &'a str,
    pub session_id: &'a str,
    pub expires_at: i64,
    pub user_agent: Option<&'a str>,
}

impl Spend<'_> {
    pub fn args(&self, now: i64) -> [JsValue; 6] {
        [
            text(self.digest),
            text(self.marker),
            text(self.session_id),
            int(now),
            int(self.expires_at),
            nullable_text(self.user_agent),
        ]
    }
}

pub const STATEMENTS: &[&str] = &[
    SET_COOKIE_SQL,
    BY_COOKIE_SQL,
    END_BY_COOKIE_SQL,
    LIVE_GRANT_SQL,
    LIVE_REFRESH_SQL,
    REVOKE_BY_REFRESH_SQL,
    REVOKE_BY_ID_SQL,
];

#[derive(Deserialize)]
struct Id {
    #[allow(dead_code)]
    id: String,
}

pub async fn set_cookie(
    db: &Db,
    session_id: &str,
    user_id: i64,
    digest: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let args = [text(session_id), int(user_id), text(digest), int(now)];
    Ok(first::<Id>(
        db,
        statement(db, SET_COOKIE_SQL, &args)?,
        "set provider cookie",
    )
    .await?
    .is_some())
}

/// The browser session of a cookie.
#[derive(Debug, Deserialize)]
pub struct Browser {
    pub id: String,
    pub user_id: i64,
    pub auth_time: i64,
    pub email: String,
}

pub async fn by_cookie(db: &Db, digest: &str, now: i64) -> Result<Option<Browser>, ApiError> {
    first(
        db,
        statement(db, BY_COOKIE_SQL, &[text(digest), int(now)])?,
        "read provider cookie",
    )
    .await
}

pub async fn end_by_cookie(db: &Db, digest: &str, now: i64) -> Result<(), ApiError> {
    first::<serde_json::Value>(
        db,
        statement(db, END_BY_COOKIE_SQL, &[text(digest), int(now)])?,
        "end provider session",
    )
    .await?;
    Ok(())
}

/// A live grant's account.
#[derive(Debug, Deserialize)]
pub struct GrantAccount {
    pub user_id: i64,
    pub email: String,
    pub name: Option<String>,
    pub email_verified_at: Option<i64>,
}

pub async fn live_grant(
    db: &Db,
    session_id: &str,
    client_id: &str,
    now: i64,
) -> Result<Option<GrantAccount>, ApiError> {
    let args = [text(session_id), text(client_id), int(now)];
    first(db, statement(db, LIVE_GRANT_SQL, &args)?, "read grant").await
}

/// A live refresh token's grant.
#[derive(Debug, Deserialize)]
pub struct RefreshGrant {
    pub session_id: String,
    pub user_id: i64,
    pub client_id: String,
    pub scope: Option<String>,
    pub resource: Option<String>,
    pub expires_at: i64,
    pub issued_at: i64,
}

pub async fn live_refresh(
    db: &Db,
    digest: &str,
    now: i64,
) -> Result<Option<RefreshGrant>, ApiError> {
    first(
        db,
        statement(db, LIVE_REFRESH_SQL, &[text(digest), int(now)])?,
        "read refresh grant",
    )
    .await
}

pub async fn revoke_by_refresh(
    db: &Db,
    digest: &str,
    client_id: &str,
    now: i64,
) -> Result<(), ApiError> {
    let args = [text(digest), text(client_id), int(now)];
    first::<serde_json::Value>(
        db,
        statement(db, REVOKE_BY_REFRESH_SQL, &args)?,
        "revoke refresh grant",
    )
    .await?;
    Ok(())
}

pub async fn revoke_by_id(
    db: &Db,
    session_id: &str,
    client_id: &str,
    now: i64,
) -> Result<(), ApiError> {
    let args = [text(session_id), text(client_id), int(now)];
    first::<serde_json::Value>(db, statement(db, REVOKE_BY_ID_SQL, &args)?, "revoke grant").await?;
    Ok(())
}
