//! The `password_resets` table: one live code per account, its expiry and its wrong tries.

use serde::Deserialize;
use worker::D1Database;

use super::{batch, first, int, rows, statement, text};
use crate::core::email::Email;
use crate::edge::error::ApiError;

/// The account a statement touched (`RETURNING user_id`); only its presence matters.
#[derive(Deserialize)]
struct Account {
    #[allow(dead_code)]
    user_id: i64,
}

/// A new code for the account with this email, replacing any earlier one, unless one was issued
/// within the cooldown. Returns whether a code was stored (and so must be mailed). One
/// statement, so two requests racing within the cooldown store (and mail) one code.
pub async fn issue(
    db: &D1Database,
    email: &Email,
    code_hash: &str,
    now: i64,
    expires_at: i64,
    reissue_if_issued_before: i64,
) -> Result<bool, ApiError> {
    let sql = "INSERT INTO password_resets (user_id, code_hash, issued_at, expires_at, wrong_attempts, used_by) \
               SELECT id, ?2, ?3, ?4, 0, NULL FROM users WHERE email = ?1 \
               ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, \
                 issued_at = excluded.issued_at, expires_at = excluded.expires_at, \
                 wrong_attempts = 0, used_by = NULL \
               WHERE password_resets.issued_at <= ?5 \
               RETURNING user_id";
    let args = [
        text(email.as_str()),
        text(code_hash),
        int(now),
        int(expires_at),
        int(reissue_if_issued_before),
    ];
    let row: Option<Account> = first(statement(db, sql, &args)?, "issue reset code").await?;
    Ok(row.is_some())
}

/// Everything a correct code does, in one transaction:
/// 1. the code is used, if it is the account's, unused, unexpired and under the attempt limit
///    (marked with this request's `marker`, so later statements know this request won);
/// 2. otherwise a wrong try is counted against the live code;
/// 3. the new password hash is stored;
/// 4. every session of the account is revoked;
/// 5. the login lockout of the email is cleared.
///
/// Returns whether the code was accepted. Ten concurrent correct submissions: exactly one wins.
pub async fn redeem(
    db: &D1Database,
    email: &Email,
    code_hash: &str,
    new_password_hash: &str,
    now: i64,
    max_attempts: i64,
    marker: &str,
) -> Result<bool, ApiError> {
    let account = "(SELECT id FROM users WHERE email = ?1)";
    let live_code = "used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4";
    let won =
        format!("(SELECT user_id FROM password_resets WHERE user_id = {account} AND used_by = ?5)");
    let args = [
        text(email.as_str()),
        text(code_hash),
        int(now),
        int(max_attempts),
        text(marker),
        text(new_password_hash),
    ];
    let statements = [
        format!("UPDATE password_resets SET used_by = ?5 WHERE user_id = {account} AND {live_code} AND code_hash = ?2"),
        format!("UPDATE password_resets SET wrong_attempts = wrong_attempts + 1 WHERE user_id = {account} AND {live_code} AND code_hash <> ?2"),
        format!("UPDATE users SET password_hash = ?6, updated_at = ?3 WHERE id = {won}"),
        format!("UPDATE sessions SET revoked_at = ?3 WHERE revoked_at IS NULL AND user_id = {won}"),
        format!("DELETE FROM login_throttle WHERE email = ?1 AND EXISTS {won}"),
        format!("SELECT user_id FROM password_resets WHERE user_id = {account} AND used_by = ?5"),
    ]
    .iter()
    .map(|sql| statement(db, sql, &args))
    .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "redeem reset code").await?;
    let outcome = results
        .last()
        .ok_or_else(|| ApiError::internal("redeem reset code", "no outcome"))?;
    Ok(!rows::<Account>(outcome, "read reset outcome")?.is_empty())
}
