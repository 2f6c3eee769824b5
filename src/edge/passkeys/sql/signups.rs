//! The `passkey_signups` table: a sign-up with a passkey and no password, waiting for the code
//! mailed to its address. The account is created only in the batch that spends a right code,
//! with its passkey and its address verified, so an address nobody can read never gets an
//! account (no squatting; the rules of the other emailed codes: keyed hash, single use, expiry,
//! tries per code, wrong tries per address per day, mails per address per hour, a cooldown).

use serde::Deserialize;
use worker::D1PreparedStatement;

use crate::core::codes::otp::OtpPolicy;
use crate::edge::db::{batch, first, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// A sign-up `?1` for `?2`, unless one for that address was made after `?7` (the cooldown) or
/// `?9` were made since `?8` (the mail cap), or the client `?11` made `?12` since `?8` (so one
/// client cannot mail address after address: OWASP Forgot Password Cheat Sheet, rate limits).
/// A taken address stores no code: nothing can complete it, and the answer and the caps are
/// those of a free one. `?10` is the WebAuthn user handle the options name.
const START_SQL: &str = "INSERT INTO passkey_signups \
      (digest, email, name, code_hash, tries, created_at, expires_at, used_by, user_handle, client) \
    SELECT ?1, ?2, ?3, \
      CASE WHEN EXISTS (SELECT 1 FROM users WHERE email = ?2) THEN NULL ELSE ?4 END, \
      0, ?5, ?6, NULL, ?10, ?11 \
    WHERE NOT EXISTS (SELECT 1 FROM passkey_signups WHERE email = ?2 AND created_at > ?7) \
      AND (SELECT COUNT(*) FROM passkey_signups WHERE email = ?2 AND created_at > ?8) < ?9 \
      AND (SELECT COUNT(*) FROM passkey_signups WHERE client = ?11 AND created_at > ?8) < ?12 \
    RETURNING code_hash IS NOT NULL AS fresh";
/// One try at the code of sign-up `?1` (live, unused, within `?3` tries, and within the address's
/// `?5` tries since `?4`); whether it is one of the presented code's hashes `?6` (a JSON array).
const TRY_SQL: &str = "UPDATE passkey_signups SET tries = tries + 1 \
    WHERE digest = ?1 AND used_by IS NULL AND expires_at > ?2 AND tries < ?3 \
      AND (SELECT COALESCE(SUM(s.tries), 0) FROM passkey_signups s \
        WHERE s.email = passkey_signups.email AND s.created_at > ?4) < ?5 \
    RETURNING COALESCE(code_hash IN (SELECT value FROM json_each(?6)), 0) AS right_code";
// The completing batch. Arguments: ?1 digest, ?2 this request's marker, ?3 now, then the passkey.
/// The sign-up is used by this request, if it has a code (no parallel request used it first).
const USE_SQL: &str = "UPDATE passkey_signups SET used_by = ?2 \
    WHERE digest = ?1 AND used_by IS NULL AND code_hash IS NOT NULL RETURNING email";
/// The account, verified (the code proved the mailbox), without a password (`''` verifies
/// nothing), unless the address was taken meanwhile.
const CREATE_ACCOUNT_SQL: &str = "INSERT INTO users \
      (email, password_hash, name, created_at, updated_at, email_verified_at) \
    SELECT email, '', name, ?3, ?3, ?3 FROM passkey_signups WHERE digest = ?1 AND used_by = ?2 \
    ON CONFLICT (email) DO NOTHING RETURNING id";
/// Its passkey, on the account this batch created (none of another: that account was made
/// now without a password, and has no passkey or provider yet). No `ON CONFLICT`: a credential
/// registered meanwhile fails the whole batch, so no account is left without a way in.
const ADD_PASSKEY_SQL: &str = "INSERT INTO passkeys (credential_id, user_id, public_key, \
      algorithm, sign_count, backup_eligible, backed_up, aaguid, name, created_at, last_used_at, \
      user_handle) \
    SELECT ?4, u.id, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?3, NULL, s.user_handle \
    FROM passkey_signups s JOIN users u ON u.email = s.email \
    WHERE s.digest = ?1 AND s.used_by = ?2 AND u.created_at = ?3 AND u.password_hash = '' \
      AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id) \
      AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id) \
    RETURNING user_id";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    START_SQL,
    TRY_SQL,
    USE_SQL,
    CREATE_ACCOUNT_SQL,
    ADD_PASSKEY_SQL,
];

/// How a code is bound: its purpose (part of the keyed hash, so no other code's hash is valid
/// here) and, as subject, the sign-up's digest.
pub const PURPOSE: &str = "passkey_signup";

/// A sign-up to store.
pub struct NewSignup<'a> {
    pub digest: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub code_hash: &'a str,
    /// The WebAuthn `user.id` of the options (random: the account does not exist yet).
    pub user_handle: &'a str,
    /// The client address that asked.
    pub client: &'a str,
}

/// Sign-up mails one client address may cause per hour.
pub const MAILS_PER_CLIENT_PER_HOUR: i64 = 10;

/// What storing a sign-up found.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    /// A free address: its code must be mailed.
    Fresh,
    /// The address has an account: its owner gets a notice instead.
    Taken,
    /// The cooldown or the hourly cap of this address, or of the client, holds.
    Capped,
}

/// Stores a sign-up within the address's cooldown and mail cap.
pub async fn start(
    db: &Db,
    signup: &NewSignup<'_>,
    now: i64,
    policy: &OtpPolicy,
) -> Result<Started, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        fresh: i64,
    }
    let args = [
        text(signup.digest),
        text(signup.email),
        nullable_text(signup.name),
        text(signup.code_hash),
        int(now),
        int(policy.expires_at(now)),
        int(policy.reissue_if_issued_before(now)),
        int(policy.mails_counted_since(now)),
        int(policy.max_codes_per_hour),
        text(signup.user_handle),
        text(signup.client),
        int(MAILS_PER_CLIENT_PER_HOUR),
    ];
    let row: Option<Row> = first(
        db,
        statement(db, START_SQL, &args)?,
        "start passkey sign-up",
    )
    .await?;
    Ok(match row {
        Some(Row { fresh: 1 }) => Started::Fresh,
        Some(_) => Started::Taken,
        None => Started::Capped,
    })
}

/// Counts one try at the code of sign-up `digest`: whether the code was right, or `None` when
/// the sign-up is unknown, used, expired or out of tries (its own or its address's).
pub async fn try_code(
    db: &Db,
    digest: &str,
    candidates: &str,
    now: i64,
    policy: &OtpPolicy,
) -> Result<Option<bool>, ApiError> {
    #[derive(Deserialize)]
    struct Tried {
        right_code: i64,
    }
    let args = [
        text(digest),
        int(now),
        int(policy.max_attempts),
        int(policy.failures_counted_since(now)),
        int(policy.max_failures_per_day),
        text(candidates),
    ];
    let results = batch(
        db,
        vec![statement(db, TRY_SQL, &args)?],
        "try passkey sign-up code",
    )
    .await?;
    Ok(rows::<Tried>(&results[0], "read passkey sign-up")?
        .first()
        .map(|tried| tried.right_code == 1))
}

/// The passkey the new account gets.
pub struct FirstPasskey<'a> {
    pub credential_id: &'a str,
    pub public_key: &'a str,
    pub algorithm: i64,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub aaguid: &'a str,
    pub name: &'a str,
}

/// How a completion ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Completed {
    /// The account and its passkey, by the account's id.
    Created(i64),
    /// A parallel request used the sign-up first.
    Used,
    /// The address got an account meanwhile.
    Taken,
}

/// Uses the sign-up and creates its account with its passkey, in one batch.
pub async fn complete(
    db: &Db,
    digest: &str,
    marker: &str,
    passkey: &FirstPasskey<'_>,
    now: i64,
) -> Result<Completed, ApiError> {
    #[derive(Deserialize)]
    struct Used {
        #[allow(dead_code)]
        email: String,
    }
    #[derive(Deserialize)]
    struct Added {
        user_id: i64,
    }
    let head = [text(digest), text(marker), int(now)];
    let passkey_args = [
        text(digest),
        text(marker),
        int(now),
        text(passkey.credential_id),
        text(passkey.public_key),
        int(passkey.algorithm),
        int(i64::from(passkey.sign_count)),
        int(i64::from(passkey.backup_eligible)),
        int(i64::from(passkey.backed_up)),
        text(passkey.aaguid),
        text(passkey.name),
    ];
    let statements: Vec<D1PreparedStatement> = vec![
        statement(db, USE_SQL, &head[..2])?,
        statement(db, CREATE_ACCOUNT_SQL, &head)?,
        statement(db, ADD_PASSKEY_SQL, &passkey_args)?,
    ];
    let results = batch(db, statements, "complete passkey sign-up").await?;
    let [used, _created, added] = leading(&results, "complete passkey sign-up")?;
    if rows::<Used>(used, "read used sign-up")?.is_empty() {
        return Ok(Completed::Used);
    }
    Ok(rows::<Added>(added, "read first passkey")?
        .first()
        .map_or(Completed::Taken, |added| Completed::Created(added.user_id)))
}
