//! Clients known by a metadata document (draft-ietf-oauth-client-id-metadata-document): with
//! `OAUTH_CLIENT_METADATA_DOCUMENTS=true`, a `client_id` that is an https URL is looked up by
//! fetching that URL: no redirects followed, at most 5 KiB read, five seconds at most, kept as
//! its `Cache-Control` says (a minute to a day). Every other client is read from the table.

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use serde_json::Value;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

use crate::core::provider::metadata_document::{
    cache_seconds, is_document_url, parse, FETCH_TIMEOUT_SECONDS, MAX_DOCUMENT_BYTES,
};
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::log;
use crate::edge::provider::sql::clients::{self, Client};
use crate::edge::shield::guard;

/// The client `id` names: from the table, or (a document client whose copy is due) fetched
/// anew. `None`: unknown, or its document could not be read or is not valid (logged).
pub async fn client(
    req: &Request,
    ctx: &RouteContext,
    db: &Db,
    id: &str,
    now: i64,
) -> Result<Option<Client>, ApiError> {
    let documents = matches!(&ctx.data.config.provider, Ok(Some(p)) if p.metadata_documents);
    if !documents || !is_document_url(id) {
        return clients::get(db, id).await;
    }
    let due = clients::document_due(db, id).await?;
    if due.is_some_and(|due| due > now) {
        return clients::get(db, id).await;
    }
    // Every fetch is a request this worker makes for a stranger: behind the flood shield, as the
    // routes that store rows are.
    guard(req, &ctx.env, &ctx.data.log).await?;
    let (document, cache_control) = match fetch(id).await {
        Ok(fetched) => fetched,
        Err(problem) => {
            refused(id, &problem);
            // A client known before keeps its last good document while its host is down: that
            // is no cached error (the draft's §4.3 forbids those), and its people stay signed in.
            return match due {
                Some(_) => clients::get(db, id).await,
                None => Ok(None),
            };
        }
    };
    match parse(id, &document) {
        Ok(registration) => {
            let expires_at = now + cache_seconds(cache_control.as_deref());
            clients::remember_document(db, id, &registration, expires_at, now).await
        }
        Err(problem) => {
            refused(id, problem);
            Ok(None)
        }
    }
}

/// A log line: which document was refused and why (the URL is public; nothing secret is in it).
fn refused(id: &str, problem: &str) {
    let mut fields = serde_json::Map::new();
    fields.insert("message".into(), "client metadata document refused".into());
    fields.insert("client_id".into(), id.into());
    fields.insert("problem".into(), problem.into());
    log::emit(log::Level::Warn, fields);
}

/// GETs the document: its JSON and `Cache-Control`, or what went wrong.
async fn fetch(url: &str) -> Result<(Value, Option<String>), String> {
    let headers = Headers::new();
    headers
        .set("Accept", "application/json")
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_headers(headers)
        // A redirect could lead anywhere, an internal address included (OWASP SSRF Prevention).
        .with_redirect(RequestRedirect::Manual);
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let read = Box::pin(async move {
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| e.to_string())?;
        if response.status_code() != 200 {
            return Err(format!("answered {}", response.status_code()));
        }
        let declared = response
            .headers()
            .get("Content-Length")
            .ok()
            .flatten()
            .and_then(|n| n.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_DOCUMENT_BYTES) {
            return Err("is larger than 5 KiB".to_owned());
        }
        let cache_control = response.headers().get("Cache-Control").ok().flatten();
        let mut stream = response.stream().map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend(chunk.map_err(|e| e.to_string())?);
            if bytes.len() > MAX_DOCUMENT_BYTES {
                return Err("is larger than 5 KiB".to_owned());
            }
        }
        let document = serde_json::from_slice(&bytes).map_err(|_| "is not JSON".to_owned())?;
        Ok((document, cache_control))
    });
    let timeout = Delay::from(std::time::Duration::from_secs(FETCH_TIMEOUT_SECONDS));
    match select(read, timeout).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(_) => {
            controller.abort();
            Err(format!("no answer within {FETCH_TIMEOUT_SECONDS} s"))
        }
    }
}
