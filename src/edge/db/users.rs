//! The `users` table.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::{first, int, nullable_text, statement, text, Db};
use crate::core::access_token::Principal;
use crate::core::email::Email;
use crate::edge::error::ApiError;

const INSERT_SQL: &str = "INSERT INTO users (email, password_hash, name, created_at, updated_at) \
    VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (email) DO NOTHING RETURNING id";
const FIND_CREDENTIALS_SQL: &str =
    "SELECT id, email, name, password_hash FROM users WHERE email = ?1";
const UPGRADE_HASH_SQL: &str =
    "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2";
const PROFILE_SQL: &str = "SELECT u.id, u.email, u.name, u.created_at FROM users u \
    JOIN sessions s ON s.user_id = u.id \
    WHERE s.id = ?1 AND u.id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3";
const RENAME_SQL: &str = "UPDATE users SET name = ?3, updated_at = ?4 WHERE id = ?2 AND EXISTS \
    (SELECT 1 FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?4) \
    RETURNING id";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    INSERT_SQL,
    FIND_CREDENTIALS_SQL,
    UPGRADE_HASH_SQL,
    PROFILE_SQL,
    RENAME_SQL,
];

/// What a login needs of an account.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub password_hash: String,
}

/// What `GET /me` shows.
#[derive(Debug, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub created_at: i64,
}

/// Creates an account; `None` when the email is taken. The unique index decides races: of two
/// concurrent registrations of one email exactly one gets an id.
pub async fn insert(
    db: &Db,
    email: &Email,
    password_hash: &str,
    name: Option<&str>,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    #[derive(Deserialize)]
    struct Inserted {
        id: i64,
    }
    let args = [
        text(email.as_str()),
        text(password_hash),
        nullable_text(name),
        int(now),
    ];
    let row: Option<Inserted> = first(db, statement(db, INSERT_SQL, &args)?, "insert user").await?;
    Ok(row.map(|row| row.id))
}

/// The account with this email, for a login (run in the login's first batch).
pub fn find_credentials(db: &Db, email: &Email) -> Result<D1PreparedStatement, ApiError> {
    statement(db, FIND_CREDENTIALS_SQL, &[text(email.as_str())])
}

/// Replaces a hash found outdated at login, unless the password changed meanwhile.
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
