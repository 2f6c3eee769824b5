//! A reset code's redemption: the `reset` rows of the one code table (`email_codes`: one live
//! code per account and purpose, its expiry and its wrong tries; issued like every other code by
//! `email_codes::issue`) and of `code_events` (codes mailed, wrong tries), which outlive any one
//! code. A right code sets the new password, ends every session and clears the login lockout.

use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result};

use crate::core::accounts::email::Email;
use crate::core::codes::otp::OtpPolicy;
use crate::edge::codes::sql::first_proof;
use crate::edge::codes::sql::first_proof::Removed;
use crate::edge::db::{batch, int, rows, statement, text, Db};
use crate::edge::error::ApiError;

// The redemption batch. Arguments: ?1 email, ?2 the presented code's hashes (a JSON array: one per key of the ring, `Keyring::candidates`), ?3 now, ?4 tries per code,
// ?5 this request's marker, ?6 new password hash, ?7 budget of wrong tries, ?8 budget start,
// ?9 the marker of this request's second-factor proof (or one that matches nothing).
/// 1. The code is used, if it is the account's, live, and the account's budget is not spent,
///    and, when the account has a second factor, this request proved a code of it: a reset by
///    email alone must not get past the factor (unlike Keycloak #12759). An address never
///    verified is the exception: a factor on it was not the mailbox owner's (factors need a
///    verified address), and this first proof removes it (`first_proof.rs`).
const USE_CODE_SQL: &str = "UPDATE email_codes SET used_by = ?5 \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash IN (SELECT value FROM json_each(?2)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = email_codes.user_id \
        AND e.purpose = 'reset' AND e.kind = 'wrong' AND e.at > ?8) < ?7 \
      AND (NOT EXISTS (SELECT 1 FROM totp_factors f \
          WHERE f.user_id = email_codes.user_id AND f.enabled_at IS NOT NULL) \
        OR EXISTS (SELECT 1 FROM users u \
          WHERE u.id = email_codes.user_id AND u.email_verified_at IS NULL) \
        OR EXISTS (SELECT 1 FROM totp_factors f \
          WHERE f.user_id = email_codes.user_id AND f.last_used_by = ?9))";
/// 2. A wrong try at a live code is recorded against the account's budget, while it lasts (so
///    the rows an account can have in one window stay bounded).
const RECORD_WRONG_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at) \
    SELECT user_id, 'reset', 'wrong', ?3 FROM email_codes \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?2)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = email_codes.user_id \
        AND e.purpose = 'reset' AND e.kind = 'wrong' AND e.at > ?8) < ?7";
/// 3. ... and against the code's own tries.
const COUNT_WRONG_SQL: &str = "UPDATE email_codes SET wrong_attempts = wrong_attempts + 1 \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?2))";
/// 4. The new password hash is stored, if this request used the code; the code came through
///    the mailbox, so the address is verified too.
const SET_PASSWORD_SQL: &str = "UPDATE users SET password_hash = ?6, updated_at = ?3, \
      email_verified_at = COALESCE(email_verified_at, ?3) \
    WHERE id = (SELECT user_id FROM email_codes \
      WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' AND used_by = ?5)";
/// 5. Every session of the account is revoked.
const REVOKE_SESSIONS_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE revoked_at IS NULL AND user_id = (SELECT user_id FROM email_codes \
      WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' AND used_by = ?5)";
/// 6. Every login-attempt count of the email is cleared.
const CLEAR_LOGIN_ATTEMPTS_SQL: &str = "DELETE FROM login_attempts WHERE email = ?1 \
    AND EXISTS (SELECT 1 FROM email_codes \
      WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' AND used_by = ?5)";
/// 7. The outcome: a row if this request used the code.
const REDEEM_OUTCOME_SQL: &str = "SELECT user_id FROM email_codes \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' AND used_by = ?5";
/// 8. Otherwise, whether the code was right and only the second factor was missing (then it
///    was neither used nor counted as wrong).
const WAITING_FOR_FACTOR_SQL: &str = "SELECT user_id FROM email_codes \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = 'reset' \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash IN (SELECT value FROM json_each(?2)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = email_codes.user_id \
        AND e.purpose = 'reset' AND e.kind = 'wrong' AND e.at > ?8) < ?7 \
      AND EXISTS (SELECT 1 FROM totp_factors f \
        WHERE f.user_id = email_codes.user_id AND f.enabled_at IS NOT NULL) \
      AND EXISTS (SELECT 1 FROM users u \
        WHERE u.id = email_codes.user_id AND u.email_verified_at IS NOT NULL)";

/// The batch that checks a code, in order (numbered above).
const REDEEM_BATCH: [&str; 8] = [
    USE_CODE_SQL,
    RECORD_WRONG_SQL,
    COUNT_WRONG_SQL,
    SET_PASSWORD_SQL,
    REVOKE_SESSIONS_SQL,
    CLEAR_LOGIN_ATTEMPTS_SQL,
    REDEEM_OUTCOME_SQL,
    WAITING_FOR_FACTOR_SQL,
];

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &REDEEM_BATCH;

/// The account a statement touched (`RETURNING user_id`).
#[derive(Deserialize)]
struct Account {
    user_id: i64,
}

/// What a redemption did.
#[derive(Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// The code was used: the password of this account is changed (and, on its address's first
    /// proof, what was added before it removed).
    Accepted { user_id: i64, removed: Removed },
    /// The code is right, but the account has a second factor and no proof of it was given (or
    /// the proof did not hold): nothing was used or counted.
    NeedsSecondFactor { user_id: i64 },
    /// The code is wrong, used, expired, or the budget is spent (a wrong try was counted).
    Refused,
}

/// A presented code and what it is to do: the account's email, the code's keyed hash, the new
/// password's hash, and this request's marker.
pub struct Redemption<'a> {
    pub email: &'a Email,
    pub code_hash: &'a str,
    pub new_password_hash: &'a str,
    pub marker: &'a str,
}

/// A second-factor proof to run first in the batch (`edge::second_factor`), under its marker.
pub struct FactorProof {
    pub statements: Vec<D1PreparedStatement>,
    pub marker: String,
}

/// Everything a correct code does, in one transaction: the code is used, or a wrong try is
/// counted against the code and the account's budget; then, if this request used it (marked
/// with its `marker`), the new password hash is stored, every session of the account revoked
/// and its login lockout cleared. With a second factor on, the code is used only together with
/// the `proof` run first in the same batch. `after` runs last (its result comes back). Ten
/// concurrent correct submissions: exactly one wins.
pub async fn redeem(
    db: &Db,
    redemption: &Redemption<'_>,
    now: i64,
    policy: &OtpPolicy,
    proof: Option<FactorProof>,
    after: Option<D1PreparedStatement>,
) -> Result<(Redeemed, Option<D1Result>), ApiError> {
    let Redemption {
        email,
        code_hash,
        new_password_hash,
        marker,
    } = redemption;
    let (mut statements, factor_marker) = match proof {
        Some(proof) => (proof.statements, proof.marker),
        None => (Vec::new(), String::new()),
    };
    let args = [
        text(email.as_str()),
        text(code_hash),
        int(now),
        int(policy.max_attempts),
        text(marker),
        text(new_password_hash),
        int(policy.max_failures_per_day),
        int(policy.failures_counted_since(now)),
        text(&factor_marker),
    ];
    // Named slots: the code's use, then the first proof's clean-up (before the password step
    // marks the address verified), then the rest of the batch.
    let [use_code, rest @ ..] = REDEEM_BATCH;
    statements.push(statement(db, use_code, &args)?);
    let proof_from = statements.len();
    statements.extend(first_proof::statements(db, marker)?);
    let proof = proof_from..statements.len();
    let rest_from = statements.len();
    for sql in rest {
        statements.push(statement(db, sql, &args)?);
    }
    let has_after = after.is_some();
    statements.extend(after);
    let mut results = batch(db, statements, "redeem reset code").await?;
    let after = if has_after { results.pop() } else { None };
    // Indexes into REDEEM_BATCH past its first statement.
    let outcome = |i: usize| -> Result<Option<Account>, ApiError> {
        let result = results
            .get(rest_from + i - 1)
            .ok_or_else(|| ApiError::internal("redeem reset code", "no outcome"))?;
        Ok(rows::<Account>(result, "read reset outcome")?
            .into_iter()
            .next())
    };
    let redeemed = if let Some(used) = outcome(REDEEM_BATCH.len() - 2)? {
        Redeemed::Accepted {
            user_id: used.user_id,
            removed: Removed::read(&results[proof])?,
        }
    } else if let Some(waiting) = outcome(REDEEM_BATCH.len() - 1)? {
        Redeemed::NeedsSecondFactor {
            user_id: waiting.user_id,
        }
    } else {
        Redeemed::Refused
    };
    Ok((redeemed, after))
}
