//! The `identities` table: a provider's account (`provider`, `subject`) linked to one of ours,
//! and the accounts a provider creates. Linking by email follows one rule (better-auth's): only
//! when the provider asserts the address verified and our account's address is verified too.

use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::edge::db::{batch, first, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// The account linked to `?1`'s subject `?2`, and the account (if any) that has the email `?3`.
const LOOK_UP_SQL: &str = "SELECT \
      (SELECT user_id FROM identities WHERE provider = ?1 AND subject = ?2) AS linked, \
      (SELECT id FROM users WHERE email = ?3) AS by_email, \
      (SELECT email_verified_at IS NOT NULL FROM users WHERE email = ?3) AS by_email_verified";
/// A new account without a password (`''` verifies nothing), verified at `?4` if the provider
/// said so.
const CREATE_ACCOUNT_SQL: &str = "INSERT INTO users \
      (email, password_hash, name, created_at, updated_at, email_verified_at) \
    VALUES (?1, '', ?2, ?3, ?3, ?4) ON CONFLICT (email) DO NOTHING RETURNING id";
/// The identity is linked to the account `?3`, unless it is linked already (to anyone), the
/// account has one of this provider, or an operator disabled the account (a sign-in that
/// completes while it is disabled links nothing).
const LINK_SQL: &str =
    "INSERT INTO identities (provider, subject, user_id, email, created_at, last_used_at) \
    SELECT ?1, ?2, ?3, ?4, ?5, ?5 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?3 \
      AND NOT (disabled_at IS NOT NULL AND (disabled_until IS NULL OR disabled_until > ?5))) \
    ON CONFLICT DO NOTHING RETURNING user_id";
/// The identity is linked to the account the same batch just created for its email `?3`.
const LINK_NEW_SQL: &str = "INSERT INTO identities \
      (provider, subject, user_id, email, created_at, last_used_at) \
    SELECT ?1, ?2, u.id, ?4, ?5, ?5 FROM users u \
    WHERE u.email = ?3 AND u.created_at = ?5 AND u.password_hash = '' \
    ON CONFLICT DO NOTHING RETURNING user_id";
/// A sign-in through the identity records when.
const TOUCH_SQL: &str =
    "UPDATE identities SET last_used_at = ?3 WHERE provider = ?1 AND subject = ?2";
/// The identities of account `?1`.
const LIST_SQL: &str = "SELECT provider, email, created_at, last_used_at FROM identities \
    WHERE user_id = ?1 ORDER BY provider";
/// The identity of provider `?2` is unlinked from account `?1`, unless it is the account's last
/// way to sign in (no password, no other identity, no passkey).
const UNLINK_SQL: &str = "DELETE FROM identities WHERE user_id = ?1 AND provider = ?2 \
    AND (EXISTS (SELECT 1 FROM users WHERE id = ?1 AND password_hash <> '') \
      OR EXISTS (SELECT 1 FROM identities i WHERE i.user_id = ?1 AND i.provider <> ?2) \
      OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = ?1)) \
    RETURNING provider";
/// Whether account `?1` has an identity of provider `?2` (to tell "last way in" from "none").
const HAS_SQL: &str = "SELECT provider FROM identities WHERE user_id = ?1 AND provider = ?2";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    LOOK_UP_SQL,
    CREATE_ACCOUNT_SQL,
    LINK_SQL,
    LINK_NEW_SQL,
    TOUCH_SQL,
    LIST_SQL,
    UNLINK_SQL,
    HAS_SQL,
];

/// What is known of a provider's account before signing in with it.
#[derive(Debug, Deserialize)]
pub struct Found {
    pub linked: Option<i64>,
    pub by_email: Option<i64>,
    pub by_email_verified: Option<i64>,
}

/// Looks up the identity and the account of its email (one round trip).
pub async fn look_up(
    db: &Db,
    provider: &str,
    subject: &str,
    email: Option<&str>,
) -> Result<Found, ApiError> {
    let args = [text(provider), text(subject), nullable_text(email)];
    first(db, statement(db, LOOK_UP_SQL, &args)?, "look up identity")
        .await?
        .ok_or_else(|| ApiError::internal("look up identity", "no row"))
}

/// Touches the identity's last use (one round trip).
pub async fn touch(db: &Db, provider: &str, subject: &str, now: i64) -> Result<(), ApiError> {
    let args = [text(provider), text(subject), int(now)];
    batch(db, vec![statement(db, TOUCH_SQL, &args)?], "touch identity").await?;
    Ok(())
}

/// A provider's account to store.
pub struct NewIdentity<'a> {
    pub provider: &'a str,
    pub subject: &'a str,
    pub email: Option<&'a str>,
}

/// Creates an account for `email` and links the identity to it, in one batch; the account's id,
/// or `None` when the address or the identity was taken meanwhile.
pub async fn create_account(
    db: &Db,
    identity: &NewIdentity<'_>,
    email: &str,
    name: Option<&str>,
    verified: bool,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let verified_at = if verified { int(now) } else { JsValue::NULL };
    let create = statement(
        db,
        CREATE_ACCOUNT_SQL,
        &[text(email), nullable_text(name), int(now), verified_at],
    )?;
    let link = statement(
        db,
        LINK_NEW_SQL,
        &[
            text(identity.provider),
            text(identity.subject),
            text(email),
            nullable_text(identity.email),
            int(now),
        ],
    )?;
    let results = batch(db, vec![create, link], "create account by provider").await?;
    Ok(rows::<Linked>(&results[1], "read new identity")?
        .first()
        .map(|row| row.user_id))
}

/// Links the identity to account `user_id`; whether it was linked (not when the identity is
/// another account's, or the account has one of this provider already).
pub async fn link(
    db: &Db,
    identity: &NewIdentity<'_>,
    user_id: i64,
    now: i64,
) -> Result<bool, ApiError> {
    let args = [
        text(identity.provider),
        text(identity.subject),
        int(user_id),
        nullable_text(identity.email),
        int(now),
    ];
    let linked: Option<Linked> =
        first(db, statement(db, LINK_SQL, &args)?, "link identity").await?;
    Ok(linked.is_some())
}

#[derive(Deserialize)]
struct Linked {
    user_id: i64,
}

/// One linked identity, as `GET /identities` shows it.
#[derive(Debug, Deserialize)]
pub struct Listed {
    pub provider: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The statement that lists the identities of `user_id`.
pub fn list(db: &Db, user_id: i64) -> Result<worker::D1PreparedStatement, ApiError> {
    statement(db, LIST_SQL, &[int(user_id)])
}

/// What an unlink did.
#[derive(Debug, PartialEq, Eq)]
pub enum Unlinked {
    Done,
    /// The account's last way to sign in.
    LastWayIn,
    NotLinked,
}

/// Unlinks the identity of `provider` from `user_id` (one batch).
pub async fn unlink(db: &Db, user_id: i64, provider: &str) -> Result<Unlinked, ApiError> {
    let args = [int(user_id), text(provider)];
    let results = batch(
        db,
        vec![
            statement(db, UNLINK_SQL, &args)?,
            statement(db, HAS_SQL, &args)?,
        ],
        "unlink identity",
    )
    .await?;
    #[derive(Deserialize)]
    struct Provider {
        #[allow(dead_code)]
        provider: String,
    }
    let [unlinked, still_linked] = leading(&results, "unlink identity")?;
    if !rows::<Provider>(unlinked, "read unlink")?.is_empty() {
        Ok(Unlinked::Done)
    } else if rows::<Provider>(still_linked, "read identity")?.is_empty() {
        Ok(Unlinked::NotLinked)
    } else {
        Ok(Unlinked::LastWayIn)
    }
}
