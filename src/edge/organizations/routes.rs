//! An organization itself: `POST /organizations` (the caller its first owner), `GET
//! /organizations` (the caller's), `GET`, `PATCH` and `DELETE /organizations/{id}`, and its trail
//! (`GET /organizations/{id}/events`).

use serde_json::json;
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::organizations::requests::{NewOrganization, OrganizationUpdate};
use crate::core::organizations::roles::OWNER;
use crate::core::random;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::events::sql::security_events;
use crate::edge::http::{json, read_body};
use crate::edge::operators::trail::{events_answer, page_query};
use crate::edge::organizations::sql::organizations::{self, Asker, Created, Named, Updated};
use crate::edge::organizations::{member, settings, shown};
use crate::edge::sessions::bearer::principal;

/// `POST /organizations {name, slug}`: `201` with the caller as its owner; `409 slug_taken`,
/// `403 organization_limit` once the caller created `ORG_MAX_PER_USER` (counted in the statement
/// that creates it, so concurrent creations never pass the cap).
pub async fn create(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let request = NewOrganization::parse(&read_body(&mut req).await?)?;
    let settings = settings(&ctx.data.config)?;
    let db = ctx.data.database(&ctx.env)?;
    let id = random::identifier();
    let asker = Asker::caller(&principal, now, &id, None);
    let slug = request.slug.as_str();
    match organizations::create(&db, &asker, &request.name, slug, settings.max_per_user).await? {
        Created::Made => {}
        Created::NotLive => return Err(ApiError::Unauthorized),
        Created::SlugTaken => return Err(ApiError::SlugTaken),
        Created::AtCap => return Err(ApiError::OrganizationLimit),
    }
    let detail = Detail::new()
        .with("slug", slug)
        .with("role", OWNER)
        .with("organization", id.as_str());
    let events = &ctx.data.events;
    events.by_user(
        &req,
        principal.user_id,
        EventKind::OrgCreated,
        detail.clone(),
        now,
    );
    events.by_user(&req, principal.user_id, EventKind::MemberAdded, detail, now);
    let owner = settings.roles.held(OWNER);
    Ok(json(201, &shown(&id, &request.name, slug, now, &owner)))
}

/// `GET /organizations`: the caller's organizations, with their role in each.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let roles = &settings(&ctx.data.config)?.roles;
    // From the primary, as every organization route: a removal counts at once.
    let db = ctx.data.database(&ctx.env)?;
    let asker = Asker::caller(&principal, now, "", None);
    let found = organizations::mine(&db, &asker)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let shown: Vec<_> = found
        .iter()
        .map(|row| {
            shown(
                row.org_id.as_deref().unwrap_or_default(),
                row.org_name.as_deref().unwrap_or_default(),
                row.org_slug.as_deref().unwrap_or_default(),
                row.org_created_at.unwrap_or_default(),
                &roles.held(row.actor_role.as_deref().unwrap_or_default()),
            )
        })
        .collect();
    Ok(json(200, &json!({"organizations": shown})))
}

/// `GET /organizations/{id}`: the organization, with the caller's role and permissions.
pub async fn get(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let member = member(&req, &ctx, &Named::default()).await?;
    Ok(json(200, &member.shown()))
}

/// `PATCH /organizations/{id} {name?, slug?}`: for roles with `org:update`.
pub async fn update(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let request = OrganizationUpdate::parse(&read_body(&mut req).await?)?;
    let member = member(&req, &ctx, &Named::default()).await?;
    member.must("org:update")?;
    let slug = request.slug.as_ref().map(|s| s.as_str());
    let row =
        match organizations::update(&member.db, &member.asker(), request.name.as_deref(), slug)
            .await?
        {
            Updated::Done(row) => row,
            Updated::SlugTaken => return Err(ApiError::SlugTaken),
            Updated::Refused => return Err(ApiError::NotAllowed),
        };
    let fields = match (&request.name, &request.slug) {
        (Some(_), Some(_)) => "name,slug",
        (Some(_), None) => "name",
        _ => "slug",
    };
    let user_id = member.principal.user_id;
    member.record(
        &ctx,
        &req,
        user_id,
        EventKind::OrgUpdated,
        Detail::new().with("fields", fields),
    );
    Ok(json(
        200,
        &shown(
            &member.org_id,
            row.org_name.as_deref().unwrap_or_default(),
            row.org_slug.as_deref().unwrap_or_default(),
            row.org_created_at.unwrap_or_default(),
            &member.role,
        ),
    ))
}

/// `DELETE /organizations/{id}`: for roles with `org:delete`; its members, invitations and teams go
/// with it, and its members' tokens lose it at their next refresh.
pub async fn delete(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let member = member(&req, &ctx, &Named::default()).await?;
    member.must("org:delete")?;
    if !organizations::delete(&member.db, &member.asker()).await? {
        return Err(ApiError::NotAllowed);
    }
    let user_id = member.principal.user_id;
    member.record(&ctx, &req, user_id, EventKind::OrgDeleted, Detail::new());
    Ok(json(200, &json!({"message": "Organization deleted"})))
}

/// `GET /organizations/{id}/events`: the organization's trail, for roles that manage members.
pub async fn events(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let page = page_query(&req)?;
    let member = member(&req, &ctx, &Named::default()).await?;
    member.must("members:update")?;
    let mut events =
        security_events::list_org(&member.db, &member.org_id, page.cursor, page.limit + 1).await?;
    // Members' addresses and browsers stay theirs, and an operator is "operator" (as in a
    // member's own trail): an organization's admins see what happened, and by whom.
    for event in &mut events {
        event.client = None;
        event.user_agent = None;
        if event.actor.starts_with("admin") {
            event.actor = "operator".to_owned();
        }
    }
    Ok(json(200, &events_answer(&mut events, page.limit)))
}
