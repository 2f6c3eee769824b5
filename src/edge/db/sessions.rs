//! The `sessions` and `refresh_tokens` tables: logins, rotation, reuse detection, revocation.

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{batch, int, rows, statement, text};
use crate::core::access_token::Principal;
use crate::edge::error::ApiError;

/// A new session (run in the login's success batch).
pub fn create(
    db: &D1Database,
    session_id: &str,
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let sql = "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)";
    statement(
        db,
        sql,
        &[text(session_id), int(user_id), int(now), int(expires_at)],
    )
}

/// The first refresh token of a new session.
pub fn add_refresh_token(
    db: &D1Database,
    digest: &str,
    session_id: &str,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let sql = "INSERT INTO refresh_tokens (digest, session_id, issued_at) VALUES (?1, ?2, ?3)";
    statement(db, sql, &[text(digest), text(session_id), int(now)])
}

/// Who a refresh was granted to.
#[derive(Debug, Deserialize)]
pub struct Rotation {
    pub session_id: String,
    pub user_id: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

impl Rotation {
    /// Whether the presented token may be exchanged for its successor: the session is live and
    /// the token was spent by this request or within the grace window before it.
    pub fn granted(&self, now: i64, grace: i64) -> bool {
        self.revoked_at.is_none()
            && self.expires_at > now
            && self.rotated_at.is_some_and(|at| at >= now - grace)
    }
}

/// Rotates a refresh token in one transaction (RFC 9700 §4.14.2):
/// 1. an unspent token of a live session is marked spent;
/// 2. its successor is recorded, unless an earlier request within the grace window did so
///    already (the successor is derived from the token, so both get the same one);
/// 3. a token spent before the grace window is reuse: its whole session is revoked;
/// 4. the outcome is read back.
pub async fn rotate(
    db: &D1Database,
    presented_digest: &str,
    successor_digest: &str,
    now: i64,
    grace: i64,
) -> Result<Option<Rotation>, ApiError> {
    let live =
        "session_id IN (SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > ?3)";
    let args = [
        text(presented_digest),
        text(successor_digest),
        int(now),
        int(grace),
    ];
    let spend = format!(
        "UPDATE refresh_tokens SET rotated_at = ?3 WHERE digest = ?1 AND rotated_at IS NULL AND {live}"
    );
    let record_successor = format!(
        "INSERT OR IGNORE INTO refresh_tokens (digest, session_id, issued_at) \
         SELECT ?2, session_id, ?3 FROM refresh_tokens \
         WHERE digest = ?1 AND rotated_at >= ?3 - ?4 AND {live}"
    );
    let revoke_on_reuse = "UPDATE sessions SET revoked_at = ?3 WHERE revoked_at IS NULL AND id = \
         (SELECT session_id FROM refresh_tokens WHERE digest = ?1 AND rotated_at < ?3 - ?4)";
    let outcome = "SELECT s.id AS session_id, s.user_id, s.revoked_at, s.expires_at, t.rotated_at \
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.digest = ?1";
    let statements = vec![
        statement(db, &spend, &args)?,
        statement(db, &record_successor, &args)?,
        statement(db, revoke_on_reuse, &args)?,
        statement(db, outcome, &args)?,
    ];
    let results = batch(db, statements, "rotate refresh token").await?;
    let outcome = results
        .last()
        .ok_or_else(|| ApiError::internal("rotate refresh token", "no outcome"))?;
    Ok(rows::<Rotation>(outcome, "read rotation outcome")?
        .into_iter()
        .next())
}

/// Ends the caller's session, or with `everywhere` every live session of the caller, provided the
/// caller's own session is live; plus the session of `refresh_digest` if it is the caller's.
/// Returns whether the caller was authorised. One statement per part, in one transaction; the
/// caller's check is a non-correlated subquery, which SQLite evaluates once before updating.
pub async fn revoke(
    db: &D1Database,
    principal: &Principal,
    everywhere: bool,
    refresh_digest: Option<&str>,
    now: i64,
) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Revoked {
        id: String,
    }
    let caller_live = "?1 IN (SELECT id FROM sessions WHERE id = ?1 AND user_id = ?2 \
                       AND revoked_at IS NULL AND expires_at > ?3)";
    let which = if everywhere { "" } else { "id = ?1 AND " };
    let end_sessions = format!(
        "UPDATE sessions SET revoked_at = ?3 WHERE {which}user_id = ?2 AND revoked_at IS NULL \
         AND {caller_live} RETURNING id"
    );
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
    ];
    let mut statements = vec![statement(db, &end_sessions, &args)?];
    if let Some(digest) = refresh_digest {
        let end_refresh_session = "UPDATE sessions SET revoked_at = ?3 WHERE revoked_at IS NULL \
             AND user_id = ?2 AND id = (SELECT session_id FROM refresh_tokens WHERE digest = ?1)";
        statements.push(statement(
            db,
            end_refresh_session,
            &[text(digest), int(principal.user_id), int(now)],
        )?);
    }
    let results = batch(db, statements, "revoke sessions").await?;
    let revoked: Vec<Revoked> = rows(&results[0], "read revoked sessions")?;
    Ok(revoked.iter().any(|row| row.id == principal.session_id))
}
