//! The `provider_consents` table: what each user allowed each client, listed and revoked by them.

use serde::Deserialize;
use worker::D1PreparedStatement;

use crate::core::provider::scopes::Scopes;
use crate::edge::db::{
    batch, first, int, leading, nullable_text, rows, statement, text, took_effect, Db,
};
use crate::edge::error::ApiError;

const READ_SQL: &str =
    "SELECT scope, resource FROM provider_consents WHERE user_id = ?1 AND client_id = ?2";
/// The consent, in the batch that issues its code, if the code was issued (`?5` its digest).
/// A device approval records it alike, if its device code was approved (`?5` that code's digest).
const RECORD_SQL: &str =
    "INSERT INTO provider_consents (user_id, client_id, scope, granted_at, resource) \
    SELECT ?1, ?2, ?3, ?4, ?6 WHERE EXISTS (SELECT 1 FROM provider_codes WHERE digest = ?5) \
      OR EXISTS (SELECT 1 FROM provider_device_codes WHERE digest = ?5 AND decision = 'allow') \
    ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, \
      granted_at = excluded.granted_at, resource = excluded.resource";
/// The apps a user granted, newest first.
const LIST_SQL: &str = "SELECT c.client_id, p.name, c.scope, c.granted_at, \
      (SELECT COUNT(*) FROM sessions s WHERE s.client_id = c.client_id AND s.user_id = c.user_id \
        AND s.revoked_at IS NULL AND s.expires_at > ?2) AS live_grants \
    FROM provider_consents c JOIN provider_clients p ON p.id = c.client_id \
    WHERE c.user_id = ?1 ORDER BY c.granted_at DESC LIMIT 100";
// Revoking an app: its consent, its grants (their refresh tokens and the access tokens this
// worker checks die with them) and its unspent codes.
const FORGET_SQL: &str =
    "DELETE FROM provider_consents WHERE user_id = ?1 AND client_id = ?2 RETURNING client_id";
const END_GRANTS_SQL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE client_id = ?2 AND user_id = ?1 AND revoked_at IS NULL";
/// Device codes the user approved or is yet to answer, unspent: revoked with the app, so a device
/// approved a moment ago gets nothing at its next poll.
const DROP_DEVICE_CODES_SQL: &str = "DELETE FROM provider_device_codes WHERE client_id = ?2 \
    AND used_by IS NULL AND browser_session IN (SELECT id FROM sessions WHERE user_id = ?1)";
const DROP_CODES_SQL: &str = "DELETE FROM provider_codes WHERE client_id = ?2 \
    AND browser_session IN (SELECT id FROM sessions WHERE user_id = ?1)";

pub const STATEMENTS: &[&str] = &[
    READ_SQL,
    RECORD_SQL,
    LIST_SQL,
    FORGET_SQL,
    END_GRANTS_SQL,
    DROP_CODES_SQL,
    DROP_DEVICE_CODES_SQL,
];

#[derive(Debug, Deserialize)]
pub struct Consented {
    pub scope: String,
    pub resource: Option<String>,
}

pub async fn read(db: &Db, user_id: i64, client_id: &str) -> Result<Option<Consented>, ApiError> {
    first(
        db,
        statement(db, READ_SQL, &[int(user_id), text(client_id)])?,
        "read consent",
    )
    .await
}

pub fn record(
    db: &Db,
    user_id: i64,
    client_id: &str,
    scope: &str,
    resource: Option<&str>,
    code_digest: &str,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        int(user_id),
        text(client_id),
        text(scope),
        int(now),
        text(code_digest),
        nullable_text(resource),
    ];
    statement(db, RECORD_SQL, &args)
}

/// The scopes the user allowed the client before for `resource` (a consent given for another
/// resource does not count).
pub async fn remembered(
    db: &Db,
    user_id: i64,
    client_id: &str,
    resource: Option<&str>,
) -> Result<Option<Scopes>, ApiError> {
    Ok(read(db, user_id, client_id)
        .await?
        .filter(|c| c.resource.as_deref() == resource)
        .and_then(|c| Scopes::parse(&c.scope).ok()))
}

/// One app in a user's list.
#[derive(Debug, Deserialize)]
pub struct Granted {
    pub client_id: String,
    pub name: String,
    pub scope: String,
    pub granted_at: i64,
    pub live_grants: i64,
}

pub async fn list(db: &Db, user_id: i64, now: i64) -> Result<Vec<Granted>, ApiError> {
    let results = batch(
        db,
        vec![statement(db, LIST_SQL, &[int(user_id), int(now)])?],
        "list grants",
    )
    .await?;
    let [listed] = leading(&results, "list grants")?;
    rows(listed, "read grants")
}

/// Revokes the app for the user; whether they had granted it.
pub async fn revoke(db: &Db, user_id: i64, client_id: &str, now: i64) -> Result<bool, ApiError> {
    let args = [int(user_id), text(client_id), int(now)];
    let statements = vec![
        statement(db, FORGET_SQL, &args)?,
        statement(db, END_GRANTS_SQL, &args)?,
        statement(db, DROP_CODES_SQL, &args)?,
        statement(db, DROP_DEVICE_CODES_SQL, &args)?,
    ];
    let results = batch(db, statements, "revoke app").await?;
    let [forgotten] = leading(&results, "revoke app")?;
    took_effect(forgotten, "read revoked consent")
}
