//! The scheduled cleanup: rows that can no longer matter, deleted in bounded slices.

use worker::D1Database;

use super::{batch, int, statement};
use crate::edge::error::ApiError;

/// Rows deleted per table per run, so one run stays well inside a batch's time limit; the next
/// run (hourly) takes the rest.
pub const SLICE: i64 = 5_000;

/// What one cleanup removed.
#[derive(Debug, Default)]
pub struct Pruned {
    pub refresh_tokens: usize,
    pub sessions: usize,
    pub password_resets: usize,
    pub login_throttle: usize,
}

/// Deletes, in one transaction, at most `SLICE` rows of each kind:
/// - refresh tokens of ended sessions (revoked or past their absolute expiry), then ended
///   sessions without tokens left: a token of a deleted session still gets `401`;
/// - reset codes expired or used, once the resend cooldown has passed (so no deletion shortens it);
/// - login-attempt counts whose lockout is over (the next attempt would start afresh anyway), and
///   counts without a lockout untouched for `throttle_idle_seconds`.
pub async fn prune(
    db: &D1Database,
    now: i64,
    resend_cooldown: i64,
    throttle_idle_seconds: i64,
) -> Result<Pruned, ApiError> {
    let args = [
        int(now),
        int(resend_cooldown),
        int(throttle_idle_seconds),
        int(SLICE),
    ];
    let ended = "(s.revoked_at IS NOT NULL OR s.expires_at <= ?1)";
    let statements = [
        format!(
            "DELETE FROM refresh_tokens WHERE rowid IN (SELECT t.rowid FROM refresh_tokens t \
             JOIN sessions s ON s.id = t.session_id WHERE {ended} LIMIT ?4)"
        ),
        format!(
            "DELETE FROM sessions WHERE rowid IN (SELECT s.rowid FROM sessions s WHERE {ended} \
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id) LIMIT ?4)"
        ),
        "DELETE FROM password_resets WHERE rowid IN (SELECT rowid FROM password_resets \
         WHERE (expires_at <= ?1 OR used_by IS NOT NULL) AND issued_at <= ?1 - ?2 LIMIT ?4)"
            .to_owned(),
        "DELETE FROM login_throttle WHERE rowid IN (SELECT rowid FROM login_throttle \
         WHERE locked_until <= ?1 OR (locked_until IS NULL AND last_attempt_at <= ?1 - ?3) LIMIT ?4)"
            .to_owned(),
    ]
    .iter()
    .map(|sql| statement(db, sql, &args))
    .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "prune ended rows").await?;
    let changes: Vec<usize> = results
        .iter()
        .map(|r| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
        .collect();
    Ok(Pruned {
        refresh_tokens: changes[0],
        sessions: changes[1],
        password_resets: changes[2],
        login_throttle: changes[3],
    })
}
