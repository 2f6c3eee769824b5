//! The `email_codes` table (one live code per account and purpose: `verify` proves the address,
//! `change` moves the account to `new_email`) and their rows of `code_events`. The rules are
//! those of reset codes (`password_resets`): keyed hash, single use, expiry, tries per code, a
//! per-account budget of wrong tries and a mail cap, each purpose counted on its own.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, D1Result};

use crate::core::accounts::email::Email;
use crate::core::codes::otp::OtpPolicy;
use crate::core::sessions::access_token::Principal;
use crate::edge::codes::sql::first_proof;
use crate::edge::codes::sql::first_proof::Removed;
use crate::edge::db::{batch, int, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// What a code is for; the name is stored in `purpose` and is part of the code's keyed hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves the address; anyone who names it may try (or have it resent).
    Verify,
    /// Proves the address too, for a caller who proved the password (a verification token):
    /// a code, tries and mail cap of its own, which anonymous tries never touch.
    VerifyOwner,
    Change,
    /// Sets a new password (`reset.rs`); its hash is bound to the address rather than to the
    /// purpose's name, as before reset codes joined this table.
    Reset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::VerifyOwner => "verify_owner",
            Self::Change => "change",
            Self::Reset => "reset",
        }
    }
}

/// A new code `?2` of purpose `?10` for the account of `?1` (a `verify` code only while the
/// address is unverified; only if the account's hash is `?12`, when given), replacing any earlier
/// one, unless one was issued after `?5`, is unused and is for the same `?11` (the cooldown), the
/// account spent its budget of `?6` wrong tries since `?7`, or was mailed `?8` codes since `?9`.
const ISSUE_SQL: &str = "INSERT INTO email_codes \
      (user_id, purpose, code_hash, new_email, issued_at, expires_at, wrong_attempts, used_by) \
    SELECT u.id, ?10, ?2, ?11, ?3, ?4, 0, NULL FROM users u WHERE u.email = ?1 \
      AND (?10 NOT IN ('verify', 'verify_owner') OR u.email_verified_at IS NULL) \
      AND (?12 IS NULL OR u.password_hash = ?12) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = u.id AND e.purpose = ?10 \
        AND e.kind = 'wrong' AND e.at > ?7) < ?6 \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = u.id AND e.purpose = ?10 \
        AND e.kind = 'sent' AND e.at > ?9) < ?8 \
    ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash, \
      new_email = excluded.new_email, issued_at = excluded.issued_at, \
      expires_at = excluded.expires_at, wrong_attempts = 0, used_by = NULL \
    WHERE email_codes.issued_at <= ?5 OR email_codes.used_by IS NOT NULL \
      OR email_codes.new_email IS NOT excluded.new_email \
    RETURNING user_id";
/// Records that the code `?2` was stored now (and so will be mailed), for the mail cap.
const RECORD_SENT_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at) \
    SELECT user_id, purpose, 'sent', ?3 FROM email_codes \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = ?10 \
      AND code_hash = ?2 AND issued_at = ?3";
/// A sign-up with the taken address `?1` (the account's hash is not `?2`, the new one) mails its
/// owner a notice, at most `?4` since `?5`: the notice cannot be used to flood a mailbox.
const SIGN_UP_NOTICE_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at) \
    SELECT u.id, 'notice', 'sent', ?3 FROM users u WHERE u.email = ?1 AND u.password_hash <> ?2 \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = u.id AND e.purpose = 'notice' \
        AND e.kind = 'sent' AND e.at > ?5) < ?4 \
    RETURNING user_id";

// The verification batch. Arguments: ?1 email, ?2 the presented code's hashes (a JSON array: one per key of the ring, `Keyring::candidates`), ?3 now, ?4 tries per
// code, ?5 this request's marker, ?6 budget of wrong tries, ?7 budget start, ?8 the
// purpose (`verify`, or `verify_owner` for tries made with a verification token).
/// 1. The code is used, if it is the account's, live, and the budget is not spent.
const USE_VERIFY_SQL: &str = "UPDATE email_codes SET used_by = ?5 \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = ?8 \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash IN (SELECT value FROM json_each(?2)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = email_codes.user_id \
        AND e.purpose = ?8 AND e.kind = 'wrong' AND e.at > ?7) < ?6";
/// 2. A wrong try at a live code counts against the account's budget, while it lasts ...
const RECORD_VERIFY_WRONG_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at) \
    SELECT user_id, ?8, 'wrong', ?3 FROM email_codes \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = ?8 \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?2)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = email_codes.user_id \
        AND e.purpose = ?8 AND e.kind = 'wrong' AND e.at > ?7) < ?6";
/// 3. ... and against the code's own tries.
const COUNT_VERIFY_WRONG_SQL: &str = "UPDATE email_codes SET wrong_attempts = wrong_attempts + 1 \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = ?8 \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?2))";
/// 4. The address is marked verified, if this request used the code.
const MARK_VERIFIED_SQL: &str = "UPDATE users SET email_verified_at = ?3 \
    WHERE email = ?1 AND email_verified_at IS NULL AND EXISTS (SELECT 1 FROM email_codes c \
      WHERE c.user_id = users.id AND c.purpose = ?8 AND c.used_by = ?5)";
/// 5. The outcome: a row if this request used the code.
const VERIFY_OUTCOME_SQL: &str = "SELECT user_id FROM email_codes \
    WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND purpose = ?8 AND used_by = ?5";

// The email-change batch. Arguments: ?1 the caller's session, ?2 its account, ?3 now, ?4 tries
// per code, ?5 this request's marker, ?6 budget of wrong tries, ?7 budget start, ?8 the
// presented code's hashes (a JSON array, `Keyring::candidates`). Every step needs the caller's session live.
/// 1. The address before the change, for the notice.
const OLD_EMAIL_SQL: &str = "SELECT email FROM users WHERE id = ?2";
/// 2. The code is used, if it is live, the budget not spent, and the new address still free.
const USE_CHANGE_SQL: &str = "UPDATE email_codes SET used_by = ?5 \
    WHERE user_id = ?2 AND purpose = 'change' \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash IN (SELECT value FROM json_each(?8)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = ?2 \
        AND e.purpose = 'change' AND e.kind = 'wrong' AND e.at > ?7) < ?6 \
      AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3) \
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = email_codes.new_email)";
/// 3. A wrong try at a live code counts against the account's budget, while it lasts ...
const RECORD_CHANGE_WRONG_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at) \
    SELECT user_id, 'change', 'wrong', ?3 FROM email_codes \
    WHERE user_id = ?2 AND purpose = 'change' \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?8)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.user_id = ?2 \
        AND e.purpose = 'change' AND e.kind = 'wrong' AND e.at > ?7) < ?6 \
      AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3)";
/// 4. ... and against the code's own tries.
const COUNT_CHANGE_WRONG_SQL: &str = "UPDATE email_codes SET wrong_attempts = wrong_attempts + 1 \
    WHERE user_id = ?2 AND purpose = 'change' \
      AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?8)) \
      AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3)";
/// 5. The account moves to the new address, proven by the code, if this request used it.
const SWITCH_EMAIL_SQL: &str = "UPDATE users SET email_verified_at = ?3, updated_at = ?3, \
      email = (SELECT c.new_email FROM email_codes c \
        WHERE c.user_id = ?2 AND c.purpose = 'change' AND c.used_by = ?5) \
    WHERE id = ?2 AND EXISTS (SELECT 1 FROM email_codes c \
      WHERE c.user_id = ?2 AND c.purpose = 'change' AND c.used_by = ?5)";
/// 6. Every other session of the account ends (OWASP Session Management: after a change of
///    the account's identifiers).
const END_OTHER_SESSIONS_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE user_id = ?2 AND id <> ?1 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM email_codes c \
      WHERE c.user_id = ?2 AND c.purpose = 'change' AND c.used_by = ?5)";
/// 7. The outcome: whether the session is live, the new address if this request moved the
///    account, and whether a right, live code was refused because its address is taken.
const CHANGE_OUTCOME_SQL: &str = "SELECT \
      EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3) AS live, \
      (SELECT c.new_email FROM email_codes c \
        WHERE c.user_id = ?2 AND c.purpose = 'change' AND c.used_by = ?5) AS switched_to, \
      EXISTS (SELECT 1 FROM email_codes c WHERE c.user_id = ?2 AND c.purpose = 'change' \
        AND c.used_by IS NULL AND c.expires_at > ?3 AND c.wrong_attempts < ?4 AND c.code_hash IN (SELECT value FROM json_each(?8)) \
        AND EXISTS (SELECT 1 FROM users u WHERE u.email = c.new_email)) AS taken";

const ISSUE_BATCH: [&str; 2] = [ISSUE_SQL, RECORD_SENT_SQL];
const VERIFY_BATCH: [&str; 5] = [
    USE_VERIFY_SQL,
    RECORD_VERIFY_WRONG_SQL,
    COUNT_VERIFY_WRONG_SQL,
    MARK_VERIFIED_SQL,
    VERIFY_OUTCOME_SQL,
];
const CHANGE_BATCH: [&str; 7] = [
    OLD_EMAIL_SQL,
    USE_CHANGE_SQL,
    RECORD_CHANGE_WRONG_SQL,
    COUNT_CHANGE_WRONG_SQL,
    SWITCH_EMAIL_SQL,
    END_OTHER_SESSIONS_SQL,
    CHANGE_OUTCOME_SQL,
];

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: [&[&str]; 4] = [
    &ISSUE_BATCH,
    &[SIGN_UP_NOTICE_SQL],
    &VERIFY_BATCH,
    &CHANGE_BATCH,
];

/// The account a statement touched (`RETURNING user_id`); only its presence matters.
#[derive(Deserialize)]
struct Account {
    user_id: i64,
}

/// Which code to issue: its purpose, hash, the address of the account it is for, where it goes
/// (`new_email`, for a change) and the password hash the account must still have, if any.
pub struct NewCode<'a> {
    pub purpose: Purpose,
    pub code_hash: &'a str,
    pub account_email: &'a Email,
    pub new_email: Option<&'a Email>,
    pub only_if_hash: Option<&'a str>,
}

/// The rules every issuing statement binds as `?3` to `?9`, after the code's subject and hash:
/// now, the expiry, the cooldown's start, the budget of wrong tries and its start, the mail cap and
/// its start.
pub fn issue_rules(now: i64, policy: &OtpPolicy) -> [JsValue; 7] {
    [
        int(now),
        int(policy.expires_at(now)),
        int(policy.reissue_if_issued_before(now)),
        int(policy.max_failures_per_day),
        int(policy.failures_counted_since(now)),
        int(policy.max_codes_per_hour),
        int(policy.mails_counted_since(now)),
    ]
}

/// The two statements that issue a code within the cooldown, budget and mail cap of `policy`,
/// for a batch of the caller (sign-up puts them after the account's insert). Whether a code was
/// stored, and so must be mailed, is `took_effect` of the first one's result.
pub fn issue(
    db: &Db,
    code: &NewCode<'_>,
    now: i64,
    policy: &OtpPolicy,
) -> Result<[D1PreparedStatement; 2], ApiError> {
    let mut args = vec![text(code.account_email.as_str()), text(code.code_hash)];
    args.extend(issue_rules(now, policy));
    args.extend([
        text(code.purpose.as_str()),
        nullable_text(code.new_email.map(Email::as_str)),
        nullable_text(code.only_if_hash),
    ]);
    Ok([
        statement(db, ISSUE_SQL, &args)?,
        statement(db, RECORD_SENT_SQL, &args)?,
    ])
}

/// Whether the first statement of `issue`, or `sign_up_notice`, took effect: a code was stored,
/// or a notice is due; either way a mail must go.
pub fn took_effect(result: &D1Result) -> Result<bool, ApiError> {
    Ok(!rows::<Account>(result, "read issued code")?.is_empty())
}

/// Issues a code in a batch of its own; returns whether it must be mailed.
pub async fn issue_now(
    db: &Db,
    code: &NewCode<'_>,
    now: i64,
    policy: &OtpPolicy,
) -> Result<bool, ApiError> {
    let results = batch(db, issue(db, code, now, policy)?.into(), "issue email code").await?;
    took_effect(&results[0])
}

/// The statement that records a notice to the owner of a taken address, within the mail cap;
/// its result has a row when the notice must be sent. `new_hash` is the sign-up's own hash, so a
/// sign-up that created the account sends none.
pub fn sign_up_notice(
    db: &Db,
    email: &Email,
    new_hash: &str,
    now: i64,
    policy: &OtpPolicy,
) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(email.as_str()),
        text(new_hash),
        int(now),
        int(policy.max_codes_per_hour),
        int(policy.mails_counted_since(now)),
    ];
    statement(db, SIGN_UP_NOTICE_SQL, &args)
}

/// Checks a verification code and, if right, marks the address verified: one batch, so of
/// parallel tries exactly one uses the code and wrong tries are counted exactly. The account's
/// id when this request verified it, and what the first proof of the address removed.
pub async fn verify(
    db: &Db,
    email: &Email,
    code_hash: &str,
    now: i64,
    policy: &OtpPolicy,
    marker: &str,
    purpose: Purpose,
) -> Result<Option<(i64, Removed)>, ApiError> {
    let args = [
        text(email.as_str()),
        text(code_hash),
        int(now),
        int(policy.max_attempts),
        text(marker),
        int(policy.max_failures_per_day),
        int(policy.failures_counted_since(now)),
        text(purpose.as_str()),
    ];
    let [use_code, rest @ ..] = VERIFY_BATCH;
    let mut statements = vec![statement(db, use_code, &args)?];
    // Between the code's use and the address's verification: the first proof's clean-up.
    statements.extend(first_proof::statements(db, marker)?);
    let proof = 1..statements.len();
    for sql in rest {
        statements.push(statement(db, sql, &args)?);
    }
    let results = batch(db, statements, "verify email").await?;
    let outcome = results
        .last()
        .ok_or_else(|| ApiError::internal("verify email", "no outcome"))?;
    let Some(account) = rows::<Account>(outcome, "read verification outcome")?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let removed = Removed::read(&results[proof])?;
    Ok(Some((account.user_id, removed)))
}

/// What a confirmation of an email change did.
#[derive(Debug, Deserialize)]
pub struct ChangeOutcome {
    /// The caller's session was live (else nothing happened: `401`).
    pub live: i64,
    /// The new address, if this request moved the account.
    pub switched_to: Option<String>,
    /// The code was right, but its address is another account's now.
    pub taken: i64,
}

/// The result of `confirm_change`: the outcome and the address before it.
pub struct Confirmed {
    pub outcome: ChangeOutcome,
    pub old_email: Option<String>,
}

/// Checks an email-change code of the caller and, if right and the new address still free,
/// moves the account to it, marks it verified and ends every other session: one batch.
pub async fn confirm_change(
    db: &Db,
    principal: &Principal,
    code_hash: &str,
    now: i64,
    policy: &OtpPolicy,
    marker: &str,
) -> Result<Confirmed, ApiError> {
    #[derive(Deserialize)]
    struct Address {
        email: String,
    }
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
        int(policy.max_attempts),
        text(marker),
        int(policy.max_failures_per_day),
        int(policy.failures_counted_since(now)),
        text(code_hash),
    ];
    let statements = CHANGE_BATCH
        .into_iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "confirm email change").await?;
    let old_email = rows::<Address>(&results[0], "read old email")?
        .into_iter()
        .next()
        .map(|row| row.email);
    let outcome = results
        .last()
        .map(|last| rows::<ChangeOutcome>(last, "read email change outcome"))
        .transpose()?
        .and_then(|found| found.into_iter().next())
        .ok_or_else(|| ApiError::internal("confirm email change", "no outcome"))?;
    Ok(Confirmed { outcome, old_email })
}
