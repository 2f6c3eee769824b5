//! The `totp_factors` and `recovery_codes` tables, and the `mfa` rows of `code_events`: enrolment,
//! confirmation, removal, and the proof that one request presented a right code.
//!
//! A proof is made in two steps. First a wrong try is *reserved* against the account's budget
//! (a `code_events` row, only while the budget lasts) and the factor is read; the code is then
//! checked in Rust (the secret must be decrypted). Then, in the batch that acts on it, the time
//! step is taken (only if newer than the last one used: no code works twice) under this
//! request's marker, and the reservation is released; or a recovery code is spent under it and
//! the marker recorded on the factor.
//! Statements that act on a proof are gated on that marker, so parallel requests with one code
//! get exactly one success, and parallel wrong tries can never exceed the budget.

use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result};

use crate::core::sessions::access_token::Principal;
use crate::edge::db::{int, rows, statement, text, Db};
use crate::edge::error::ApiError;

// Arguments of the reservation and the read: ?1 account, ?2 now, ?3 budget, ?4 budget start,
// ?5 whether the factor must be enabled (1) or pending (0).
/// A wrong try reserved against the budget, while it lasts.
const RESERVE_TRY_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at) \
    SELECT f.user_id, 'mfa', 'wrong', ?2 FROM totp_factors f \
    WHERE f.user_id = ?1 AND (f.enabled_at IS NOT NULL) = ?5 \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = ?1 AND e.purpose = 'mfa' \
        AND e.kind = 'wrong' AND e.at > ?4) < ?3 \
    RETURNING user_id";
/// The factor of the account.
const READ_SQL: &str =
    "SELECT secret_sealed, last_used_step, enabled_at FROM totp_factors WHERE user_id = ?1";

// Arguments of a proof: ?1 account, ?2 this request's marker, ?3 now, ?4 the step, or the
// recovery code's hash, ?5 whether the factor must be enabled (1) or pending (0).
/// The step is taken, if newer than the last one used and the factor is still in the state the
/// code was checked for: a confirmation that lost to a parallel one marks nothing, so it cannot
/// replace the winner's recovery codes.
const USE_STEP_SQL: &str = "UPDATE totp_factors SET last_used_step = ?4, last_used_by = ?2 \
    WHERE user_id = ?1 AND last_used_step < ?4 AND (enabled_at IS NOT NULL) = ?5";
/// The reservation made at `?3` is released, if this request took the step.
const RELEASE_TRY_SQL: &str =
    "DELETE FROM code_events WHERE rowid = (SELECT rowid FROM code_events \
      WHERE user_id = ?1 AND purpose = 'mfa' AND kind = 'wrong' AND at = ?3 LIMIT 1) \
    AND EXISTS (SELECT 1 FROM totp_factors WHERE user_id = ?1 AND last_used_by = ?2)";
/// A recovery code of an enabled factor is spent (`?4`: its hashes under each key of the ring,
/// a JSON array).
const USE_RECOVERY_SQL: &str = "UPDATE recovery_codes SET used_at = ?3, used_by = ?2 \
    WHERE user_id = ?1 AND code_hash IN (SELECT value FROM json_each(?4)) AND used_at IS NULL \
    AND EXISTS (SELECT 1 FROM totp_factors WHERE user_id = ?1 AND enabled_at IS NOT NULL)";
/// ... and the factor records that this request proved it, as a right TOTP code does: every
/// statement gated on a proof then checks one row of `totp_factors`, by key.
const MARK_RECOVERY_SQL: &str = "UPDATE totp_factors SET last_used_by = ?2 WHERE user_id = ?1 \
    AND EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = ?1 \
      AND code_hash IN (SELECT value FROM json_each(?4)) AND used_by = ?2)";
/// A secret sealed under a previous key is stored sealed under the current one, unless it
/// changed meanwhile.
const RESEAL_SQL: &str =
    "UPDATE totp_factors SET secret_sealed = ?3 WHERE user_id = ?1 AND secret_sealed = ?2";
/// Whether this request's proof was taken (after the proof's statements).
const PROVED_SQL: &str =
    "SELECT user_id FROM totp_factors WHERE user_id = ?1 AND last_used_by = ?2";
/// The recovery codes left (after a batch that may have spent one).
const RECOVERY_LEFT_SQL: &str =
    "SELECT COUNT(*) AS left FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL";

// Arguments of enrolment, confirmation and removal: ?1 account, ?2 marker (or the sealed secret,
// for enrolment), ?3 now, ?4 the caller's session, ?5 a recovery code's hash.
/// A pending enrolment, replacing any earlier pending one, never an enabled factor.
const ENROLL_SQL: &str = "INSERT INTO totp_factors \
      (user_id, secret_sealed, created_at, enabled_at, last_used_step, last_used_by) \
    SELECT ?1, ?2, ?3, NULL, 0, NULL WHERE EXISTS (SELECT 1 FROM sessions \
      WHERE id = ?4 AND user_id = ?1 AND revoked_at IS NULL AND expires_at > ?3) \
    ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
      created_at = excluded.created_at, last_used_step = 0, last_used_by = NULL \
    WHERE totp_factors.enabled_at IS NULL \
    RETURNING user_id";
/// The pending factor is turned on, if this request proved it with a code.
const ENABLE_SQL: &str = "UPDATE totp_factors SET enabled_at = ?3 \
    WHERE user_id = ?1 AND enabled_at IS NULL AND last_used_by = ?2 AND EXISTS (SELECT 1 FROM sessions \
      WHERE id = ?4 AND user_id = ?1 AND revoked_at IS NULL AND expires_at > ?3) \
    RETURNING user_id";
/// Earlier recovery codes go, once this request turned the factor on ...
const CLEAR_RECOVERY_SQL: &str = "DELETE FROM recovery_codes WHERE user_id = ?1 \
    AND EXISTS (SELECT 1 FROM totp_factors WHERE user_id = ?1 AND enabled_at = ?3 AND last_used_by = ?2)";
/// ... and each new one is stored.
const ADD_RECOVERY_SQL: &str = "INSERT INTO recovery_codes (user_id, code_hash) SELECT ?1, ?5 \
    WHERE EXISTS (SELECT 1 FROM totp_factors WHERE user_id = ?1 AND enabled_at = ?3 AND last_used_by = ?2)";
/// The factor is turned off, if this request proved a code and the caller's session is live.
const DISABLE_SQL: &str = "DELETE FROM totp_factors WHERE user_id = ?1 AND enabled_at IS NOT NULL \
    AND last_used_by = ?2 AND EXISTS (SELECT 1 FROM sessions \
      WHERE id = ?4 AND user_id = ?1 AND revoked_at IS NULL AND expires_at > ?3) \
    RETURNING user_id";
/// ... and with it every recovery code.
const DROP_RECOVERY_SQL: &str = "DELETE FROM recovery_codes WHERE user_id = ?1 \
    AND NOT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = ?1)";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    RESERVE_TRY_SQL,
    READ_SQL,
    USE_STEP_SQL,
    RELEASE_TRY_SQL,
    USE_RECOVERY_SQL,
    MARK_RECOVERY_SQL,
    PROVED_SQL,
    RESEAL_SQL,
    RECOVERY_LEFT_SQL,
    ENROLL_SQL,
    ENABLE_SQL,
    CLEAR_RECOVERY_SQL,
    ADD_RECOVERY_SQL,
    DISABLE_SQL,
    DROP_RECOVERY_SQL,
];

/// A stored factor.
#[derive(Debug, Deserialize)]
pub struct Factor {
    pub secret_sealed: String,
    pub last_used_step: i64,
    pub enabled_at: Option<i64>,
}

/// The statements that reserve a wrong try (for a TOTP code) and read the factor, for one batch.
pub fn reserve_and_read(
    db: &Db,
    user_id: i64,
    now: i64,
    budget: i64,
    budget_start: i64,
    enabled: bool,
) -> Result<[D1PreparedStatement; 2], ApiError> {
    let args = [
        int(user_id),
        int(now),
        int(budget),
        int(budget_start),
        int(i64::from(enabled)),
    ];
    Ok([
        statement(db, RESERVE_TRY_SQL, &args)?,
        statement(db, READ_SQL, &[int(user_id)])?,
    ])
}

/// Whether the reservation was made (the budget was not spent).
pub fn reserved(result: &D1Result) -> Result<bool, ApiError> {
    Ok(!rows::<Account>(result, "read mfa reservation")?.is_empty())
}

/// The factor the read found.
pub fn factor(result: &D1Result) -> Result<Option<Factor>, ApiError> {
    Ok(rows(result, "read totp factor")?.into_iter().next())
}

/// The statements that take time step `step` under `marker` and release the reservation made
/// at `reserved_at`.
pub fn use_step(
    db: &Db,
    user_id: i64,
    marker: &str,
    reserved_at: i64,
    step: i64,
    enabled: bool,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    let args = [
        int(user_id),
        text(marker),
        int(reserved_at),
        int(step),
        int(i64::from(enabled)),
    ];
    Ok(vec![
        statement(db, USE_STEP_SQL, &args)?,
        statement(db, RELEASE_TRY_SQL, &args[..3])?,
    ])
}

/// The statements that spend the recovery code whose hash is one of `code_hashes` (a JSON
/// array, `Keyring::candidates`) under `marker`, record the
/// proof on the factor, and release the reservation made at `reserved_at`.
pub fn use_recovery(
    db: &Db,
    user_id: i64,
    marker: &str,
    reserved_at: i64,
    code_hashes: &str,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    let args = [
        int(user_id),
        text(marker),
        int(reserved_at),
        text(code_hashes),
    ];
    Ok(vec![
        statement(db, USE_RECOVERY_SQL, &args)?,
        statement(db, MARK_RECOVERY_SQL, &args)?,
        statement(db, RELEASE_TRY_SQL, &args[..3])?,
    ])
}

/// The statement that replaces the sealed secret `old` by `new` (the same secret, sealed under
/// the current key).
pub fn reseal(
    db: &Db,
    user_id: i64,
    old: &str,
    new: &str,
) -> Result<D1PreparedStatement, ApiError> {
    statement(db, RESEAL_SQL, &[int(user_id), text(old), text(new)])
}

/// The statement that reads whether the proof made under `marker` was taken.
pub fn proved(db: &Db, user_id: i64, marker: &str) -> Result<D1PreparedStatement, ApiError> {
    statement(db, PROVED_SQL, &[int(user_id), text(marker)])
}

/// The statement that counts the recovery codes left.
pub fn recovery_left(db: &Db, user_id: i64) -> Result<D1PreparedStatement, ApiError> {
    statement(db, RECOVERY_LEFT_SQL, &[int(user_id)])
}

/// The count `recovery_left` read.
pub fn left(result: &D1Result) -> Result<i64, ApiError> {
    #[derive(Deserialize)]
    struct Left {
        left: i64,
    }
    Ok(rows::<Left>(result, "read recovery codes left")?
        .first()
        .map_or(0, |row| row.left))
}

/// The statement that stores a pending enrolment of `sealed_secret` for the caller.
pub fn enroll(
    db: &Db,
    principal: &Principal,
    sealed_secret: &str,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        int(principal.user_id),
        text(sealed_secret),
        int(now),
        text(&principal.session_id),
    ];
    statement(db, ENROLL_SQL, &args)
}

/// The statements that turn the pending factor on and store the recovery codes' hashes, for the
/// batch that also holds the proof made under `marker`; the first one's result says whether it
/// happened.
pub fn enable(
    db: &Db,
    principal: &Principal,
    marker: &str,
    now: i64,
    recovery_hashes: &[String],
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    let args = [
        int(principal.user_id),
        text(marker),
        int(now),
        text(&principal.session_id),
    ];
    let mut statements = vec![
        statement(db, ENABLE_SQL, &args)?,
        statement(db, CLEAR_RECOVERY_SQL, &args[..3])?,
    ];
    for hash in recovery_hashes {
        let with_hash = [
            int(principal.user_id),
            text(marker),
            int(now),
            text(&principal.session_id),
            text(hash),
        ];
        statements.push(statement(db, ADD_RECOVERY_SQL, &with_hash)?);
    }
    Ok(statements)
}

/// The statements that turn the factor off and drop its recovery codes, for the batch that also
/// holds the proof made under `marker`; the first one's result says whether it happened.
pub fn disable(
    db: &Db,
    principal: &Principal,
    marker: &str,
    now: i64,
) -> Result<[D1PreparedStatement; 2], ApiError> {
    let args = [
        int(principal.user_id),
        text(marker),
        int(now),
        text(&principal.session_id),
    ];
    Ok([
        statement(db, DISABLE_SQL, &args)?,
        statement(db, DROP_RECOVERY_SQL, &args[..1])?,
    ])
}

/// Whether a statement that returns its account (`RETURNING user_id`) took effect.
pub fn took_effect(result: &D1Result) -> Result<bool, ApiError> {
    Ok(!rows::<Account>(result, "read factor change")?.is_empty())
}

#[derive(Deserialize)]
struct Account {
    #[allow(dead_code)]
    user_id: i64,
}
