//! The `sessions` and `refresh_tokens` tables: logins, rotation, reuse detection, revocation.

use serde::Deserialize;
use worker::D1PreparedStatement;

use crate::core::sessions::access_token::Principal;
use crate::edge::db::{batch, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;
use crate::edge::sessions::sql::ceremonies;

/// A new session for `?2`, only if the account's password hash is still `?5`, the one the
/// login verified: a reset that commits while the login hashes leaves no session made with the
/// old password (OWASP Session Management: sessions end when the password changes).
/// Nor for an account an operator disabled. `?7` is how the user signed in (`core/amr.rs`).
const CREATE_SQL: &str =
    "INSERT INTO sessions (id, user_id, created_at, expires_at, user_agent, amr) \
    SELECT ?1, id, ?3, ?4, ?6, ?7 FROM users WHERE id = ?2 AND password_hash = ?5 \
      AND NOT (disabled_at IS NOT NULL AND (disabled_until IS NULL OR disabled_until > ?3)) \
    RETURNING id";
/// The first refresh token of a session, if the session was created.
const ADD_REFRESH_TOKEN_SQL: &str = "INSERT INTO refresh_tokens (digest, session_id, issued_at) \
    SELECT ?1, id, ?3 FROM sessions WHERE id = ?2";
// Rotation. Arguments: ?1 the presented token's digest, ?2 this request's successor's digest,
// ?3 now, ?4 the grace window, ?5 this request's salt, ?6 the id of the key it used, ?7 the
// client whose grant it must be (NULL: a first-party session), ?8 the organization to switch to
// (NULL: none), ?9 1 when the request switches.
/// Rotation, step 1: an unspent token of a live session is marked spent, with the successor this
/// request derived (its digest, salt and key id). The liveness check is tied to the token's own
/// session (by primary key), so it reads one row, not every session. A client's refresh token
/// rotates only at the token endpoint by that client, a first-party one only at `/refresh`.
/// A switch to an organization the user is not a member of spends nothing.
const SPEND_SQL: &str = "UPDATE refresh_tokens SET rotated_at = ?3, successor_digest = ?2, \
      successor_salt = ?5, successor_key = ?6 \
    WHERE digest = ?1 AND rotated_at IS NULL AND EXISTS (SELECT 1 FROM sessions s \
      WHERE s.id = refresh_tokens.session_id AND s.revoked_at IS NULL AND s.expires_at > ?3 \
        AND s.client_id IS ?7 \
        AND (?9 = 0 OR ?8 IS NULL OR EXISTS (SELECT 1 FROM org_members m \
          WHERE m.org_id = ?8 AND m.user_id = s.user_id)))";
/// Rotation, step 2: the successor is stored, if this request spent the token.
const RECORD_SUCCESSOR_SQL: &str =
    "INSERT OR IGNORE INTO refresh_tokens (digest, session_id, issued_at) \
    SELECT ?2, t.session_id, ?3 FROM refresh_tokens t \
    WHERE t.digest = ?1 AND t.successor_digest = ?2 AND t.rotated_at = ?3 \
      AND EXISTS (SELECT 1 FROM sessions s \
        WHERE s.id = t.session_id AND s.revoked_at IS NULL AND s.expires_at > ?3)";
/// Rotation, step 3: reuse revokes the whole session (RFC 9700 §4.14.2). Reuse is a token spent
/// before the grace window, or one whose successor was itself spent already: the window reaches
/// one step back, never to a token two rotations old.
const REVOKE_ON_REUSE_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE revoked_at IS NULL AND id = (SELECT t.session_id FROM refresh_tokens t WHERE t.digest = ?1 \
      AND (t.rotated_at < ?3 - ?4 OR EXISTS (SELECT 1 FROM refresh_tokens n \
        WHERE n.digest = t.successor_digest AND n.rotated_at IS NOT NULL)))";
/// Rotation, step 3b: a switch makes the organization the session's active one, if this request
/// spent the token.
const SWITCH_SQL: &str = "UPDATE sessions SET org_id = ?8 WHERE ?9 = 1 \
    AND id = (SELECT t.session_id FROM refresh_tokens t \
      WHERE t.digest = ?1 AND t.successor_digest = ?2 AND t.rotated_at = ?3)";
/// Rotation, step 4: a session that was refreshed records when, for `GET /sessions`.
const TOUCH_SQL: &str = "UPDATE sessions SET last_used_at = ?3 WHERE revoked_at IS NULL \
    AND id = (SELECT session_id FROM refresh_tokens WHERE digest = ?1)";
/// Rotation, step 5: the outcome, with the salt and key of the successor (this request's, or
/// the one an earlier request within the window derived), the active organization with the
/// member's role now (none once they left it), and whether a switch named one of theirs.
const ROTATION_OUTCOME_SQL: &str = "SELECT s.id AS session_id, s.user_id, s.revoked_at, s.expires_at, \
      s.created_at AS auth_time, s.amr, s.client_id, s.scope, s.resource, \
      t.rotated_at, t.successor_salt, t.successor_key, \
      (SELECT n.rotated_at FROM refresh_tokens n WHERE n.digest = t.successor_digest) AS successor_rotated_at, \
      m.org_id, m.role AS org_role, \
      (?9 = 0 OR ?8 IS NULL OR EXISTS (SELECT 1 FROM org_members o \
        WHERE o.org_id = ?8 AND o.user_id = s.user_id)) AS org_allowed \
    FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
    LEFT JOIN org_members m ON m.org_id = s.org_id AND m.user_id = s.user_id \
    WHERE t.digest = ?1";
/// Logout: the caller's session, if it is live. The check is a non-correlated subquery, which
/// SQLite evaluates once before updating.
const END_ONE_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL \
    AND ?1 IN (SELECT id FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3) \
    RETURNING id";
/// Logout everywhere: every live session of the caller, if the caller's own is live.
const END_ALL_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE user_id = ?2 AND revoked_at IS NULL \
    AND ?1 IN (SELECT id FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3) \
    RETURNING id";
/// Logout with a refresh token in the body: its session too, if it is the caller's.
const END_REFRESH_SESSION_SQL: &str =
    "UPDATE sessions SET revoked_at = ?3 WHERE revoked_at IS NULL \
    AND user_id = ?2 AND id = (SELECT session_id FROM refresh_tokens WHERE digest = ?1)";

/// Whether the caller's session `?1` of `?2` is live at `?3`.
const CALLER_LIVE_SQL: &str = "SELECT id FROM sessions \
    WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3";
/// The live sessions of `?1` at `?2`, newest first, at most `?3`.
const LIST_SQL: &str = "SELECT id, created_at, last_used_at, user_agent FROM sessions \
    WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 AND client_id IS NULL \
    ORDER BY created_at DESC, id LIMIT ?3";
/// `DELETE /sessions/{id}`: the live session `?4` of the caller, if the caller's own is live.
const END_BY_ID_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE id = ?4 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3 \
    AND ?1 IN (SELECT id FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3) \
    RETURNING id";
/// After a signed-in password change: every other session of `?2` ends, if the account's hash
/// is now `?4` (the change happened in this batch).
const END_OTHERS_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE user_id = ?2 AND id <> ?1 AND revoked_at IS NULL \
    AND EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash = ?4)";

/// The most sessions `GET /sessions` lists.
pub const LIST_LIMIT: i64 = 100;

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    CREATE_SQL,
    ADD_REFRESH_TOKEN_SQL,
    SPEND_SQL,
    RECORD_SUCCESSOR_SQL,
    REVOKE_ON_REUSE_SQL,
    SWITCH_SQL,
    TOUCH_SQL,
    ROTATION_OUTCOME_SQL,
    END_ONE_SQL,
    END_ALL_SQL,
    END_REFRESH_SESSION_SQL,
    CALLER_LIVE_SQL,
    LIST_SQL,
    END_BY_ID_SQL,
    END_OTHERS_SQL,
];

/// A session to start.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: i64,
    pub expires_at: i64,
    /// The password hash the sign-in verified (or the account's, for other ways in).
    pub verified_hash: &'a str,
    pub user_agent: Option<&'a str>,
    /// How the user signed in, as stored (`core/amr.rs`).
    pub amr: &'a str,
}

/// A new session, created only if the password hash the login verified is still the account's;
/// its `RETURNING id` row is absent otherwise (run in the login's success batch).
pub fn create(db: &Db, new: &NewSession<'_>, now: i64) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(new.id),
        int(new.user_id),
        int(now),
        int(new.expires_at),
        text(new.verified_hash),
        nullable_text(new.user_agent),
        text(new.amr),
    ];
    statement(db, CREATE_SQL, &args)
}

/// The first refresh token of a new session (if the session was created).
pub fn add_refresh_token(
    db: &Db,
    digest: &str,
    session_id: &str,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let args = [text(digest), text(session_id), int(now)];
    statement(db, ADD_REFRESH_TOKEN_SQL, &args)
}

/// Who a refresh was granted to.
#[derive(Debug, Deserialize)]
pub struct Rotation {
    pub session_id: String,
    pub user_id: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
    /// The salt and key id of the successor that the spending request derived (absent for a
    /// token spent before migration 0006).
    pub successor_salt: Option<String>,
    pub successor_key: Option<String>,
    pub successor_rotated_at: Option<i64>,
    /// The session's sign-in: when, and how (`core/amr.rs`).
    pub auth_time: i64,
    pub amr: Option<String>,
    /// The client of a grant's session, and its scope (`None` for a first-party session).
    pub client_id: Option<String>,
    pub scope: Option<String>,
    /// The resource its tokens are for (RFC 8707).
    pub resource: Option<String>,
    /// The session's active organization and the member's role in it, if still a member.
    pub org_id: Option<String>,
    pub org_role: Option<String>,
    /// 0 when the request switched to an organization the user is not a member of.
    pub org_allowed: i64,
}

impl Rotation {
    /// Whether the presented token may be exchanged for its successor: the session is live and
    /// the token was spent by this request or within the grace window before it, and its
    /// successor is still unspent.
    pub fn granted(&self, now: i64, grace: i64) -> bool {
        self.revoked_at.is_none()
            && self.expires_at > now
            && self.rotated_at.is_some_and(|at| at >= now - grace)
            && self.successor_rotated_at.is_none()
    }
}

/// The successor a rotating request derived: its digest, salt and the id of its key.
pub struct Successor<'a> {
    pub digest: &'a str,
    pub salt: &'a str,
    pub key_id: &'a str,
}

/// Rotates a refresh token in one transaction (RFC 9700 §4.14.2):
/// 1. an unspent token of a live session is marked spent;
/// 2. the successor this request derived is stored, if this request spent the token (a repeat
///    within the grace window gets the earlier request's salt back, and derives the same one);
/// 3. a token spent before the grace window, or whose successor was spent, is reuse: its whole
///    session is revoked;
/// 4. the session records when it was last used;
/// 5. the outcome is read back.
pub async fn rotate(
    db: &Db,
    presented_digest: &str,
    successor: &Successor<'_>,
    client: Option<&str>,
    switch_to: Option<Option<&str>>,
    now: i64,
    grace: i64,
) -> Result<Option<Rotation>, ApiError> {
    let args = [
        text(presented_digest),
        text(successor.digest),
        int(now),
        int(grace),
        text(successor.salt),
        text(successor.key_id),
        nullable_text(client),
        nullable_text(switch_to.flatten()),
        int(i64::from(switch_to.is_some())),
    ];
    let statements = [
        SPEND_SQL,
        RECORD_SUCCESSOR_SQL,
        REVOKE_ON_REUSE_SQL,
        SWITCH_SQL,
        TOUCH_SQL,
        ROTATION_OUTCOME_SQL,
    ]
    .into_iter()
    .map(|sql| statement(db, sql, &args))
    .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "rotate refresh token").await?;
    let outcome = results
        .last()
        .ok_or_else(|| ApiError::internal("rotate refresh token", "no outcome"))?;
    Ok(rows::<Rotation>(outcome, "read rotation outcome")?
        .into_iter()
        .next())
}

/// Ends the caller's session, or with `everywhere` every live session of the caller, provided the
/// caller's own session is live; plus the session of `refresh_digest` if it is the caller's.
/// Returns whether the caller was authorised. One statement per part, in one transaction.
pub async fn revoke(
    db: &Db,
    principal: &Principal,
    everywhere: bool,
    refresh_digest: Option<&str>,
    now: i64,
) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Revoked {
        id: String,
    }
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
    ];
    let end_sessions = if everywhere { END_ALL_SQL } else { END_ONE_SQL };
    let mut statements = vec![statement(db, end_sessions, &args)?];
    if let Some(digest) = refresh_digest {
        statements.push(statement(
            db,
            END_REFRESH_SESSION_SQL,
            &[text(digest), int(principal.user_id), int(now)],
        )?);
    }
    statements.extend(ceremonies::end_with_sessions(db, principal.user_id, now)?);
    let results = batch(db, statements, "revoke sessions").await?;
    let revoked: Vec<Revoked> = rows(&results[0], "read revoked sessions")?;
    Ok(revoked.iter().any(|row| row.id == principal.session_id))
}

/// One live session, as `GET /sessions` shows it.
#[derive(Debug, Deserialize)]
pub struct Listed {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub user_agent: Option<String>,
}

/// The caller's live sessions, newest first (at most `LIST_LIMIT`); `None` when the caller's own
/// session is not live. One round trip.
pub async fn list(
    db: &Db,
    principal: &Principal,
    now: i64,
) -> Result<Option<Vec<Listed>>, ApiError> {
    let caller = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
    ];
    let listing = [int(principal.user_id), int(now), int(LIST_LIMIT)];
    let statements = vec![
        statement(db, CALLER_LIVE_SQL, &caller)?,
        statement(db, LIST_SQL, &listing)?,
    ];
    let results = batch(db, statements, "list sessions").await?;
    let [caller_live, listed] = leading(&results, "list sessions")?;
    if rows::<Ended>(caller_live, "read caller session")?.is_empty() {
        return Ok(None);
    }
    rows(listed, "read sessions").map(Some)
}

/// What ending one session by id found.
#[derive(Debug, PartialEq, Eq)]
pub enum EndById {
    Ended,
    /// No live session of the caller has that id.
    NotFound,
    /// The caller's own session is not live.
    CallerNotLive,
}

/// Ends the caller's live session `id` (any of theirs, the current one included).
pub async fn end_by_id(
    db: &Db,
    principal: &Principal,
    id: &str,
    now: i64,
) -> Result<EndById, ApiError> {
    let caller = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
    ];
    let target = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
        text(id),
    ];
    let mut statements = vec![
        statement(db, CALLER_LIVE_SQL, &caller)?,
        statement(db, END_BY_ID_SQL, &target)?,
    ];
    statements.extend(ceremonies::end_with_sessions(db, principal.user_id, now)?);
    let results = batch(db, statements, "end session").await?;
    let [caller_live, ended] = leading(&results, "end session")?;
    if rows::<Ended>(caller_live, "read caller session")?.is_empty() {
        return Ok(EndById::CallerNotLive);
    }
    if rows::<Ended>(ended, "read ended session")?.is_empty() {
        return Ok(EndById::NotFound);
    }
    Ok(EndById::Ended)
}

/// Ends every other session of the caller once their password hash is `new_hash` (run in the
/// password change's batch, after the change).
pub fn end_others(
    db: &Db,
    principal: &Principal,
    now: i64,
    new_hash: &str,
) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
        text(new_hash),
    ];
    statement(db, END_OTHERS_SQL, &args)
}

/// A session id a statement returned; only its presence matters.
#[derive(Deserialize)]
struct Ended {
    #[allow(dead_code)]
    id: String,
}
