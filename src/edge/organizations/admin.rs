//! The admin API's organizations: `GET /admin/organizations` (a page by id), `GET` and `DELETE
//! /admin/organizations/{id}`, and `PATCH` and `DELETE /admin/organizations/{id}/members/{user_id}`.
//! The operator is bound by no role, but an organization keeps its last owner here too; every
//! action is an event of the member and the organization, by the admin key's id.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::operators::admin_requests::PageQuery;
use crate::core::organizations::requests::role;
use crate::core::violation::Violation;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, rfc3339};
use crate::edge::operators::admin::{admin, query_pairs, Admin};
use crate::edge::organizations::members::{apply, member_json};
use crate::edge::organizations::settings;
use crate::edge::organizations::sql::members::{self, Change};
use crate::edge::organizations::sql::organizations::{self, Asker};

/// `GET /admin/organizations?cursor&limit`: organizations by id, with their member counts.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let pairs = query_pairs(&req);
    let cursor = match pairs.iter().find(|(k, _)| k == "cursor") {
        None => String::new(),
        Some((_, value)) if is_id(value) => value.clone(),
        Some(_) => {
            return Err(
                Violation::new("cursor", "invalid", "cursor must be an organization id").into(),
            )
        }
    };
    let page = PageQuery::parse(
        pairs
            .iter()
            .filter(|(k, _)| k == "limit")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    let mut found = organizations::admin_list(&admin.db, &cursor, page.limit + 1).await?;
    let more = found.len() as i64 > page.limit;
    found.truncate(page.limit as usize);
    let next = more
        .then(|| found.last().map(|o| o.org_id.clone()))
        .flatten();
    let shown: Vec<Value> = found
        .iter()
        .map(|o| {
            json!({
                "id": o.org_id,
                "name": o.org_name,
                "slug": o.org_slug,
                "created_at": rfc3339(o.org_created_at),
                "members": o.members,
            })
        })
        .collect();
    Ok(json(
        200,
        &json!({"organizations": shown, "next_cursor": next}),
    ))
}

/// `GET /admin/organizations/{id}`: the organization and its members.
pub async fn get(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let org_id = ctx.id().unwrap_or_default();
    let asker = operator(&admin, org_id);
    let org = organizations::admin_get(&admin.db, &asker)
        .await?
        .ok_or(ApiError::NotFound)?;
    let cap = settings(&ctx.data.config)?.max_members;
    let shown: Vec<Value> = members::list(&admin.db, &asker, cap)
        .await?
        .iter()
        .map(member_json)
        .collect();
    Ok(json(
        200,
        &json!({
            "id": org_id,
            "name": org.org_name,
            "slug": org.org_slug,
            "created_at": org.org_created_at.and_then(rfc3339),
            "members": shown,
        }),
    ))
}

/// `DELETE /admin/organizations/{id}`.
pub async fn delete(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let org_id = ctx.id().unwrap_or_default();
    if !organizations::delete(&admin.db, &operator(&admin, org_id)).await? {
        return Err(ApiError::NotFound);
    }
    record(
        &ctx,
        &admin,
        &req,
        org_id,
        0,
        EventKind::OrgDeleted,
        Detail::new(),
    );
    Ok(json(200, &json!({"message": "Organization deleted"})))
}

/// `PATCH /admin/organizations/{id}/members/{user_id} {role}`.
pub async fn change_role(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let body = read_body(&mut req).await?;
    let to = role(&body, &settings(&ctx.data.config)?.roles)?;
    let (org_id, asker, target, from) = with_target(&ctx, &admin).await?;
    let change = Change {
        member: target,
        from: &from,
        to: Some(&to.name),
    };
    let changed = apply(&admin.db, &asker, &change).await?;
    let detail = Detail::new()
        .with("from", from.as_str())
        .with("role", to.name.as_str());
    record(
        &ctx,
        &admin,
        &req,
        org_id,
        target,
        EventKind::MemberUpdated,
        detail,
    );
    Ok(json(200, &member_json(&changed)))
}

/// `DELETE /admin/organizations/{id}/members/{user_id}`.
pub async fn remove(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let (org_id, asker, target, from) = with_target(&ctx, &admin).await?;
    let change = Change {
        member: target,
        from: &from,
        to: None,
    };
    apply(&admin.db, &asker, &change).await?;
    let detail = Detail::new()
        .with("role", from.as_str())
        .with("reason", "removed");
    record(
        &ctx,
        &admin,
        &req,
        org_id,
        target,
        EventKind::MemberRemoved,
        detail,
    );
    Ok(json(200, &json!({"message": "Member removed"})))
}

/// The path's organization as the operator asks it, its member (`{user_id}`) and their role
/// (`404` for one who is no member).
async fn with_target<'a>(
    ctx: &'a RouteContext,
    admin: &Admin,
) -> Result<(&'a str, Asker<'a>, i64, String), ApiError> {
    let target = ctx.account_id(1)?;
    let org_id = ctx.id().unwrap_or_default();
    let asker = operator(admin, org_id);
    let from = members::role_of(&admin.db, &asker, target)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((org_id, asker, target, from))
}

fn operator<'a>(admin: &Admin, org_id: &'a str) -> Asker<'a> {
    Asker {
        session: None,
        now: admin.now,
        org_id,
        role: None,
    }
}

fn record(
    ctx: &RouteContext,
    admin: &Admin,
    req: &Request,
    org_id: &str,
    user_id: i64,
    kind: EventKind,
    detail: Detail,
) {
    let detail = detail.with("organization", org_id);
    ctx.data
        .events
        .record(Some(req), user_id, kind, admin.actor(), detail, admin.now);
}

fn is_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
