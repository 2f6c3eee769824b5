//! `GET /openapi.json`: the API's contract, the OpenAPI 3.1 document in `api/openapi.json`, which
//! the black-box tests hold every response they receive against, less the routes this deployment
//! leaves off (`core/openapi.rs`): the served document describes the deployment that serves it.

use std::borrow::Cow;
use std::cell::OnceCell;

use worker::{Request, Response};

use crate::core::meta::openapi;
use crate::core::meta::openapi::Capability;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::body;

const DOCUMENT: &str = include_str!("../../../api/openapi.json");

thread_local! {
    /// The document this isolate serves. The configuration it depends on does not change while
    /// an isolate lives, so the document is parsed and filtered once, not per request (with
    /// every capability on it is `DOCUMENT` itself, never parsed).
    static SERVED: OnceCell<Cow<'static, str>> = const { OnceCell::new() };
}

/// Serves the document of this deployment (`core::openapi::served`), built on the isolate's first
/// request for it.
pub async fn openapi(_req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let cached = SERVED.with(|served| served.get().map(|document| document.as_bytes().to_vec()));
    let document = match cached {
        Some(document) => document,
        None => {
            let off = Capability::off_in(&ctx.data.config);
            let document = openapi::served(DOCUMENT, &off)
                .map_err(|e| ApiError::internal("filter api/openapi.json", e))?;
            let bytes = document.as_bytes().to_vec();
            SERVED.with(|served| served.set(document).ok());
            bytes
        }
    };
    Ok(body(200, "application/json; charset=utf-8", document))
}
