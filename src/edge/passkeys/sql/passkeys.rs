//! The `passkeys` table: registered WebAuthn credentials. The signature counter moves forward in
//! the statement that accepts an assertion (only from the value the check read), so two parallel
//! uses of one assertion cannot both pass.

use serde::Deserialize;

use crate::edge::db::{batch, first, int, leading, rows, statement, text, Db};
use crate::edge::error::ApiError;

const ADD_SQL: &str = "INSERT INTO passkeys (credential_id, user_id, public_key, algorithm, sign_count, \
      backup_eligible, backed_up, aaguid, name, created_at, last_used_at, user_handle) \
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, ?11 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2) \
    ON CONFLICT (credential_id) DO NOTHING RETURNING credential_id";
/// A credential and its account's sign-in data.
const FIND_SQL: &str =
    "SELECT credential_id, user_id, public_key, algorithm, sign_count, backup_eligible, user_handle \
    FROM passkeys \
    WHERE credential_id = ?1";
/// An accepted assertion: the counter and flags stored, if the counter is still the one read.
const USE_SQL: &str = "UPDATE passkeys SET sign_count = ?2, backed_up = ?3, last_used_at = ?4 \
    WHERE credential_id = ?1 AND sign_count = ?5 RETURNING credential_id";
const LIST_SQL: &str =
    "SELECT credential_id, name, algorithm, sign_count, backup_eligible, backed_up, \
      created_at, last_used_at FROM passkeys WHERE user_id = ?1 ORDER BY created_at, credential_id";
/// The credential ids of account `?1` (for `excludeCredentials`).
const IDS_SQL: &str = "SELECT credential_id FROM passkeys WHERE user_id = ?1";
const RENAME_SQL: &str =
    "UPDATE passkeys SET name = ?3 WHERE credential_id = ?2 AND user_id = ?1 RETURNING credential_id";
/// A passkey is deleted, unless it is the account's last way to sign in (no password, no other
/// passkey, no linked provider).
const DELETE_SQL: &str = "DELETE FROM passkeys WHERE credential_id = ?2 AND user_id = ?1 \
    AND (EXISTS (SELECT 1 FROM users WHERE id = ?1 AND password_hash <> '') \
      OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = ?1 AND p.credential_id <> ?2) \
      OR EXISTS (SELECT 1 FROM identities i WHERE i.user_id = ?1)) \
    RETURNING credential_id";
const OWNED_SQL: &str =
    "SELECT credential_id FROM passkeys WHERE credential_id = ?2 AND user_id = ?1";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    ADD_SQL, FIND_SQL, USE_SQL, LIST_SQL, IDS_SQL, RENAME_SQL, DELETE_SQL, OWNED_SQL,
];

/// A credential to store.
pub struct NewPasskey<'a> {
    pub credential_id: &'a str,
    pub user_id: i64,
    pub public_key: &'a str,
    pub algorithm: i64,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub aaguid: &'a str,
    pub name: &'a str,
    /// The WebAuthn `user.id` it was created for (base64url).
    pub user_handle: &'a str,
}

/// Stores a credential; `false` when its id is registered already.
pub async fn add(db: &Db, passkey: &NewPasskey<'_>, now: i64) -> Result<bool, ApiError> {
    let args = [
        text(passkey.credential_id),
        int(passkey.user_id),
        text(passkey.public_key),
        int(passkey.algorithm),
        int(i64::from(passkey.sign_count)),
        int(i64::from(passkey.backup_eligible)),
        int(i64::from(passkey.backed_up)),
        text(passkey.aaguid),
        text(passkey.name),
        int(now),
        text(passkey.user_handle),
    ];
    let added: Option<Id> = first(db, statement(db, ADD_SQL, &args)?, "add passkey").await?;
    Ok(added.is_some())
}

/// A stored credential, for checking an assertion.
#[derive(Debug, Deserialize)]
pub struct Stored {
    pub credential_id: String,
    pub user_id: i64,
    pub public_key: String,
    pub algorithm: i64,
    pub sign_count: i64,
    pub backup_eligible: i64,
    /// The `user.id` it was created for; `None` for a passkey stored before it was kept.
    pub user_handle: Option<String>,
}

pub async fn find(db: &Db, credential_id: &str) -> Result<Option<Stored>, ApiError> {
    first(
        db,
        statement(db, FIND_SQL, &[text(credential_id)])?,
        "find passkey",
    )
    .await
}

/// Records an accepted assertion; `false` when a parallel one moved the counter first.
pub async fn record_use(
    db: &Db,
    stored: &Stored,
    sign_count: u32,
    backed_up: bool,
    now: i64,
) -> Result<bool, ApiError> {
    let args = [
        text(&stored.credential_id),
        int(i64::from(sign_count)),
        int(i64::from(backed_up)),
        int(now),
        int(stored.sign_count),
    ];
    let used: Option<Id> = first(db, statement(db, USE_SQL, &args)?, "record passkey use").await?;
    Ok(used.is_some())
}

/// A passkey as `GET /passkeys` shows it.
#[derive(Debug, Deserialize)]
pub struct Listed {
    pub credential_id: String,
    pub name: String,
    pub algorithm: i64,
    pub sign_count: i64,
    pub backup_eligible: i64,
    pub backed_up: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<Listed>, ApiError> {
    let results = batch(
        db,
        vec![statement(db, LIST_SQL, &[int(user_id)])?],
        "list passkeys",
    )
    .await?;
    rows(&results[0], "list passkeys")
}

/// The credential ids of `user_id`.
pub async fn ids(db: &Db, user_id: i64) -> Result<Vec<String>, ApiError> {
    let results = batch(
        db,
        vec![statement(db, IDS_SQL, &[int(user_id)])?],
        "list passkey ids",
    )
    .await?;
    Ok(rows::<Id>(&results[0], "list passkey ids")?
        .into_iter()
        .map(|row| row.credential_id)
        .collect())
}

/// Renames a passkey of `user_id`; `false` if it has none of that id.
pub async fn rename(
    db: &Db,
    user_id: i64,
    credential_id: &str,
    name: &str,
) -> Result<bool, ApiError> {
    let args = [int(user_id), text(credential_id), text(name)];
    let renamed: Option<Id> =
        first(db, statement(db, RENAME_SQL, &args)?, "rename passkey").await?;
    Ok(renamed.is_some())
}

/// What a deletion did.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    Done,
    LastWayIn,
    NotFound,
}

pub async fn delete(db: &Db, user_id: i64, credential_id: &str) -> Result<Deleted, ApiError> {
    let args = [int(user_id), text(credential_id)];
    let results = batch(
        db,
        vec![
            statement(db, DELETE_SQL, &args)?,
            statement(db, OWNED_SQL, &args)?,
        ],
        "delete passkey",
    )
    .await?;
    let [deleted, owned] = leading(&results, "delete passkey")?;
    if !rows::<Id>(deleted, "read passkey deletion")?.is_empty() {
        Ok(Deleted::Done)
    } else if rows::<Id>(owned, "read passkey")?.is_empty() {
        Ok(Deleted::NotFound)
    } else {
        Ok(Deleted::LastWayIn)
    }
}

#[derive(Deserialize)]
struct Id {
    credential_id: String,
}
