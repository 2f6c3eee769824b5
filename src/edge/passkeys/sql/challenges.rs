//! The `passkey_challenges` table: one WebAuthn ceremony in flight. The challenge is random,
//! kept as its SHA-256 digest, five minutes long, bound to its ceremony (and, for a registration,
//! its account), and taken in one statement (`DELETE … RETURNING`), so of parallel replays of
//! one answer exactly one finds it (W3C WebAuthn §13.4.3).

use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::core::sessions::access_token::Principal;
use crate::edge::db::{batch, first, int, nullable_text, statement, text, Db};
use crate::edge::error::ApiError;

const CREATE_SQL: &str =
    "INSERT INTO passkey_challenges (digest, ceremony, user_id, email, expires_at, session_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/// The live challenge `?1` of ceremony `?2`, taken; a registration's only while the session that
/// asked for it is live (a logged-out or disabled session adds nothing).
const TAKE_SQL: &str = "DELETE FROM passkey_challenges \
    WHERE digest = ?1 AND ceremony = ?2 AND expires_at > ?3 \
      AND (session_id IS NULL OR EXISTS (SELECT 1 FROM sessions s \
        WHERE s.id = passkey_challenges.session_id AND s.revoked_at IS NULL AND s.expires_at > ?3)) \
    RETURNING user_id, email, session_id";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[CREATE_SQL, TAKE_SQL];

/// How long a ceremony may take (the options' `timeout` says the same).
pub const TTL_SECONDS: i64 = 300;

/// A ceremony's name as stored.
#[derive(Debug, Clone, Copy)]
pub enum Ceremony {
    Register,
    Login,
    /// The second step of a password sign-in (`/login/mfa/passkey`), for its account.
    SecondFactor,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::SecondFactor => "second_factor",
        }
    }
}

/// Whom a ceremony is for.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// A sign-in: the passkey will say whose it is.
    Nobody,
    /// The second step of this account's sign-in.
    Account(i64),
    /// A registration by this session (it ends with the session).
    Session(&'a Principal),
}

/// Stores a challenge (one round trip).
pub async fn create(
    db: &Db,
    digest: &str,
    ceremony: Ceremony,
    owner: Owner<'_>,
    email: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    let (user_id, session_id) = match owner {
        Owner::Nobody => (JsValue::NULL, JsValue::NULL),
        Owner::Account(user_id) => (int(user_id), JsValue::NULL),
        Owner::Session(principal) => (int(principal.user_id), text(&principal.session_id)),
    };
    let args = [
        text(digest),
        text(ceremony.as_str()),
        user_id,
        nullable_text(email),
        int(now + TTL_SECONDS),
        session_id,
    ];
    batch(
        db,
        vec![statement(db, CREATE_SQL, &args)?],
        "store passkey challenge",
    )
    .await?;
    Ok(())
}

/// What a taken challenge was bound to.
#[derive(Debug, Deserialize)]
pub struct Taken {
    pub user_id: Option<i64>,
    pub email: Option<String>,
    pub session_id: Option<String>,
}

/// Takes the live challenge of `digest` for `ceremony`: `None` if unknown, used or expired.
pub async fn take(
    db: &Db,
    digest: &str,
    ceremony: Ceremony,
    now: i64,
) -> Result<Option<Taken>, ApiError> {
    let args = [text(digest), text(ceremony.as_str()), int(now)];
    first(
        db,
        statement(db, TAKE_SQL, &args)?,
        "take passkey challenge",
    )
    .await
}
