//! The `provider_clients` table: the operator's clients, their secrets and rotation.

use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::core::provider::clients::{ClientEdits, NewClient};
use crate::core::secret::constant_time_eq;
use crate::edge::db::{batch, first, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

#[cfg(test)]
const COLUMNS: &str = "id, name, redirect_uris, kind, scopes, skip_consent, id_token_alg, \
    created_at, updated_at, secret_digest, previous_secret_digest, previous_secret_until";

const INSERT_SQL: &str =
    "INSERT INTO provider_clients (id, name, redirect_uris, kind, secret_digest, \
      scopes, skip_consent, id_token_alg, created_at, updated_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) \
    RETURNING id, name, redirect_uris, kind, scopes, skip_consent, id_token_alg, \
      created_at, updated_at, secret_digest, previous_secret_digest, previous_secret_until";
const GET_SQL: &str = "SELECT id, name, redirect_uris, kind, scopes, skip_consent, id_token_alg, \
      created_at, updated_at, secret_digest, previous_secret_digest, previous_secret_until \
    FROM provider_clients WHERE id = ?1";
/// A page of clients after `?1`, by id (the primary key's order).
const LIST_SQL: &str = "SELECT id, name, redirect_uris, kind, scopes, skip_consent, id_token_alg, \
      created_at, updated_at, secret_digest, previous_secret_digest, previous_secret_until \
    FROM provider_clients WHERE id > ?1 ORDER BY id LIMIT ?2";
const UPDATE_SQL: &str = "UPDATE provider_clients SET name = COALESCE(?2, name), \
      redirect_uris = COALESCE(?3, redirect_uris), scopes = COALESCE(?4, scopes), \
      skip_consent = COALESCE(?5, skip_consent), id_token_alg = COALESCE(?6, id_token_alg), \
      updated_at = ?7 \
    WHERE id = ?1 \
    RETURNING id, name, redirect_uris, kind, scopes, skip_consent, id_token_alg, \
      created_at, updated_at, secret_digest, previous_secret_digest, previous_secret_until";
/// Deleting a client ends its grants (sessions), codes and consents by cascade.
const DELETE_SQL: &str = "DELETE FROM provider_clients WHERE id = ?1 RETURNING id";
/// A new secret; the current one keeps working until `?3` (a rotation's overlap).
const ROTATE_SQL: &str = "UPDATE provider_clients SET previous_secret_digest = secret_digest, \
      previous_secret_until = ?3, secret_digest = ?2, updated_at = ?4 \
    WHERE id = ?1 AND kind = 'confidential' \
    RETURNING id, name, redirect_uris, kind, scopes, skip_consent, id_token_alg, \
      created_at, updated_at, secret_digest, previous_secret_digest, previous_secret_until";

pub const STATEMENTS: &[&str] = &[
    INSERT_SQL, GET_SQL, LIST_SQL, UPDATE_SQL, DELETE_SQL, ROTATE_SQL,
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
}

impl Client {
    pub fn redirect_uris(&self) -> Vec<String> {
        serde_json::from_str(&self.redirect_uris).unwrap_or_default()
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
        ] {
            assert!(sql.contains(super::COLUMNS), "{sql}");
        }
    }
}
