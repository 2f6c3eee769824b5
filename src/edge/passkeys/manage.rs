//! A signed-in account's passkeys: `GET /passkeys`, `PUT /passkeys/{id}` (rename) and
//! `DELETE /passkeys/{id}` (never the last way in, with who you are asked again).

use crate::core::events::security_event::{Detail, EventKind};
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, read_optional_body, rfc3339};
use crate::edge::passkeys::ceremony::DEFAULT_NAME;
use crate::edge::passkeys::sql::passkeys;
use crate::edge::passkeys::sql::passkeys::Deleted;
use crate::edge::passwords::reauth::confirm_way_in_change;
use crate::edge::sessions::bearer::{live_caller, live_reader, principal, LiveCaller};
use serde_json::{json, Value};
use worker::{Request, Response};

/// `GET /passkeys`: the caller's passkeys.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let LiveCaller { principal, db, .. } = live_reader(&req, &ctx).await?;
    let shown: Vec<Value> = passkeys::list(&db, principal.user_id)
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "id": p.credential_id,
                "name": p.name,
                "algorithm": p.algorithm,
                "sign_count": p.sign_count,
                "backup_eligible": p.backup_eligible != 0,
                "backed_up": p.backed_up != 0,
                "created_at": rfc3339(p.created_at),
                "last_used_at": p.last_used_at.and_then(rfc3339),
            })
        })
        .collect();
    Ok(json(200, &json!({"passkeys": shown})))
}

/// `PUT /passkeys/{id} {name}`.
pub async fn rename(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let body = read_body(&mut req).await?;
    let name = crate::core::accounts::name::Name::parse("name", body.string("name")?)?
        .into_stored()
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let id = ctx.id().ok_or(ApiError::NotFound)?.to_owned();
    let db = ctx.data.database(&ctx.env)?;
    users::account_by_session(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !passkeys::rename(&db, principal.user_id, &id, &name).await? {
        return Err(ApiError::NotFound);
    }
    Ok(json(
        200,
        &json!({"message": "Passkey renamed", "name": name}),
    ))
}

/// `DELETE /passkeys/{id} {password, mfa_code?}`: never the account's last way to sign in, and
/// only with the password (or a recent sign-in) asked again, as adding one asks it.
pub async fn delete(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let id = ctx.id().ok_or(ApiError::NotFound)?.to_owned();
    let body = read_optional_body(&mut req).await?;
    let LiveCaller {
        principal,
        db,
        now,
        account,
    } = live_caller(&req, &ctx).await?;
    confirm_way_in_change(&req, &ctx.data, &db, &principal, &account, &body, now).await?;
    match passkeys::delete(&db, principal.user_id, &id).await? {
        Deleted::Done => {
            let detail = Detail::new()
                .with("factor", "passkey")
                .with("passkey", id.as_str());
            let events = &ctx.data.events;
            events.by_user(
                &req,
                principal.user_id,
                EventKind::FactorRemoved,
                detail,
                now,
            );
            Ok(json(200, &json!({"message": "Passkey deleted"})))
        }
        Deleted::LastWayIn => Err(ApiError::LastSignInMethod),
        Deleted::NotFound => Err(ApiError::NotFound),
    }
}
