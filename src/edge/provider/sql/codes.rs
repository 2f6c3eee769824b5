//! The `provider_codes` table: authorization codes, issued to a live browser session, spent once
//! by the exchange that creates the grant's session.

use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result};

use crate::edge::db::{first, int, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;
use crate::edge::provider::sql::grants::Spend;

/// A code, if the browser session that approved it is still live, and its person still a member
/// of the organization it carries (`?11`, if any).
const ISSUE_SQL: &str =
    "INSERT INTO provider_codes (digest, client_id, browser_session, redirect_uri, \
      scope, nonce, code_challenge, expires_at, resource, org_id) \
    SELECT ?1, ?2, id, ?4, ?5, ?6, ?7, ?8, ?10, ?11 FROM sessions \
    WHERE id = ?3 AND revoked_at IS NULL AND expires_at > ?9 AND client_id IS NULL \
      AND (?11 IS NULL OR EXISTS (SELECT 1 FROM org_members m \
        WHERE m.org_id = ?11 AND m.user_id = sessions.user_id)) \
    RETURNING digest";
/// A presented code, with the account and sign-in of the session that approved it.
const READ_SQL: &str = "SELECT c.client_id, c.redirect_uri, c.scope, c.resource, c.nonce, c.code_challenge, \
      c.expires_at, c.used_by, b.id AS browser_session, b.user_id, b.created_at AS auth_time, b.amr, \
      u.email, u.name, u.email_verified_at \
    FROM provider_codes c JOIN sessions b ON b.id = c.browser_session JOIN users u ON u.id = b.user_id \
    WHERE c.digest = ?1";
// The exchange, one batch. ?1 the code's digest, ?2 this exchange's marker, ?3 the grant's
// session id, ?4 now, ?5 the grant's end, ?6 the client's User-Agent.
/// Step 1: the code is spent by this exchange, once, before it expires.
const SPEND_SQL: &str = "UPDATE provider_codes SET used_by = ?2, session_id = ?3 \
    WHERE digest = ?1 AND used_by IS NULL AND expires_at > ?4";
/// Step 2: the grant's session, if this exchange spent the code, the approving session is still
/// live and the account is not disabled. Its `created_at` is the sign-in's time (`auth_time`);
/// its active organization the one chosen at consent.
const GRANT_SQL: &str = "INSERT INTO sessions (id, user_id, created_at, expires_at, user_agent, amr, \
      client_id, scope, resource, org_id) \
    SELECT ?3, b.user_id, b.created_at, ?5, ?6, b.amr, c.client_id, c.scope, c.resource, c.org_id \
    FROM provider_codes c JOIN sessions b ON b.id = c.browser_session JOIN users u ON u.id = b.user_id \
    WHERE c.digest = ?1 AND c.used_by = ?2 AND b.revoked_at IS NULL AND b.expires_at > ?4 \
      AND NOT (u.disabled_at IS NOT NULL AND (u.disabled_until IS NULL OR u.disabled_until > ?4)) \
    RETURNING id";
/// Step 3: the grant's organization, with the member's role now (none once they left it).
const GRANTED_ORG_SQL: &str = "SELECT s.org_id, m.role AS org_role FROM sessions s \
    LEFT JOIN org_members m ON m.org_id = s.org_id AND m.user_id = s.user_id \
    WHERE s.id = ?3";
/// A code presented again: the grant it issued ends (RFC 6749 §4.1.2; RFC 9700 §4.5).
const REVOKE_REUSED_SQL: &str = "UPDATE sessions SET revoked_at = ?2 \
    WHERE revoked_at IS NULL AND id = (SELECT session_id FROM provider_codes \
      WHERE digest = ?1 AND used_by IS NOT NULL) \
    RETURNING id";

pub const STATEMENTS: &[&str] = &[
    ISSUE_SQL,
    READ_SQL,
    SPEND_SQL,
    GRANT_SQL,
    GRANTED_ORG_SQL,
    REVOKE_REUSED_SQL,
];

/// A code to issue.
pub struct NewCode<'a> {
    pub digest: &'a str,
    pub client_id: &'a str,
    pub browser_session: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub code_challenge: &'a str,
    pub expires_at: i64,
    pub resource: Option<&'a str>,
    /// The organization chosen at consent (the `organization` scope).
    pub org_id: Option<&'a str>,
}

pub fn issue(db: &Db, code: &NewCode<'_>, now: i64) -> Result<D1PreparedStatement, ApiError> {
    let args = [
        text(code.digest),
        text(code.client_id),
        text(code.browser_session),
        text(code.redirect_uri),
        text(code.scope),
        nullable_text(code.nonce),
        text(code.code_challenge),
        int(code.expires_at),
        int(now),
        nullable_text(code.resource),
        nullable_text(code.org_id),
    ];
    statement(db, ISSUE_SQL, &args)
}

/// A presented code as stored.
#[derive(Debug, Deserialize)]
pub struct Presented {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub resource: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub expires_at: i64,
    pub used_by: Option<String>,
    pub browser_session: String,
    pub user_id: i64,
    pub auth_time: i64,
    pub amr: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub email_verified_at: Option<i64>,
}

pub async fn read(db: &Db, digest: &str) -> Result<Option<Presented>, ApiError> {
    first(db, statement(db, READ_SQL, &[text(digest)])?, "read code").await
}

/// The exchange's statements: spend the code, create the grant's session, read its organization
/// (`GrantedOrg`).
pub fn exchange(
    db: &Db,
    spend: &Spend<'_>,
    now: i64,
) -> Result<[D1PreparedStatement; 3], ApiError> {
    let args = spend.args(now);
    Ok([
        statement(db, SPEND_SQL, &args)?,
        statement(db, GRANT_SQL, &args)?,
        statement(db, GRANTED_ORG_SQL, &args)?,
    ])
}

/// A new grant's organization and the member's role in it, as the exchange read them.
#[derive(Debug, Default, Deserialize)]
pub struct GrantedOrg {
    pub org_id: Option<String>,
    pub org_role: Option<String>,
}

/// The organization of the exchange's read (none when the grant was not made).
pub fn granted_org(result: &D1Result) -> Result<GrantedOrg, ApiError> {
    Ok(rows::<GrantedOrg>(result, "read grant's organization")?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// Ends the grant a reused code issued; whether there was one to end.
pub async fn revoke_reused(db: &Db, digest: &str, now: i64) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Ended {
        #[allow(dead_code)]
        id: String,
    }
    let ended: Option<Ended> = first(
        db,
        statement(db, REVOKE_REUSED_SQL, &[text(digest), int(now)])?,
        "revoke reused code's grant",
    )
    .await?;
    Ok(ended.is_some())
}
