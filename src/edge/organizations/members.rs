//! An organization's members: `GET /organizations/{id}/members`, `PATCH
//! /organizations/{id}/members/{user_id} {role}` and `DELETE /organizations/{id}/members/{user_id}`
//! (the caller's own id: leaving). An admin never makes, demotes or removes an owner; the last
//! owner is never demoted or removed (`sql/members.rs`).

use crate::core::organizations::roles::Role;
use crate::edge::organizations::Member as OrgMember;
use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::organizations::requests::role;
use crate::core::organizations::rules::{may_assign, may_remove};
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, rfc3339};
use crate::edge::organizations::sql::members::{self, Change, Member, Outcome};
use crate::edge::organizations::sql::organizations::{Asker, Named};
use crate::edge::organizations::{member, settings};

/// `GET /organizations/{id}/members`: for roles with `members:read`.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let member = member(&req, &ctx, &Named::default()).await?;
    member.must("members:read")?;
    let cap = settings(&ctx.data.config)?.max_members;
    let shown: Vec<Value> = members::list(&member.db, &member.asker(), cap)
        .await?
        .iter()
        .map(member_json)
        .collect();
    Ok(json(200, &json!({"members": shown})))
}

/// `PATCH /organizations/{id}/members/{user_id} {role}`.
pub async fn change_role(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let body = read_body(&mut req).await?;
    let (member, target, from) = with_target(&req, &ctx).await?;
    let to = role(&body, &settings(&ctx.data.config)?.roles)?;
    may_assign(&member.role, Some(&from), &to)?;
    let change = Change {
        member: target,
        from: &from.name,
        to: Some(&to.name),
    };
    let changed = apply(&member.db, &member.asker(), &change).await?;
    let detail = Detail::new()
        .with("from", from.name.as_str())
        .with("role", to.name.as_str());
    member.record(&ctx, &req, target, EventKind::MemberUpdated, detail);
    Ok(json(200, &member_json(&changed)))
}

/// `DELETE /organizations/{id}/members/{user_id}`: removing a member, or leaving.
pub async fn remove(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let (member, target, from) = with_target(&req, &ctx).await?;
    let leaving = target == member.principal.user_id;
    may_remove(&member.role, &from, leaving)?;
    let change = Change {
        member: target,
        from: &from.name,
        to: None,
    };
    apply(&member.db, &member.asker(), &change).await?;
    let how = if leaving { "left" } else { "removed" };
    let detail = Detail::new()
        .with("role", from.name.as_str())
        .with("reason", how);
    member.record(&ctx, &req, target, EventKind::MemberRemoved, detail);
    Ok(json(200, &json!({"message": "Member removed"})))
}

/// The caller as a member, the path's member (`{user_id}`) and their role: who asks comes first,
/// so a stranger learns nothing (not even the deployment's role names); `404` for one who is no
/// member.
async fn with_target(
    req: &Request,
    ctx: &RouteContext,
) -> Result<(OrgMember, i64, Role), ApiError> {
    let target = ctx.account_id(1);
    let named = Named {
        member: target.as_ref().ok().copied(),
        ..Named::default()
    };
    let member = member(req, ctx, &named).await?;
    let target = target?;
    let roles = &settings(&ctx.data.config)?.roles;
    let from = member
        .scene
        .target_role
        .as_deref()
        .map(|name| roles.held(name))
        .ok_or(ApiError::NotFound)?;
    Ok((member, target, from))
}

/// Applies a change decided on the scene: the membership after it, `409 last_owner` (also when
/// two owners removed each other at once: the second finds one owner left), or `403 not_allowed`
/// when the scene moved under it (the caller's role changed meanwhile, or they left).
pub async fn apply(db: &Db, asker: &Asker<'_>, change: &Change<'_>) -> Result<Member, ApiError> {
    match members::change(db, asker, change).await? {
        Outcome::Done(changed) => Ok(changed),
        Outcome::LastOwner => Err(ApiError::LastOwner),
        Outcome::Moved => Err(ApiError::NotAllowed),
    }
}

/// A member as the organization's members see it.
pub fn member_json(member: &Member) -> Value {
    json!({
        "user_id": member.user_id,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "joined_at": rfc3339(member.joined_at),
    })
}
