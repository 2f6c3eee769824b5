//! `GET /sessions` and `DELETE /sessions/{id}`: the caller's signed-in devices, and ending one.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, rfc3339};
use crate::edge::sessions::bearer::principal;
use crate::edge::sessions::sql::sessions;
use crate::edge::sessions::sql::sessions::EndById;

/// The caller's live sessions, newest first; `current` marks the one the token belongs to.
pub async fn list_sessions(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    // A read: from the nearest replica, no older than the client's last bookmark.
    let db = ctx.data.reader(&ctx.env, &req)?;
    let listed = sessions::list(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let shown: Vec<Value> = listed
        .into_iter()
        .map(|session| {
            json!({
                "current": session.id == principal.session_id,
                "id": session.id,
                "created_at": rfc3339(session.created_at),
                "last_used_at": session.last_used_at.and_then(rfc3339),
                "user_agent": session.user_agent,
            })
        })
        .collect();
    Ok(json(200, &json!({"sessions": shown})))
}

/// Ends one of the caller's sessions (the current one too: that is a logout). Another user's
/// session, an ended one and an unknown id all answer `404`, alike.
pub async fn end_session(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let id = ctx.id().unwrap_or_default();
    let db = ctx.data.database(&ctx.env)?;
    match sessions::end_by_id(&db, &principal, id, now).await? {
        EndById::Ended => {
            let detail = Detail::new().with("scope", "one");
            ctx.data.events.by_user(
                &req,
                principal.user_id,
                EventKind::SessionEnded,
                detail,
                now,
            );
            Ok(json(200, &json!({"message": "Session ended"})))
        }
        EndById::NotFound => Err(ApiError::NotFound),
        EndById::CallerNotLive => Err(ApiError::Unauthorized),
    }
}
