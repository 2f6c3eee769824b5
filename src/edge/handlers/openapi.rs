//! `GET /openapi.json`: the API's contract, the OpenAPI 3.1 document in `api/openapi.json`, which
//! the black-box tests hold every response they receive against.

use worker::{Headers, Request, Response, RouteContext};

use crate::edge::error::ApiError;
use crate::edge::state::State;

const DOCUMENT: &str = include_str!("../../../api/openapi.json");

pub async fn openapi(_req: Request, _ctx: RouteContext<State>) -> Result<Response, ApiError> {
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    Ok(Response::from_bytes(DOCUMENT.as_bytes().to_vec())
        .expect("a byte body always builds a response")
        .with_headers(headers))
}
