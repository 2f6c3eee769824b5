//! Teams: `GET` and `POST /organizations/{id}/teams`, `DELETE /organizations/{id}/teams/{team_id}`,
//! and a member's role in a team: `PUT` and `DELETE
//! /organizations/{id}/teams/{team_id}/members/{user_id}`. Managing teams takes `teams:manage`,
//! and no one gives a team role above their own.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::organizations::requests::role;
use crate::core::organizations::roles::Roles;
use crate::core::organizations::rules::may_manage_team;
use crate::core::organizations::slug::name;
use crate::core::random;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, rfc3339};
use crate::edge::organizations::sql::organizations::Named;
use crate::edge::organizations::sql::teams::{self, Team};
use crate::edge::organizations::{member, settings, Member};

/// `GET /organizations/{id}/teams`: every team with its members, for roles with `members:read`.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let member = member(&req, &ctx, &Named::default()).await?;
    member.must("members:read")?;
    let shown: Vec<Value> = teams::list(&member.db, &member.asker())
        .await?
        .iter()
        .map(team_json)
        .collect();
    Ok(json(200, &json!({"teams": shown})))
}

/// `POST /organizations/{id}/teams {name}`: `409 team_name_taken` for a name in use.
pub async fn create(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let body = read_body(&mut req).await?;
    let team_name = name(body.string("name")?)?;
    let member = member(&req, &ctx, &Named::default()).await?;
    member.must("teams:manage")?;
    let id = random::identifier();
    let team = teams::create(&member.db, &member.asker(), &id, &team_name)
        .await?
        .ok_or(ApiError::TeamNameTaken)?;
    record(&ctx, &req, &member, "created", &id);
    Ok(json(201, &team_json(&team)))
}

/// `DELETE /organizations/{id}/teams/{team_id}`.
pub async fn delete(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let member = team_member(&req, &ctx).await?;
    member.must("teams:manage")?;
    let team = ctx.param(1).unwrap_or_default();
    if !teams::delete(&member.db, &member.asker(), team).await? {
        return Err(ApiError::NotAllowed);
    }
    record(&ctx, &req, &member, "deleted", team);
    Ok(json(200, &json!({"message": "Team deleted"})))
}

/// `PUT /organizations/{id}/teams/{team_id}/members/{user_id} {role}`: adds a member of the
/// organization to the team, or changes their role in it.
pub async fn set_member(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let body = read_body(&mut req).await?;
    let member = team_member(&req, &ctx).await?;
    let user_id = ctx.account_id(2)?;
    let roles = &settings(&ctx.data.config)?.roles;
    let given = role(&body, roles)?;
    may_manage_team(&member.role, &given)?;
    let team = ctx.param(1).unwrap_or_default();
    let manageable = manageable(&member, roles);
    let set = teams::set_member(
        &member.db,
        &member.asker(),
        team,
        user_id,
        &given.name,
        &manageable,
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    let detail = Detail::new()
        .with("team", team)
        .with("role", given.name.as_str())
        .with("reason", "member_set");
    member.record(&ctx, &req, user_id, EventKind::TeamUpdated, detail);
    Ok(json(
        200,
        &json!({"user_id": set.user_id, "role": set.role}),
    ))
}

/// `DELETE /organizations/{id}/teams/{team_id}/members/{user_id}`.
pub async fn remove_member(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let member = team_member(&req, &ctx).await?;
    let user_id = ctx.account_id(2)?;
    member.must("teams:manage")?;
    let team = ctx.param(1).unwrap_or_default();
    let manageable = manageable(&member, &settings(&ctx.data.config)?.roles);
    let removed = teams::remove_member(&member.db, &member.asker(), team, user_id, &manageable)
        .await?
        .ok_or(ApiError::NotFound)?;
    let detail = Detail::new()
        .with("team", team)
        .with("role", removed.role.as_str())
        .with("reason", "member_removed");
    member.record(&ctx, &req, user_id, EventKind::TeamUpdated, detail);
    Ok(json(200, &json!({"message": "Team member removed"})))
}

/// The team roles the caller may give or take away, as a JSON array: a team role above theirs is
/// neither changed nor removed.
fn manageable(member: &Member, roles: &Roles) -> String {
    roles.passing(|role| may_manage_team(&member.role, role).is_ok())
}

/// The caller as a member, for a path naming a team of the organization (`404` otherwise).
async fn team_member(req: &Request, ctx: &RouteContext) -> Result<Member, ApiError> {
    let named = Named {
        team: ctx.param(1),
        ..Named::default()
    };
    let member = member(req, ctx, &named).await?;
    if member.scene.team_id.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(member)
}

fn record(ctx: &RouteContext, req: &Request, member: &Member, what: &'static str, team: &str) {
    let detail = Detail::new().with("team", team).with("reason", what);
    member.record(
        ctx,
        req,
        member.principal.user_id,
        EventKind::TeamUpdated,
        detail,
    );
}

fn team_json(team: &Team) -> Value {
    let members: Value = team
        .members
        .as_deref()
        .and_then(|raw| serde_json::from_str(raw).ok())
        .unwrap_or_else(|| json!([]));
    json!({
        "id": team.id,
        "name": team.name,
        "created_at": rfc3339(team.created_at),
        "members": members,
    })
}
