//! The `security_events` table: the trail of what happened to each account
//! (`core/security_event.rs`), newest first by a sequence number, and the webhook outbox (events
//! of a webhook type, until they are on the queue).

use serde::Deserialize;
use worker::D1PreparedStatement;

use crate::edge::db::{batch, int, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

const INSERT_SQL: &str = "INSERT INTO security_events \
      (public_id, user_id, kind, at, actor, client, user_agent, detail, webhook, queued_at, org_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10)";
const LIST_USER_SQL: &str = "SELECT id AS seq, public_id, user_id, kind, at, actor, client, \
      user_agent, detail FROM security_events \
    WHERE user_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
/// An organization's trail: its events before the cursor, newest first.
const LIST_ORG_SQL: &str = "SELECT id AS seq, public_id, user_id, kind, at, actor, client, \
      user_agent, detail FROM security_events \
    WHERE org_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
const LIST_ALL_SQL: &str = "SELECT id AS seq, public_id, user_id, kind, at, actor, client, \
      user_agent, detail FROM security_events \
    WHERE id < ?1 ORDER BY id DESC LIMIT ?2";
/// Events of a webhook type not yet on the queue, made at or before `?1`, oldest first (from the
/// partial index of exactly those; `id > 0` makes it a bounded search).
const UNQUEUED_SQL: &str = "SELECT public_id, user_id, kind, at, detail, webhook \
    FROM security_events WHERE webhook IS NOT NULL AND queued_at IS NULL AND id > 0 \
      AND at <= ?1 ORDER BY id LIMIT ?2";
/// The events `?1` (a JSON array of public ids) are on the queue since `?2`.
const MARK_QUEUED_SQL: &str = "UPDATE security_events SET queued_at = ?2 \
    WHERE public_id IN (SELECT value FROM json_each(?1))";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    INSERT_SQL,
    LIST_USER_SQL,
    LIST_ORG_SQL,
    LIST_ALL_SQL,
    UNQUEUED_SQL,
    MARK_QUEUED_SQL,
];

/// The most events one page shows.
pub const PAGE_LIMIT: i64 = 100;

/// An event to store.
pub struct NewEvent<'a> {
    pub public_id: &'a str,
    pub user_id: i64,
    pub kind: &'a str,
    pub at: i64,
    pub actor: &'a str,
    pub client: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// A JSON object.
    pub detail: &'a str,
    pub webhook: Option<&'a str>,
    pub org_id: Option<&'a str>,
}

/// The statement that stores `event`.
pub fn insert(db: &Db, event: &NewEvent<'_>) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(event.public_id),
        int(event.user_id),
        text(event.kind),
        int(event.at),
        text(event.actor),
        nullable_text(event.client),
        nullable_text(event.user_agent),
        text(event.detail),
        nullable_text(event.webhook),
        nullable_text(event.org_id),
    ];
    statement(db, INSERT_SQL, &args)
}

/// An event as the trail shows it.
#[derive(Debug, Deserialize)]
pub struct Listed {
    pub seq: i64,
    pub public_id: String,
    #[serde(default)]
    pub user_id: Option<i64>,
    pub kind: String,
    pub at: i64,
    pub actor: String,
    pub client: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

/// Where a page starts: before this sequence number (`i64::MAX` for the newest).
pub fn before(cursor: Option<i64>) -> i64 {
    cursor.unwrap_or(i64::MAX)
}

/// Account `user_id`'s events, or everyone's when `None`.
pub async fn list(
    db: &Db,
    user_id: Option<i64>,
    cursor: Option<i64>,
    limit: i64,
) -> Result<Vec<Listed>, ApiError> {
    let statement = match user_id {
        Some(user_id) => statement(
            db,
            LIST_USER_SQL,
            &[int(user_id), int(before(cursor)), int(limit)],
        )?,
        None => statement(db, LIST_ALL_SQL, &[int(before(cursor)), int(limit)])?,
    };
    page(db, statement).await
}

/// Organization `org_id`'s events.
pub async fn list_org(
    db: &Db,
    org_id: &str,
    cursor: Option<i64>,
    limit: i64,
) -> Result<Vec<Listed>, ApiError> {
    let args = [text(org_id), int(before(cursor)), int(limit)];
    page(db, statement(db, LIST_ORG_SQL, &args)?).await
}

async fn page(db: &Db, statement: D1PreparedStatement) -> Result<Vec<Listed>, ApiError> {
    let results = batch(db, vec![statement], "list security events").await?;
    rows(&results[0], "read security events")
}

/// An event of a webhook type, for the queue.
#[derive(Debug, Deserialize)]
pub struct Outgoing {
    pub public_id: String,
    pub user_id: i64,
    pub kind: String,
    pub at: i64,
    pub detail: String,
    pub webhook: String,
}

/// The webhook events made at or before `until` that are not on the queue yet, oldest first.
pub async fn unqueued(db: &Db, until: i64, limit: i64) -> Result<Vec<Outgoing>, ApiError> {
    let results = batch(
        db,
        vec![statement(db, UNQUEUED_SQL, &[int(until), int(limit)])?],
        "read unqueued webhook events",
    )
    .await?;
    rows(&results[0], "read unqueued webhook events")
}

/// Marks the events `public_ids` as queued at `now`.
pub async fn mark_queued(db: &Db, public_ids: &[&str], now: i64) -> Result<(), ApiError> {
    let ids = serde_json::Value::from(public_ids.to_vec()).to_string();
    batch(
        db,
        vec![statement(db, MARK_QUEUED_SQL, &[text(&ids), int(now)])?],
        "mark webhook events queued",
    )
    .await?;
    Ok(())
}
