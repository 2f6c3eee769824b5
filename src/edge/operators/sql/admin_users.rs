//! What the admin API (`handlers/admin.rs`) reads and changes of accounts: the list with its
//! filters, one account's whole state, creation, edits, disabling (which ends every session at
//! once, in the same batch), and the recovery actions (second factors removed, sessions ended).

use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::edge::db::{batch, first, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;
use crate::edge::sessions::sql::ceremonies;

/// Accounts after id `?1`, by id, `?8` at most, filtered: email in [`?2`, `?3`) (a prefix as a
/// range of the unique index's order), created in [`?4`, `?5`), disabled at `?9` or not (`?6`),
/// address verified or not (`?7`); a NULL filter is off. Disabled is `users::is_disabled`'s rule.
const LIST_SQL: &str = "SELECT u.id, u.email, u.name, u.created_at, u.updated_at, \
      u.email_verified_at, u.disabled_at, u.disabled_until, u.disabled_reason, \
      u.password_hash <> '' AS has_password \
    FROM users u WHERE u.id > ?1 \
      AND (?2 IS NULL OR (u.email >= ?2 AND u.email < ?3)) \
      AND (?4 IS NULL OR u.created_at >= ?4) AND (?5 IS NULL OR u.created_at < ?5) \
      AND (?6 IS NULL OR (u.disabled_at IS NOT NULL \
        AND (u.disabled_until IS NULL OR u.disabled_until > ?9)) = ?6) \
      AND (?7 IS NULL OR (u.email_verified_at IS NOT NULL) = ?7) \
    ORDER BY u.id LIMIT ?8";
/// One account with its sign-in methods and sessions, at `?2`.
const GET_SQL: &str = "SELECT u.id, u.email, u.name, u.created_at, u.updated_at, \
      u.email_verified_at, u.disabled_at, u.disabled_until, u.disabled_reason, \
      u.password_hash <> '' AS has_password, \
      EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.enabled_at IS NOT NULL) \
        AS totp, \
      (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) \
        AS recovery_codes_left, \
      (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys, \
      (SELECT json_group_array(provider) FROM identities i WHERE i.user_id = u.id) AS providers, \
      (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL \
        AND s.expires_at > ?2) AS live_sessions, \
      (SELECT MAX(s.created_at) FROM sessions s WHERE s.user_id = u.id) AS last_sign_in_at \
    FROM users u WHERE u.id = ?1";
/// A new account: password hash `?2` (`''` for none), verified at `?5` or not.
const CREATE_SQL: &str = "INSERT INTO users \
      (email, password_hash, name, created_at, updated_at, email_verified_at) \
    VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (email) DO NOTHING RETURNING id";
/// Edits of account `?1` at `?6`: the name when `?2` (to `?3`), the email when `?4` is not NULL
/// (unless another account has it), the verified flag when `?5` is not NULL (a new email without
/// it is unverified).
const UPDATE_SQL: &str = "UPDATE users SET \
      name = CASE WHEN ?2 THEN ?3 ELSE name END, \
      email = COALESCE(?4, email), \
      email_verified_at = CASE \
        WHEN ?5 = 1 THEN COALESCE(email_verified_at, ?6) \
        WHEN ?5 = 0 THEN NULL \
        WHEN ?4 IS NOT NULL AND ?4 <> email THEN NULL \
        ELSE email_verified_at END, \
      updated_at = ?6 \
    WHERE id = ?1 AND (?4 IS NULL OR NOT EXISTS (SELECT 1 FROM users o WHERE o.email = ?4 AND o.id <> ?1)) \
    RETURNING id";
// Disabling, one batch. Arguments: ?1 account, ?2 now, ?3 until (or NULL), ?4 reason.
const DISABLE_SQL: &str = "UPDATE users SET disabled_at = ?2, disabled_until = ?3, \
    disabled_reason = ?4, updated_at = ?2 WHERE id = ?1 RETURNING id";
/// Every live session of `?1` ends at `?2` (also the admin's "end every session").
const END_SESSIONS_SQL: &str = "UPDATE sessions SET revoked_at = ?2 \
    WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2";
/// Its sign-ins in flight: a waiting second step, a social sign-in's one-time code.
const DROP_MFA_CHALLENGES_SQL: &str = "DELETE FROM mfa_challenges WHERE user_id = ?1";
const DROP_OAUTH_CODES_SQL: &str = "DELETE FROM oauth_codes WHERE user_id = ?1";
const ENABLE_SQL: &str = "UPDATE users SET disabled_at = NULL, disabled_until = NULL, \
    disabled_reason = NULL, updated_at = ?2 WHERE id = ?1 RETURNING id";
// Removing the second factors, one batch. Arguments: ?1 account, ?2 whether passkeys go too.
const DROP_TOTP_SQL: &str = "DELETE FROM totp_factors WHERE user_id = ?1 RETURNING enabled_at";
const DROP_RECOVERY_CODES_SQL: &str = "DELETE FROM recovery_codes WHERE user_id = ?1";
const DROP_PASSKEYS_SQL: &str =
    "DELETE FROM passkeys WHERE user_id = ?1 AND ?2 = 1 RETURNING credential_id";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    LIST_SQL,
    GET_SQL,
    CREATE_SQL,
    UPDATE_SQL,
    DISABLE_SQL,
    END_SESSIONS_SQL,
    DROP_MFA_CHALLENGES_SQL,
    DROP_OAUTH_CODES_SQL,
    ENABLE_SQL,
    DROP_TOTP_SQL,
    DROP_RECOVERY_CODES_SQL,
    DROP_PASSKEYS_SQL,
];

/// The filters of the list.
#[derive(Debug, Default)]
pub struct Filters {
    pub after_id: i64,
    /// `[from, to)` of the emails with a prefix.
    pub email_range: Option<(String, String)>,
    pub created_from: Option<i64>,
    pub created_before: Option<i64>,
    pub disabled: Option<bool>,
    pub verified: Option<bool>,
    pub limit: i64,
}

/// An account as the list shows it.
#[derive(Debug, Deserialize)]
pub struct Summary {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub email_verified_at: Option<i64>,
    pub disabled_at: Option<i64>,
    pub disabled_until: Option<i64>,
    pub disabled_reason: Option<String>,
    pub has_password: i64,
}

fn flag(value: Option<bool>) -> JsValue {
    value.map_or(JsValue::NULL, |v| int(i64::from(v)))
}

fn optional(value: Option<i64>) -> JsValue {
    value.map_or(JsValue::NULL, int)
}

pub async fn list(db: &Db, filters: &Filters, now: i64) -> Result<Vec<Summary>, ApiError> {
    let (from, to) = filters
        .email_range
        .as_ref()
        .map_or((None, None), |(f, t)| (Some(f.as_str()), Some(t.as_str())));
    let args = [
        int(filters.after_id),
        nullable_text(from),
        nullable_text(to),
        optional(filters.created_from),
        optional(filters.created_before),
        flag(filters.disabled),
        flag(filters.verified),
        int(filters.limit),
        int(now),
    ];
    let results = batch(db, vec![statement(db, LIST_SQL, &args)?], "list accounts").await?;
    rows(&results[0], "read accounts")
}

/// One account in full.
#[derive(Debug, Deserialize)]
pub struct Detailed {
    #[serde(flatten)]
    pub summary: Summary,
    pub totp: i64,
    pub recovery_codes_left: i64,
    pub passkeys: i64,
    /// A JSON array of provider ids.
    pub providers: String,
    pub live_sessions: i64,
    pub last_sign_in_at: Option<i64>,
}

pub async fn get(db: &Db, user_id: i64, now: i64) -> Result<Option<Detailed>, ApiError> {
    first(
        db,
        statement(db, GET_SQL, &[int(user_id), int(now)])?,
        "read account",
    )
    .await
}

#[derive(Deserialize)]
struct Id {
    #[allow(dead_code)]
    id: i64,
}

/// A new account; its id, or `None` when the address has one.
pub async fn create(
    db: &Db,
    email: &str,
    password_hash: &str,
    name: Option<&str>,
    verified: bool,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    #[derive(Deserialize)]
    struct Created {
        id: i64,
    }
    let args = [
        text(email),
        text(password_hash),
        nullable_text(name),
        int(now),
        if verified { int(now) } else { JsValue::NULL },
    ];
    let created: Option<Created> =
        first(db, statement(db, CREATE_SQL, &args)?, "create account").await?;
    Ok(created.map(|c| c.id))
}

/// The edits of one account.
pub struct Edits<'a> {
    /// `Some(None)` clears the name.
    pub name: Option<Option<&'a str>>,
    pub email: Option<&'a str>,
    pub verified: Option<bool>,
}

/// Applies `edits`; `false` when the account is gone or the new email is another account's.
pub async fn update(db: &Db, user_id: i64, edits: &Edits<'_>, now: i64) -> Result<bool, ApiError> {
    let args = [
        int(user_id),
        int(i64::from(edits.name.is_some())),
        nullable_text(edits.name.flatten()),
        nullable_text(edits.email),
        flag(edits.verified),
        int(now),
    ];
    let updated: Option<Id> =
        first(db, statement(db, UPDATE_SQL, &args)?, "update account").await?;
    Ok(updated.is_some())
}

/// Disables the account and ends its sessions and sign-ins in flight; `false` if it is gone.
pub async fn disable(
    db: &Db,
    user_id: i64,
    until: Option<i64>,
    reason: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let args = [int(user_id), int(now), optional(until), text(reason)];
    let statements = vec![
        statement(db, DISABLE_SQL, &args)?,
        statement(db, END_SESSIONS_SQL, &args[..2])?,
        statement(db, DROP_MFA_CHALLENGES_SQL, &args[..1])?,
        statement(db, DROP_OAUTH_CODES_SQL, &args[..1])?,
    ];
    let mut statements = statements;
    statements.extend(ceremonies::end_with_sessions(db, user_id, now)?);
    let results = batch(db, statements, "disable account").await?;
    Ok(!rows::<Id>(&results[0], "read disabled account")?.is_empty())
}

pub async fn enable(db: &Db, user_id: i64, now: i64) -> Result<bool, ApiError> {
    let enabled: Option<Id> = first(
        db,
        statement(db, ENABLE_SQL, &[int(user_id), int(now)])?,
        "enable account",
    )
    .await?;
    Ok(enabled.is_some())
}

/// Ends every live session of the account; how many.
pub async fn end_sessions(db: &Db, user_id: i64, now: i64) -> Result<usize, ApiError> {
    let mut statements = vec![statement(db, END_SESSIONS_SQL, &[int(user_id), int(now)])?];
    statements.extend(ceremonies::end_with_sessions(db, user_id, now)?);
    let results = batch(db, statements, "end account sessions").await?;
    Ok(results[0]
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0))
}

/// What removing the second factors removed.
#[derive(Debug)]
pub struct Removed {
    /// A TOTP factor was on (not merely pending).
    pub totp: bool,
    pub passkeys: usize,
}

/// Removes the TOTP factor with its recovery codes and waiting second steps, and the passkeys
/// when `passkeys`.
pub async fn remove_factors(db: &Db, user_id: i64, passkeys: bool) -> Result<Removed, ApiError> {
    #[derive(Deserialize)]
    struct Factor {
        enabled_at: Option<i64>,
    }
    #[derive(Deserialize)]
    struct Passkey {
        #[allow(dead_code)]
        credential_id: String,
    }
    let args = [int(user_id), int(i64::from(passkeys))];
    let statements = vec![
        statement(db, DROP_TOTP_SQL, &args[..1])?,
        statement(db, DROP_RECOVERY_CODES_SQL, &args[..1])?,
        statement(db, DROP_MFA_CHALLENGES_SQL, &args[..1])?,
        statement(db, DROP_PASSKEYS_SQL, &args)?,
    ];
    let results = batch(db, statements, "remove second factors").await?;
    let [totp, _recovery_codes, _challenges, passkeys] =
        leading(&results, "remove second factors")?;
    let totp = rows::<Factor>(totp, "read removed factor")?
        .iter()
        .any(|f| f.enabled_at.is_some());
    let passkeys = rows::<Passkey>(passkeys, "read removed passkeys")?.len();
    Ok(Removed { totp, passkeys })
}
