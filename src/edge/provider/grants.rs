//! `GET /oauth2/grants` and `DELETE /oauth2/grants/{id}`: the apps a signed-in user allowed, and
//! revoking one (its consent, its grants and so its tokens, at once).

use serde_json::json;
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::query;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, rfc3339};
use crate::edge::provider::provider;
use crate::edge::provider::sql::consents;
use crate::edge::sessions::bearer::live_caller;

pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    provider(&ctx)?;
    let caller = live_caller(&req, &ctx).await?;
    let listed = consents::list(&caller.db, caller.principal.user_id, caller.now).await?;
    let apps: Vec<_> = listed
        .iter()
        .map(|app| {
            json!({
                "client_id": app.client_id,
                "name": app.name,
                "scopes": app.scope.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                "granted_at": rfc3339(app.granted_at),
                "active_grants": app.live_grants,
            })
        })
        .collect();
    Ok(json(200, &json!({"apps": apps})))
}

pub async fn revoke(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    provider(&ctx)?;
    // A metadata-document client's id is a URL, sent escaped in the path.
    let client_id = ctx
        .id()
        .and_then(query::decode_segment)
        .ok_or(ApiError::NotFound)?;
    let caller = live_caller(&req, &ctx).await?;
    if !consents::revoke(&caller.db, caller.principal.user_id, &client_id, caller.now).await? {
        return Err(ApiError::NotFound);
    }
    let detail = Detail::new().with("client", client_id.as_str());
    ctx.data.events.by_user(
        &req,
        caller.principal.user_id,
        EventKind::AppRevoked,
        detail,
        caller.now,
    );
    Ok(json(200, &json!({"message": "Access revoked"})))
}
