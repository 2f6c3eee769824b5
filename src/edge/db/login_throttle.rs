//! The `login_throttle` table: consecutive login attempts per normalised email.

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{int, statement, text};
use crate::core::email::Email;
use crate::edge::error::ApiError;

/// The state after an attempt reserved its place.
#[derive(Debug, Deserialize)]
pub struct Reservation {
    pub attempts: i64,
    pub locked_until: Option<i64>,
}

/// Counts one attempt before its password is checked, so that parallel attempts cannot slip past
/// the limit (the race of CVE-2024-4629): the attempt that reaches `max_failures` starts the
/// lockout, later ones are counted but refused, and a success deletes the row. An expired lockout
/// starts a fresh count.
pub fn reserve_attempt(
    db: &D1Database,
    email: &Email,
    now: i64,
    max_failures: i64,
    lockout_seconds: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let sql = "INSERT INTO login_throttle (email, attempts, locked_until, last_attempt_at) \
               VALUES (?1, 1, CASE WHEN ?3 <= 1 THEN ?2 + ?4 END, ?2) \
               ON CONFLICT (email) DO UPDATE SET \
                 last_attempt_at = ?2, \
                 attempts = CASE WHEN locked_until <= ?2 THEN 1 ELSE attempts + 1 END, \
                 locked_until = CASE \
                   WHEN locked_until > ?2 THEN locked_until \
                   WHEN (CASE WHEN locked_until <= ?2 THEN 1 ELSE attempts + 1 END) >= ?3 THEN ?2 + ?4 \
                   ELSE NULL END \
               RETURNING attempts, locked_until";
    let args = [
        text(email.as_str()),
        int(now),
        int(max_failures),
        int(lockout_seconds),
    ];
    statement(db, sql, &args)
}

/// Forgets the attempts of an email: after a successful login or a password reset.
pub fn clear(db: &D1Database, email: &Email) -> Result<D1PreparedStatement, ApiError> {
    statement(
        db,
        "DELETE FROM login_throttle WHERE email = ?1",
        &[text(email.as_str())],
    )
}
