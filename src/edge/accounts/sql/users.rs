//! The `users` table.

use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result};

use crate::core::accounts::email::Email;
use crate::core::sessions::access_token::Principal;
use crate::edge::db::{first, int, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

const INSERT_SQL: &str = "INSERT INTO users (email, password_hash, name, created_at, updated_at) \
    VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (email) DO NOTHING RETURNING id";
const FIND_CREDENTIALS_SQL: &str =
    "SELECT id, email, name, password_hash, email_verified_at, disabled_at, disabled_until, \
      EXISTS (SELECT 1 FROM totp_factors f \
      WHERE f.user_id = users.id AND f.enabled_at IS NOT NULL) AS mfa_enabled FROM users WHERE email = ?1";
/// The caller's account, if their session `?1` is live: for a change that asks the password again.
const ACCOUNT_BY_SESSION_SQL: &str = "SELECT u.id, u.email, u.name, u.password_hash, \
      u.email_verified_at, u.disabled_at, u.disabled_until, EXISTS (SELECT 1 FROM totp_factors f \
        WHERE f.user_id = u.id AND f.enabled_at IS NOT NULL) AS mfa_enabled \
    FROM users u JOIN sessions s ON s.user_id = u.id \
    WHERE s.id = ?1 AND u.id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3";
/// The credentials of account `?1`, for a sign-in that proved the user another way (a provider).
const CREDENTIALS_BY_ID_SQL: &str =
    "SELECT id, email, name, password_hash, email_verified_at, disabled_at, disabled_until, \
      EXISTS (SELECT 1 FROM totp_factors f \
      WHERE f.user_id = users.id AND f.enabled_at IS NOT NULL) AS mfa_enabled FROM users WHERE id = ?1";
/// The account `?1`, for the answer of a login completed by a second factor.
const ACCOUNT_BY_ID_SQL: &str =
    "SELECT id, email, name, email_verified_at FROM users WHERE id = ?1";
/// A signed-in password change: only if the session is live and the hash is still `?5`, the one
/// the caller's current password was checked against (a reset in between wins).
const CHANGE_PASSWORD_SQL: &str = "UPDATE users SET password_hash = ?4, updated_at = ?3 \
    WHERE id = ?2 AND password_hash = ?5 AND EXISTS (SELECT 1 FROM sessions \
      WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3) \
    RETURNING id";
const UPGRADE_HASH_SQL: &str =
    "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2";
/// The profile, with the session's active organization and the caller's role in it now (none
/// once they left it): one read for `GET /me`.
const PROFILE_SQL: &str = "SELECT u.id, u.email, u.name, u.created_at, u.email_verified_at, \
      EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.enabled_at IS NOT NULL) AS mfa_enabled, \
      o.id AS org_id, o.name AS org_name, o.slug AS org_slug, m.role AS org_role \
    FROM users u \
    JOIN sessions s ON s.user_id = u.id \
    LEFT JOIN org_members m ON m.org_id = s.org_id AND m.user_id = u.id \
    LEFT JOIN organizations o ON o.id = m.org_id \
    WHERE s.id = ?1 AND u.id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3";
const RENAME_SQL: &str = "UPDATE users SET name = ?3, updated_at = ?4 WHERE id = ?2 AND EXISTS \
    (SELECT 1 FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?4) \
    RETURNING id";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    INSERT_SQL,
    FIND_CREDENTIALS_SQL,
    ACCOUNT_BY_SESSION_SQL,
    ACCOUNT_BY_ID_SQL,
    CREDENTIALS_BY_ID_SQL,
    CHANGE_PASSWORD_SQL,
    UPGRADE_HASH_SQL,
    PROFILE_SQL,
    RENAME_SQL,
];

/// What a login, or a change that asks the password again, needs of an account.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub password_hash: String,
    pub email_verified_at: Option<i64>,
    /// 1 when a second factor is on (SQLite has no boolean).
    pub mfa_enabled: i64,
    /// Set by an operator (the admin API), until `disabled_until` or until enabled.
    pub disabled_at: Option<i64>,
    pub disabled_until: Option<i64>,
}

impl Credentials {
    /// Whether an operator disabled the account, at `now` (the SQL that starts a session applies
    /// the same rule, so a disable racing a sign-in leaves no session).
    pub fn disabled(&self, now: i64) -> bool {
        is_disabled(self.disabled_at, self.disabled_until, now)
    }
}

/// Whether an account disabled at `at` (if ever) until `until` (if set) is disabled at `now`.
pub fn is_disabled(at: Option<i64>, until: Option<i64>, now: i64) -> bool {
    at.is_some() && until.is_none_or(|until| until > now)
}

/// What `GET /me` shows.
#[derive(Debug, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub email_verified_at: Option<i64>,
    pub mfa_enabled: i64,
    /// The session's active organization, while the caller is a member.
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub org_slug: Option<String>,
    pub org_role: Option<String>,
}

/// Creates an account (run in the sign-up's batch); its `RETURNING id` row is absent when the
/// email is taken. The unique index decides races: of two concurrent registrations of one email
/// exactly one gets an id.
pub fn insert(
    db: &Db,
    email: &Email,
    password_hash: &str,
    name: Option<&str>,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(email.as_str()),
        text(password_hash),
        nullable_text(name),
        int(now),
    ];
    statement(db, INSERT_SQL, &args)
}

/// The id of the account the sign-up's insert created, if it did.
pub fn inserted(result: &D1Result) -> Result<Option<i64>, ApiError> {
    #[derive(Deserialize)]
    struct Inserted {
        id: i64,
    }
    Ok(rows::<Inserted>(result, "read new account")?
        .first()
        .map(|row| row.id))
}

/// The account with this email, for a login (run in the login's first batch).
pub fn find_credentials(db: &Db, email: &Email) -> Result<D1PreparedStatement, ApiError> {
    statement(db, FIND_CREDENTIALS_SQL, &[text(email.as_str())])
}

/// Replaces a hash found outdated at login, unless the password changed meanwhile.
/// The credentials of account `user_id` (one round trip).
pub async fn credentials_by_id(db: &Db, user_id: i64) -> Result<Option<Credentials>, ApiError> {
    first(
        db,
        statement(db, CREDENTIALS_BY_ID_SQL, &[int(user_id)])?,
        "read account",
    )
    .await
}

pub fn upgrade_hash(
    db: &Db,
    user_id: i64,
    old_hash: &str,
    new_hash: &str,
) -> Result<D1PreparedStatement, ApiError> {
    statement(
        db,
        UPGRADE_HASH_SQL,
        &[int(user_id), text(old_hash), text(new_hash)],
    )
}

/// The caller's profile, if their session is live: the session check and the read in one statement.
pub async fn profile(
    db: &Db,
    principal: &Principal,
    now: i64,
) -> Result<Option<Profile>, ApiError> {
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
    ];
    first(db, statement(db, PROFILE_SQL, &args)?, "read profile").await
}

/// Renames the caller if their session is live; `false` when it is not.
pub async fn rename(
    db: &Db,
    principal: &Principal,
    name: Option<&str>,
    now: i64,
) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Renamed {
        #[allow(dead_code)]
        id: i64,
    }
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        nullable_text(name),
        int(now),
    ];
    let row: Option<Renamed> =
        first(db, statement(db, RENAME_SQL, &args)?, "update profile").await?;
    Ok(row.is_some())
}

/// The caller's account, if their session is live.
pub async fn account_by_session(
    db: &Db,
    principal: &Principal,
    now: i64,
) -> Result<Option<Credentials>, ApiError> {
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
    ];
    first(
        db,
        statement(db, ACCOUNT_BY_SESSION_SQL, &args)?,
        "read account",
    )
    .await
}

/// Sets the password hash of the caller, whose current password was checked against
/// `verified_hash` (run in the change's batch; its `RETURNING id` row says it happened).
pub fn change_password(
    db: &Db,
    principal: &Principal,
    now: i64,
    new_hash: &str,
    verified_hash: &str,
) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
        text(new_hash),
        text(verified_hash),
    ];
    statement(db, CHANGE_PASSWORD_SQL, &args)
}

/// What a login's answer shows of an account.
#[derive(Debug, Deserialize)]
pub struct Shown {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub email_verified_at: Option<i64>,
}

/// The statement that reads the account `user_id` for a login's answer.
pub fn shown(db: &Db, user_id: i64) -> Result<D1PreparedStatement, ApiError> {
    statement(db, ACCOUNT_BY_ID_SQL, &[int(user_id)])
}
