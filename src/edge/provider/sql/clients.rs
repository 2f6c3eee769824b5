//! The `provider_clients` table: the operator's clients, their secrets and rotation.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1PreparedStatement;

use crate::core::provider::clients::{shown_name, ClientEdits, NewClient};
use crate::core::provider::registration::Registration;
use crate::core::secret::constant_time_eq;
use crate::edge::db::{batch, first, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// The columns every statement answers with (`Client`).
macro_rules! columns {
    () => {
        "id, name, redirect_uris, kind, scopes, skip_consent, id_token_alg, created_at, \
          updated_at, secret_digest, previous_secret_digest, previous_secret_until, origin, \
          device_grant"
    };
}

const INSERT_SQL: &str = concat!(
    "INSERT INTO provider_clients (id, name, redirect_uris, kind, secret_digest, \
      scopes, skip_consent, id_token_alg, created_at, updated_at, device_grant) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10) RETURNING ",
    columns!()
);
const GET_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM provider_clients WHERE id = ?1"
);
/// A page of clients after `?1`, by id (the primary key's order).
const LIST_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM provider_clients WHERE id > ?1 ORDER BY id LIMIT ?2"
);
const UPDATE_SQL: &str = concat!(
    "UPDATE provider_clients SET name = COALESCE(?2, name), \
      redirect_uris = COALESCE(?3, redirect_uris), scopes = COALESCE(?4, scopes), \
      skip_consent = COALESCE(?5, skip_consent), id_token_alg = COALESCE(?6, id_token_alg), \
      device_grant = COALESCE(?8, device_grant), updated_at = ?7 \
    WHERE id = ?1 RETURNING ",
    columns!()
);
/// Deleting a client ends its grants (sessions), codes and consents by cascade.
const DELETE_SQL: &str = "DELETE FROM provider_clients WHERE id = ?1 RETURNING id";
/// A new secret; the current one keeps working until `?3` (a rotation's overlap).
const ROTATE_SQL: &str = concat!(
    "UPDATE provider_clients SET previous_secret_digest = secret_digest, \
      previous_secret_until = ?3, secret_digest = ?2, updated_at = ?4 \
    WHERE id = ?1 AND kind = 'confidential' RETURNING ",
    columns!()
);
/// A dynamic registration, unless its client address (`?10`) made `?9` in the last day (`?7`
/// now); the count and the insert are one statement, so the cap holds under concurrency.
const REGISTER_SQL: &str = concat!(
    "INSERT INTO provider_clients (id, name, redirect_uris, kind, secret_digest, scopes, \
      skip_consent, id_token_alg, created_at, updated_at, device_grant, origin, registered_from, \
      used_at) \
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, 0, 'RS256', ?7, ?7, ?8, 'dynamic', ?10, ?7 \
    WHERE (SELECT COUNT(*) FROM provider_clients WHERE registered_from = ?10 \
      AND created_at > ?7 - 86400) < ?9 RETURNING ",
    columns!()
);
/// A client known by its metadata document, as last fetched: kept until `?7`. An operator's
/// client is never overwritten by a document.
const REMEMBER_DOCUMENT_SQL: &str = concat!(
    "INSERT INTO provider_clients (id, name, redirect_uris, kind, scopes, skip_consent, \
      id_token_alg, created_at, updated_at, origin, used_at, document_expires_at) \
    VALUES (?1, ?2, ?3, 'public', ?4, 0, 'RS256', ?5, ?5, 'document', ?5, ?6) \
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris, \
      scopes = excluded.scopes, updated_at = excluded.updated_at, \
      document_expires_at = excluded.document_expires_at \
    WHERE provider_clients.origin = 'document' RETURNING ",
    columns!()
);
/// A document client whose document is due to be fetched again: `?1` its id.
const DOCUMENT_DUE_SQL: &str = "SELECT document_expires_at FROM provider_clients \
    WHERE id = ?1 AND origin = 'document'";
/// A self-registered or document client was used (a code or device code issued to it).
const USED_SQL: &str =
    "UPDATE provider_clients SET used_at = ?2 WHERE id = ?1 AND origin <> 'admin'";

pub const STATEMENTS: &[&str] = &[
    INSERT_SQL,
    GET_SQL,
    LIST_SQL,
    UPDATE_SQL,
    DELETE_SQL,
    ROTATE_SQL,
    REGISTER_SQL,
    REMEMBER_DOCUMENT_SQL,
    DOCUMENT_DUE_SQL,
    USED_SQL,
];

/// The most clients one page lists.
pub const PAGE: i64 = 100;

/// A client as stored.
#[derive(Debug, Deserialize)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: String,
    pub kind: String,
    pub scopes: String,
    pub skip_consent: i64,
    pub id_token_alg: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub secret_digest: Option<String>,
    pub previous_secret_digest: Option<String>,
    pub previous_secret_until: Option<i64>,
    /// `admin`, `dynamic` (RFC 7591) or `document` (a metadata document at its id).
    pub origin: String,
    pub device_grant: i64,
}

impl Client {
    pub fn redirect_uris(&self) -> Vec<String> {
        serde_json::from_str(&self.redirect_uris).unwrap_or_default()
    }

    /// The name the hosted pages show (`clients::shown_name`).
    pub fn shown_name(&self) -> String {
        shown_name(&self.name, &self.origin, &self.id)
    }

    /// Whether the client may use the device grant (RFC 8628).
    pub fn may_use_device_grant(&self) -> bool {
        self.device_grant != 0
    }

    pub fn is_confidential(&self) -> bool {
        self.kind == "confidential"
    }

    /// Whether `digest` is the digest of this client's secret, or of the previous one during its
    /// overlap; compared in constant time.
    pub fn secret_matches(&self, digest: &str, now: i64) -> bool {
        let current = self
            .secret_digest
            .as_deref()
            .is_some_and(|d| constant_time_eq(d.as_bytes(), digest.as_bytes()));
        let previous = self.previous_secret_until.is_some_and(|until| until > now)
            && self
                .previous_secret_digest
                .as_deref()
                .is_some_and(|d| constant_time_eq(d.as_bytes(), digest.as_bytes()));
        current | previous
    }
}

fn uris_json(uris: &[String]) -> String {
    serde_json::to_string(uris).expect("strings always serialise")
}

pub async fn insert(
    db: &Db,
    id: &str,
    new: &NewClient,
    secret_digest: Option<&str>,
    now: i64,
) -> Result<Option<Client>, ApiError> {
    let args = [
        text(id),
        text(&new.name),
        text(&uris_json(&new.redirect_uris)),
        text(new.kind.as_str()),
        nullable_text(secret_digest),
        text(&new.scopes.to_string()),
        int(i64::from(new.skip_consent)),
        text(new.id_token_alg),
        int(now),
        int(i64::from(new.device_grant)),
    ];
    first(db, statement(db, INSERT_SQL, &args)?, "insert client").await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Client>, ApiError> {
    first(db, statement(db, GET_SQL, &[text(id)])?, "read client").await
}

pub async fn list(db: &Db, after: &str) -> Result<Vec<Client>, ApiError> {
    let results = batch(
        db,
        vec![statement(db, LIST_SQL, &[text(after), int(PAGE)])?],
        "list clients",
    )
    .await?;
    let [page] = leading(&results, "list clients")?;
    rows(page, "read clients")
}

pub async fn update(
    db: &Db,
    id: &str,
    edits: &ClientEdits,
    now: i64,
) -> Result<Option<Client>, ApiError> {
    let args = [
        text(id),
        nullable_text(edits.name.as_deref()),
        nullable_text(edits.redirect_uris.as_deref().map(uris_json).as_deref()),
        nullable_text(edits.scopes.as_ref().map(ToString::to_string).as_deref()),
        edits
            .skip_consent
            .map_or(JsValue::NULL, |skip| int(i64::from(skip))),
        nullable_text(edits.id_token_alg),
        int(now),
        edits
            .device_grant
            .map_or(JsValue::NULL, |on| int(i64::from(on))),
    ];
    first(db, statement(db, UPDATE_SQL, &args)?, "update client").await
}

pub async fn delete(db: &Db, id: &str) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Deleted {
        #[allow(dead_code)]
        id: String,
    }
    Ok(
        first::<Deleted>(db, statement(db, DELETE_SQL, &[text(id)])?, "delete client")
            .await?
            .is_some(),
    )
}

pub async fn rotate_secret(
    db: &Db,
    id: &str,
    digest: &str,
    overlap_until: i64,
    now: i64,
) -> Result<Option<Client>, ApiError> {
    let args = [text(id), text(digest), int(overlap_until), int(now)];
    first(
        db,
        statement(db, ROTATE_SQL, &args)?,
        "rotate client secret",
    )
    .await
}

/// A dynamic registration from `registered_from`; `None` if that address is at its cap.
pub async fn register(
    db: &Db,
    id: &str,
    registration: &Registration,
    secret_digest: Option<&str>,
    registered_from: &str,
    cap: i64,
    now: i64,
) -> Result<Option<Client>, ApiError> {
    let args = [
        text(id),
        text(&registration.name),
        text(&uris_json(&registration.redirect_uris)),
        text(registration.kind.as_str()),
        nullable_text(secret_digest),
        text(&registration.scopes.to_string()),
        int(now),
        int(i64::from(registration.device_grant())),
        int(cap),
        text(registered_from),
    ];
    first(db, statement(db, REGISTER_SQL, &args)?, "register client").await
}

/// When the stored document of `id` is due, if `id` is a document client.
pub async fn document_due(db: &Db, id: &str) -> Result<Option<i64>, ApiError> {
    #[derive(Deserialize)]
    struct Due {
        document_expires_at: Option<i64>,
    }
    let due: Option<Due> = first(
        db,
        statement(db, DOCUMENT_DUE_SQL, &[text(id)])?,
        "read document client",
    )
    .await?;
    Ok(due.map(|d| d.document_expires_at.unwrap_or(0)))
}

/// Stores the client a fetched document describes, until `expires_at`.
pub async fn remember_document(
    db: &Db,
    id: &str,
    document: &Registration,
    expires_at: i64,
    now: i64,
) -> Result<Option<Client>, ApiError> {
    let args = [
        text(id),
        text(&document.name),
        text(&uris_json(&document.redirect_uris)),
        text(&document.scopes.to_string()),
        int(now),
        int(expires_at),
    ];
    first(
        db,
        statement(db, REMEMBER_DOCUMENT_SQL, &args)?,
        "remember client document",
    )
    .await
}

/// Marks a self-registered or document client used at `now` (the pruning spares it a day).
pub fn used(db: &Db, id: &str, now: i64) -> Result<D1PreparedStatement, ApiError> {
    statement(db, USED_SQL, &[text(id), int(now)])
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_statement_reads_the_same_columns() {
        for sql in [
            super::INSERT_SQL,
            super::GET_SQL,
            super::LIST_SQL,
            super::UPDATE_SQL,
            super::ROTATE_SQL,
            super::REGISTER_SQL,
            super::REMEMBER_DOCUMENT_SQL,
        ] {
            assert!(sql.contains(columns!()), "{sql}");
        }
    }
}
