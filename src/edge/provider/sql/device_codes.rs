//! The `provider_device_codes` table (RFC 8628): device codes by digest, user codes as typed
//! (short by design; what guards them is the entry limit and their ten-minute life), the person's
//! decision, and the single spend that creates the grant's session.

use serde::Deserialize;
use worker::D1PreparedStatement;

use crate::core::provider::device::{Decision, Polled};
use crate::edge::db::{batch, first, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;
use crate::edge::provider::sql::grants::Spend;

/// A new device authorization; a user code already live is refused (`ON CONFLICT`), and the
/// caller draws another.
const ISSUE_SQL: &str = "INSERT INTO provider_device_codes (digest, user_code, client_id, scope, \
      resource, expires_at, interval) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
    ON CONFLICT (user_code) DO NOTHING RETURNING digest";
/// A user code a signed-in person typed, counted first: at most `?5` entries of the account and
/// `?6` from the client address in the window `?4` (RFC 8628 §5.1), in one statement so the
/// limit holds under concurrency. `?2` now, `?3` the client address.
const COUNT_ENTRY_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at, client) \
    SELECT ?1, 'device', 'entered', ?2, ?3 \
    WHERE (SELECT COUNT(*) FROM code_events WHERE user_id = ?1 AND purpose = 'device' \
        AND kind = 'entered' AND at > ?2 - ?4) < ?5 \
      AND (SELECT COUNT(*) FROM code_events WHERE client = ?3 AND purpose = 'device' \
        AND kind = 'entered' AND at > ?2 - ?4) < ?6 \
    RETURNING at";
/// A live, undecided device authorization by its user code.
const FIND_SQL: &str = "SELECT digest, client_id, scope, resource FROM provider_device_codes \
    WHERE user_code = ?1 AND expires_at > ?2 AND decision IS NULL";
/// The person's answer, once, while the code and the approving browser session are live.
const DECIDE_SQL: &str = "UPDATE provider_device_codes SET decision = ?2, browser_session = ?3 \
    WHERE digest = ?1 AND decision IS NULL AND expires_at > ?4 \
      AND EXISTS (SELECT 1 FROM sessions WHERE id = ?3 AND revoked_at IS NULL \
        AND expires_at > ?4 AND client_id IS NULL) \
    RETURNING digest";
// A poll, one batch: ?1 the device code's digest, ?2 its client, ?3 now.
/// Poll, step 1: the authorization as this poll finds it.
const POLL_READ_SQL: &str = "SELECT expires_at, interval, polled_at, decision, resource, \
      used_by IS NOT NULL AS spent FROM provider_device_codes WHERE digest = ?1 AND client_id = ?2";
/// Poll, step 2: this poll's time, which the next is paced from (`device::too_soon`). The
/// interval stays as issued: the device adds its 5 seconds after `slow_down` (RFC 8628 §3.5),
/// and a device that keeps polling too fast keeps being told so.
const POLL_PACE_SQL: &str = "UPDATE provider_device_codes SET polled_at = ?3 \
    WHERE digest = ?1 AND client_id = ?2 AND used_by IS NULL";
// The spend, one batch. ?1 the digest, ?2 this poll's marker, ?3 the grant's session id, ?4 now,
// ?5 the grant's end, ?6 the device's User-Agent.
/// Spend, step 1: once, approved, unexpired.
const SPEND_SQL: &str = "UPDATE provider_device_codes SET used_by = ?2, session_id = ?3 \
    WHERE digest = ?1 AND used_by IS NULL AND decision = 'allow' AND expires_at > ?4";
/// Spend, step 2: the grant's session, if this poll spent it, the approving session is live and
/// the account is not disabled.
const GRANT_SQL: &str =
    "INSERT INTO sessions (id, user_id, created_at, expires_at, user_agent, amr, \
      client_id, scope, resource) \
    SELECT ?3, b.user_id, b.created_at, ?5, ?6, b.amr, d.client_id, d.scope, d.resource \
    FROM provider_device_codes d JOIN sessions b ON b.id = d.browser_session \
      JOIN users u ON u.id = b.user_id \
    WHERE d.digest = ?1 AND d.used_by = ?2 AND b.revoked_at IS NULL AND b.expires_at > ?4 \
      AND NOT (u.disabled_at IS NOT NULL AND (u.disabled_until IS NULL OR u.disabled_until > ?4)) \
    RETURNING id, user_id, created_at AS auth_time, scope, resource, amr";
/// Spend, step 3: who approved it, for the ID token.
const APPROVER_SQL: &str = "SELECT b.id AS browser_session, u.email, u.name, u.email_verified_at \
    FROM provider_device_codes d JOIN sessions b ON b.id = d.browser_session \
      JOIN users u ON u.id = b.user_id \
    WHERE d.digest = ?1 AND d.used_by = ?2";

pub const STATEMENTS: &[&str] = &[
    ISSUE_SQL,
    COUNT_ENTRY_SQL,
    FIND_SQL,
    DECIDE_SQL,
    POLL_READ_SQL,
    POLL_PACE_SQL,
    SPEND_SQL,
    GRANT_SQL,
    APPROVER_SQL,
];

/// A device authorization to store.
pub struct NewDeviceCode<'a> {
    pub digest: &'a str,
    pub user_code: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub resource: Option<&'a str>,
    pub expires_at: i64,
    pub interval: i64,
}

pub fn issue(db: &Db, code: &NewDeviceCode<'_>) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(code.digest),
        text(code.user_code),
        text(code.client_id),
        text(code.scope),
        nullable_text(code.resource),
        int(code.expires_at),
        int(code.interval),
    ];
    statement(db, ISSUE_SQL, &args)
}

/// The entry limits (`device::ENTRIES_PER_*`).
pub struct EntryLimits {
    pub window: i64,
    pub per_account: i64,
    pub per_address: i64,
}

/// Counts one user-code entry; `false` if a limit is reached.
pub async fn count_entry(
    db: &Db,
    user_id: i64,
    address: &str,
    limits: &EntryLimits,
    now: i64,
) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Counted {
        #[allow(dead_code)]
        at: i64,
    }
    let args = [
        int(user_id),
        int(now),
        text(address),
        int(limits.window),
        int(limits.per_account),
        int(limits.per_address),
    ];
    let counted: Option<Counted> = first(
        db,
        statement(db, COUNT_ENTRY_SQL, &args)?,
        "count user code entry",
    )
    .await?;
    Ok(counted.is_some())
}

/// A live, undecided authorization.
#[derive(Debug, Deserialize)]
pub struct Pending {
    pub digest: String,
    pub client_id: String,
    pub scope: String,
    pub resource: Option<String>,
}

pub async fn find(db: &Db, user_code: &str, now: i64) -> Result<Option<Pending>, ApiError> {
    first(
        db,
        statement(db, FIND_SQL, &[text(user_code), int(now)])?,
        "find device code",
    )
    .await
}

/// The decision's statement (first in its batch; `took_effect` says whether it was taken).
pub fn decide(
    db: &Db,
    digest: &str,
    decision: Decision,
    browser_session: &str,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let stored = match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    };
    let args = [text(digest), text(stored), text(browser_session), int(now)];
    statement(db, DECIDE_SQL, &args)
}

/// Reads and counts a poll of `client_id`: the code as found, and the resource it was issued
/// for; `None` if no such device code is the client's.
pub async fn poll(
    db: &Db,
    digest: &str,
    client_id: &str,
    now: i64,
) -> Result<Option<(Polled, Option<String>)>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        expires_at: i64,
        interval: i64,
        polled_at: Option<i64>,
        decision: Option<String>,
        resource: Option<String>,
        spent: i64,
    }
    let args = [text(digest), text(client_id), int(now)];
    let results = batch(
        db,
        vec![
            statement(db, POLL_READ_SQL, &args)?,
            statement(db, POLL_PACE_SQL, &args)?,
        ],
        "poll device code",
    )
    .await?;
    let [read] = leading(&results, "poll device code")?;
    let row = rows::<Row>(read, "read device code")?.into_iter().next();
    Ok(row.map(|row| {
        let polled = Polled {
            expires_at: row.expires_at,
            interval: row.interval,
            polled_at: row.polled_at,
            decision: row.decision.as_deref().and_then(Decision::parse),
            spent: row.spent != 0,
        };
        (polled, row.resource)
    }))
}

/// The grant a spend created.
#[derive(Debug, Deserialize)]
pub struct Granted {
    pub id: String,
    pub user_id: i64,
    pub auth_time: i64,
    pub scope: String,
    pub resource: Option<String>,
    pub amr: Option<String>,
}

/// The person who approved a spent device code.
#[derive(Debug, Deserialize)]
pub struct Approver {
    pub browser_session: String,
    pub email: String,
    pub name: Option<String>,
    pub email_verified_at: Option<i64>,
}

/// The spend's statements: spend the device code, create the grant's session, read who approved.
pub fn spend(db: &Db, spend: &Spend<'_>, now: i64) -> Result<[D1PreparedStatement; 3], ApiError> {
    let args = spend.args(now);
    Ok([
        statement(db, SPEND_SQL, &args)?,
        statement(db, GRANT_SQL, &args)?,
        statement(db, APPROVER_SQL, &args[..2])?,
    ])
}
