//! `GET /me/events`: the caller's own security event trail, newest first, a page at a time (the
//! admin API reads anyone's: `handlers/admin.rs`).

use serde_json::Value;
use worker::{Request, Response};

use crate::core::operators::admin_requests::PageQuery;

use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::events::sql::security_events;
use crate::edge::events::sql::security_events::Listed;
use crate::edge::http::json;
use crate::edge::operators::trail::{events_answer, page_query};
use crate::edge::sessions::bearer::{live_reader, LiveCaller};

pub async fn my_events(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let PageQuery { cursor, limit } = page_query(&req)?;
    let LiveCaller { principal, db, .. } = live_reader(&req, &ctx).await?;
    let mut events = security_events::list(&db, Some(principal.user_id), cursor, limit + 1).await?;
    events.iter_mut().for_each(as_the_owner_sees);
    Ok(json(200, &events_answer(&mut events, limit)))
}

/// An operator's action shows in the user's own trail as the operator's, without the operator's
/// address, User-Agent, key id or internal reason: those are for the operator's eyes (the admin
/// API's trail keeps them), not for whoever holds the account.
fn as_the_owner_sees(event: &mut Listed) {
    if !event.actor.starts_with("admin") {
        return;
    }
    event.actor = "operator".to_owned();
    event.client = None;
    event.user_agent = None;
    if let Ok(Value::Object(mut detail)) = serde_json::from_str::<Value>(&event.detail) {
        detail.remove("reason");
        event.detail = Value::Object(detail).to_string();
    }
}
