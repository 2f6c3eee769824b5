//! The `login_attempts` table: login attempts per (email, client address), and per email
//! account-wide under the client `*`.

use worker::{D1PreparedStatement, D1Result};

use crate::core::accounts::email::Email;
use crate::core::client_address::ClientAddress;
use crate::core::passwords::login_lockout::{AttemptCount, LockoutLimits};
use crate::edge::db::{int, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// The client name of the account-wide row.
const ACCOUNT_WIDE: &str = "*";

/// Counts one attempt of `?2` at `?1`, unless the row `?7` already holds more than `?8` attempts.
/// The count restarts when a lockout has ended or its window (`?6` seconds from its first
/// attempt) is over; the attempt that reaches `?4` starts a lockout of `?5` seconds.
const RESERVE_SQL: &str = "INSERT INTO login_attempts \
      (email, client, attempts, locked_until, window_started_at, last_attempt_at) \
    SELECT ?1, ?2, 1, CASE WHEN ?4 <= 1 THEN ?3 + ?5 END, ?3, ?3 \
    WHERE NOT EXISTS (SELECT 1 FROM login_attempts WHERE email = ?1 AND client = ?7 AND attempts > ?8) \
    ON CONFLICT (email, client) DO UPDATE SET \
      last_attempt_at = ?3, \
      attempts = CASE WHEN locked_until <= ?3 OR window_started_at <= ?3 - ?6 THEN 1 ELSE attempts + 1 END, \
      window_started_at = CASE WHEN locked_until <= ?3 OR window_started_at <= ?3 - ?6 \
        THEN ?3 ELSE window_started_at END, \
      locked_until = CASE \
        WHEN locked_until > ?3 THEN locked_until \
        WHEN (CASE WHEN locked_until <= ?3 OR window_started_at <= ?3 - ?6 THEN 1 ELSE attempts + 1 END) >= ?4 \
          THEN ?3 + ?5 \
        ELSE NULL END \
    RETURNING attempts, locked_until";
/// A successful login ends its pair's count, provided its session `?3` was created.
const CLEAR_PAIR_SQL: &str = "DELETE FROM login_attempts WHERE email = ?1 AND client = ?2 \
    AND EXISTS (SELECT 1 FROM sessions WHERE id = ?3)";
/// A successful login gives back the account-wide place it reserved: that row counts failures.
const RELEASE_ACCOUNT_SQL: &str = "UPDATE login_attempts SET attempts = attempts - 1 \
    WHERE email = ?1 AND client = '*' AND attempts > 0 \
    AND EXISTS (SELECT 1 FROM sessions WHERE id = ?2)";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[RESERVE_SQL, CLEAR_PAIR_SQL, RELEASE_ACCOUNT_SQL];

/// Counts one attempt before its password is checked, so that parallel attempts cannot slip past
/// a limit (the race of CVE-2024-4629). Two statements for the one batch:
/// 1. the (email, client) count: consecutive attempts until a success or a lockout's end;
/// 2. the account-wide count, within a window of `lockout_seconds`, only if the pair is not
///    locked: a locked-out client cannot push the account over its ceiling.
///
/// Locking the pair rather than the account keeps a stranger from locking the owner out
/// (OWASP Authentication Cheat Sheet, "Account Lockout"); the ceiling still bounds guesses
/// spread over many addresses (NIST SP 800-63B §5.2.2).
pub fn reserve(
    db: &Db,
    email: &Email,
    client: &ClientAddress,
    now: i64,
    limits: LockoutLimits,
) -> Result<[D1PreparedStatement; 2], ApiError> {
    let never = int(i64::from(i32::MAX));
    let pair = [
        text(email.as_str()),
        text(client.as_str()),
        int(now),
        int(limits.per_client),
        int(limits.lockout_seconds),
        never.clone(),
        text(client.as_str()),
        never,
    ];
    let account = [
        text(email.as_str()),
        text(ACCOUNT_WIDE),
        int(now),
        int(limits.per_account),
        int(limits.lockout_seconds),
        int(limits.lockout_seconds),
        text(client.as_str()),
        int(limits.per_client),
    ];
    Ok([
        statement(db, RESERVE_SQL, &pair)?,
        statement(db, RESERVE_SQL, &account)?,
    ])
}

/// Whether the attempt whose `reserve` statements gave these results may go ahead; `429` with
/// the seconds to wait when a limit holds.
pub fn judge(
    pair: &D1Result,
    account_wide: &D1Result,
    limits: LockoutLimits,
    now: i64,
) -> Result<(), ApiError> {
    let pair: AttemptCount = rows(pair, "read login attempts")?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("read login attempts", "no row returned"))?;
    let account_wide: Option<AttemptCount> = rows(account_wide, "read account-wide attempts")?
        .into_iter()
        .next();
    limits
        .verdict(&pair, account_wide.as_ref(), now)
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })
}

/// Whether the refused attempt judged from these rows began its lockout.
pub fn lockout_begins(
    pair: &D1Result,
    account_wide: &D1Result,
    limits: LockoutLimits,
) -> Result<bool, ApiError> {
    let pair: Option<AttemptCount> = rows(pair, "read login attempts")?.into_iter().next();
    let account_wide: Option<AttemptCount> = rows(account_wide, "read account-wide attempts")?
        .into_iter()
        .next();
    Ok(pair.is_some_and(|pair| limits.begins(&pair, account_wide.as_ref())))
}

/// After a successful login (gated on its session having been created in the same batch).
pub fn record_success(
    db: &Db,
    email: &Email,
    client: &ClientAddress,
    session_id: &str,
) -> Result<[D1PreparedStatement; 2], ApiError> {
    Ok([
        statement(
            db,
            CLEAR_PAIR_SQL,
            &[
                text(email.as_str()),
                text(client.as_str()),
                text(session_id),
            ],
        )?,
        statement(
            db,
            RELEASE_ACCOUNT_SQL,
            &[text(email.as_str()), text(session_id)],
        )?,
    ])
}
