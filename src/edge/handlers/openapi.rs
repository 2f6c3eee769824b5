//! `GET /openapi.json`: the API's contract, the OpenAPI 3.1 document in `api/openapi.json`, which
//! the black-box tests hold every response they receive against.

use worker::{Request, Response};

use crate::edge::error::ApiError;
use crate::edge::http::body;
use crate::edge::routes::RouteContext;

const DOCUMENT: &str = include_str!("../../../api/openapi.json");

pub async fn openapi(_req: Request, _ctx: RouteContext) -> Result<Response, ApiError> {
    Ok(body(
        200,
        "application/json; charset=utf-8",
        DOCUMENT.as_bytes().to_vec(),
    ))
}
