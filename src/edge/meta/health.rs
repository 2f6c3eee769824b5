//! `GET /health`.

use serde_json::json;
use worker::{Request, Response};

use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::json;

/// Answers without touching D1: a liveness probe, and the floor of what a request costs here.
pub async fn health(_req: Request, _ctx: RouteContext) -> Result<Response, ApiError> {
    Ok(json(200, &json!({"status": "ok"})))
}
