//! `GET /me/events`: the caller's own security event trail, newest first, a page at a time (the
//! admin API reads anyone's: `handlers/admin.rs`).

use worker::{Request, Response};

use crate::core::admin_requests::PageQuery;

use crate::edge::auth::{live_reader, LiveCaller};
use crate::edge::db::security_events;
use crate::edge::error::ApiError;
use crate::edge::handlers::admin::{events_answer, page_query};
use crate::edge::http::json;
use crate::edge::routes::RouteContext;

pub async fn my_events(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let PageQuery { cursor, limit } = page_query(&req)?;
    let LiveCaller { principal, db, .. } = live_reader(&req, &ctx).await?;
    let mut events = security_events::list(&db, Some(principal.user_id), cursor, limit + 1).await?;
    Ok(json(200, &events_answer(&mut events, limit)))
}
