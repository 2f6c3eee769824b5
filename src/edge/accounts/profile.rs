//! `GET /me` (with the session's active organization) and `PUT /update-profile`: one D1
//! statement each, session check included.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::requests::ProfileUpdate;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, rfc3339};
use crate::edge::organizations::settings;
use crate::edge::sessions::bearer::principal;

pub async fn me(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    // A read: from the nearest replica, no older than the client's last bookmark.
    let db = ctx.data.reader(&ctx.env, &req)?;
    let profile = users::profile(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let organization = match (&profile.org_id, &profile.org_role) {
        (Some(id), Some(role)) => {
            let role = settings(&ctx.data.config)?.roles.held(role);
            let name = profile.org_name.as_deref().unwrap_or_default();
            let slug = profile.org_slug.as_deref().unwrap_or_default();
            json!({"id": id, "name": name, "slug": slug, "role": role.name, "permissions": role.permissions})
        }
        _ => Value::Null,
    };
    Ok(json(
        200,
        &json!({
            "id": profile.id,
            "email": profile.email,
            "username": profile.name,
            "email_verified": profile.email_verified_at.is_some(),
            "mfa_enabled": profile.mfa_enabled != 0,
            "created_at": rfc3339(profile.created_at),
            "organization": organization,
        }),
    ))
}

pub async fn update_profile(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let update = ProfileUpdate::try_from(&read_body(&mut req).await?)?;
    let db = ctx.data.database(&ctx.env)?;
    if !users::rename(&db, &principal, update.name.as_deref(), now).await? {
        return Err(ApiError::Unauthorized);
    }
    let detail = Detail::new().with("fields", "name");
    ctx.data.events.by_user(
        &req,
        principal.user_id,
        EventKind::ProfileUpdated,
        detail,
        now,
    );
    Ok(json(
        200,
        &json!({"message": "Profile updated successfully"}),
    ))
}
