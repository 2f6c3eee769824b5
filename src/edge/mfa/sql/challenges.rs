//! The `mfa_challenges` table: a password login of an account with a second factor, waiting for
//! its code. The `mfa_token` is single use, short-lived, tried a bounded number of times, and
//! bound to its account, the session it will start and the password hash the login verified.

use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result};

use crate::core::sessions::amr::Method;
use crate::edge::db::{batch, int, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// A challenge for `?2`, whose login verified the hash `?4`.
const CREATE_SQL: &str = "INSERT INTO mfa_challenges \
      (digest, user_id, session_id, password_hash, client, user_agent, expires_at, tries, used_by, amr) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, NULL, ?8)";
/// One try at a live, unused challenge, within `?3` tries, from the client address `?4` and
/// User-Agent `?5` of the login that made it: a token that leaked elsewhere is unknown there
/// (OWASP Session Management Cheat Sheet, binding to client properties).
const TRY_SQL: &str = "UPDATE mfa_challenges SET tries = tries + 1 \
    WHERE digest = ?1 AND used_by IS NULL AND expires_at > ?2 AND tries < ?3 \
      AND client = ?4 AND user_agent IS ?5 \
    RETURNING user_id, session_id, client";
// Arguments of completion: ?1 digest, ?2 this request's marker, ?3 now, ?4 session expiry, ?5
// the second step's `amr` (`core/amr.rs`), added to the first step's.
/// The challenge is used, if this request proved a code of its account.
const COMPLETE_SQL: &str = "UPDATE mfa_challenges SET used_by = ?2 \
    WHERE digest = ?1 AND used_by IS NULL AND expires_at > ?3 \
    AND EXISTS (SELECT 1 FROM totp_factors f \
      WHERE f.user_id = mfa_challenges.user_id AND f.last_used_by = ?2)";
/// The challenge is used by this request (`?2`), whose passkey assertion its caller verified and
/// whose passkey challenge it took (single use) in the same request.
const COMPLETE_BY_PASSKEY_SQL: &str = "UPDATE mfa_challenges SET used_by = ?2 \
    WHERE digest = ?1 AND used_by IS NULL AND expires_at > ?3";
/// The account of a live, unused challenge with tries left, for the client that made it (asking
/// for passkey options counts no try; the completion does).
const PEEK_SQL: &str = "SELECT user_id FROM mfa_challenges \
    WHERE digest = ?1 AND used_by IS NULL AND expires_at > ?2 AND tries < ?3 \
      AND client = ?4 AND user_agent IS ?5";
/// Its session starts, if this request used it and the password is still the one verified.
const START_SESSION_SQL: &str =
    "INSERT INTO sessions (id, user_id, created_at, expires_at, user_agent, amr) \
    SELECT c.session_id, c.user_id, ?3, ?4, c.user_agent, COALESCE(c.amr, 'pwd') || ' ' || ?5 \
    FROM mfa_challenges c \
    JOIN users u ON u.id = c.user_id AND u.password_hash = c.password_hash \
    WHERE c.digest = ?1 AND c.used_by = ?2 \
      AND NOT (u.disabled_at IS NOT NULL AND (u.disabled_until IS NULL OR u.disabled_until > ?3)) \
    RETURNING id, amr";

/// A recovery code this request spent is given back when the challenge was not its to use (a
/// parallel completion won): a losing request spends nothing.
const GIVE_BACK_SQL: &str = "UPDATE recovery_codes SET used_at = NULL, used_by = NULL \
    WHERE user_id = (SELECT user_id FROM mfa_challenges WHERE digest = ?1) AND used_by = ?2 \
    AND NOT EXISTS (SELECT 1 FROM mfa_challenges WHERE digest = ?1 AND used_by = ?2)";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    CREATE_SQL,
    TRY_SQL,
    COMPLETE_SQL,
    COMPLETE_BY_PASSKEY_SQL,
    PEEK_SQL,
    START_SESSION_SQL,
    GIVE_BACK_SQL,
];

/// What a new challenge holds.
pub struct NewChallenge<'a> {
    pub digest: &'a str,
    pub user_id: i64,
    pub session_id: &'a str,
    pub verified_hash: &'a str,
    pub client: &'a str,
    pub user_agent: Option<&'a str>,
    pub expires_at: i64,
    /// How the first step proved the user (`core/amr.rs`).
    pub amr: &'a str,
}

/// Stores a challenge (one round trip).
pub async fn create(db: &Db, challenge: &NewChallenge<'_>) -> Result<(), ApiError> {
    let args = [
        text(challenge.digest),
        int(challenge.user_id),
        text(challenge.session_id),
        text(challenge.verified_hash),
        text(challenge.client),
        nullable_text(challenge.user_agent),
        int(challenge.expires_at),
        text(challenge.amr),
    ];
    batch(
        db,
        vec![statement(db, CREATE_SQL, &args)?],
        "create mfa challenge",
    )
    .await?;
    Ok(())
}

/// A challenge a try was counted against.
#[derive(Debug, Deserialize)]
pub struct Tried {
    pub user_id: i64,
    pub session_id: String,
    pub client: String,
}

/// The client a try comes from: its address and its User-Agent as sessions store it.
pub struct TryingClient {
    pub address: String,
    pub user_agent: Option<String>,
}

/// Counts one try at the challenge of `digest`; `None` if it is unknown, used, expired, out of
/// tries, or made for another client.
pub async fn try_once(
    db: &Db,
    digest: &str,
    now: i64,
    max_tries: i64,
    client: &TryingClient,
) -> Result<Option<Tried>, ApiError> {
    let args = [
        text(digest),
        int(now),
        int(max_tries),
        text(&client.address),
        nullable_text(client.user_agent.as_deref()),
    ];
    let results = batch(
        db,
        vec![statement(db, TRY_SQL, &args)?],
        "try mfa challenge",
    )
    .await?;
    Ok(rows(&results[0], "read mfa challenge")?.into_iter().next())
}

/// The account of the live challenge of `digest` made by `client`, without counting a try.
pub async fn peek(
    db: &Db,
    digest: &str,
    now: i64,
    max_tries: i64,
    client: &TryingClient,
) -> Result<Option<i64>, ApiError> {
    #[derive(Deserialize)]
    struct Peeked {
        user_id: i64,
    }
    let args = [
        text(digest),
        int(now),
        int(max_tries),
        text(&client.address),
        nullable_text(client.user_agent.as_deref()),
    ];
    let peeked: Option<Peeked> =
        crate::edge::db::first(db, statement(db, PEEK_SQL, &args)?, "peek mfa challenge").await?;
    Ok(peeked.map(|p| p.user_id))
}

/// How a completion proved the second factor.
#[derive(Debug, Clone, Copy)]
pub enum Proved {
    /// A TOTP or recovery code, recorded under the marker in the same batch.
    Code,
    /// A passkey assertion, verified and its challenge taken before the batch; `synced` when the
    /// passkey is backup eligible.
    Passkey { synced: bool },
}

impl Proved {
    /// The way the second step proved the user (`core/amr.rs`).
    pub fn method(self) -> Method {
        match self {
            Self::Code => Method::OneTimeCode,
            Self::Passkey { synced } => Method::Passkey {
                synced,
                user_verified: false,
            },
        }
    }
}

/// The statements that use the challenge and start its session, for the batch that holds the
/// proof made under `marker`; the second one's result has the session when it started.
pub fn complete(
    db: &Db,
    digest: &str,
    proved: Proved,
    marker: &str,
    now: i64,
    session_expires_at: i64,
    second_step_amr: &str,
) -> Result<[D1PreparedStatement; 2], ApiError> {
    let args = [
        text(digest),
        text(marker),
        int(now),
        int(session_expires_at),
        text(second_step_amr),
    ];
    let using = match proved {
        Proved::Code => COMPLETE_SQL,
        Proved::Passkey { .. } => COMPLETE_BY_PASSKEY_SQL,
    };
    Ok([
        statement(db, using, &args[..3])?,
        statement(db, START_SESSION_SQL, &args)?,
    ])
}

/// The statement that gives back a recovery code spent under `marker` unless this request used
/// the challenge: for the end of the completing batch.
pub fn give_back(db: &Db, digest: &str, marker: &str) -> Result<D1PreparedStatement, ApiError> {
    statement(db, GIVE_BACK_SQL, &[text(digest), text(marker)])
}

/// The `amr` of the session `START_SESSION_SQL` started (the first step's, then the second's, as
/// stored); `None` when it started none.
pub fn started(result: &D1Result) -> Result<Option<String>, ApiError> {
    #[derive(Deserialize)]
    struct Started {
        amr: String,
    }
    Ok(rows::<Started>(result, "read mfa session")?
        .into_iter()
        .next()
        .map(|started| started.amr))
}
