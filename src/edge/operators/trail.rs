//! The admin API's view of the security event trail: one account's, and everyone's; the page
//! shape `GET /me/events` shares.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::NO_ACCOUNT;
use crate::core::operators::admin_requests::PageQuery;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::events::sql::security_events;
use crate::edge::events::sql::security_events::Listed;
use crate::edge::http::{json, rfc3339};
use crate::edge::operators::admin::{admin, query_pairs, Admin};

/// An event as the trail shows it (`GET /me/events` too).
pub fn event_json(event: &Listed) -> Value {
    let detail: Value = serde_json::from_str(&event.detail).unwrap_or_else(|_| json!({}));
    let mut shown = json!({
        "id": event.public_id,
        "type": event.kind,
        "at": rfc3339(event.at),
        "actor": event.actor,
        "client": event.client,
        "user_agent": event.user_agent,
        "detail": detail,
    });
    if let Some(user_id) = event.user_id.filter(|id| *id != NO_ACCOUNT) {
        shown["user_id"] = json!(user_id);
    }
    shown
}

/// `GET /admin/users/{id}/events` and `GET /admin/events`: the trail, newest first.
pub async fn user_events(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user_id = ctx.account_id(0)?;
    events_page(&req, &admin, Some(user_id)).await
}

pub async fn all_events(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    events_page(&req, &admin, None).await
}

pub async fn events_page(
    req: &Request,
    admin: &Admin,
    user_id: Option<i64>,
) -> Result<Response, ApiError> {
    let PageQuery { cursor, limit } = page_query(req)?;
    let mut events = security_events::list(&admin.db, user_id, cursor, limit + 1).await?;
    Ok(json(200, &events_answer(&mut events, limit)))
}

/// `cursor` and `limit` of an events page.
pub fn page_query(req: &Request) -> Result<PageQuery, ApiError> {
    let pairs = query_pairs(req);
    Ok(PageQuery::parse(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?)
}

/// A page of events (fetched one longer than `limit`) with the cursor of the next.
pub fn events_answer(events: &mut Vec<Listed>, limit: i64) -> Value {
    let more = events.len() as i64 > limit;
    events.truncate(limit as usize);
    let next = more
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    let shown: Vec<Value> = events.iter().map(event_json).collect();
    json!({"events": shown, "next_cursor": next})
}
