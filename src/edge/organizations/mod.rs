//! Organizations (`docs/organizations.md`): customer organizations with members of one role each
//! (`routes.rs`, `members.rs`), invitations mailed to an address (`invitations.rs`), teams with a
//! role per member (`teams.rs`), the admin API's view (`admin.rs`), and, in `sql/`, a module per
//! table. The rules are `core/organizations/`; a session's active organization rides in its
//! tokens (`sessions/routes.rs`, the refresh), and every route here reads the membership again, so
//! a removal or a new role counts at once for this worker.
//!
//! Every route starts from one read, the scene (`sql/organizations.rs`): the caller's live
//! session, their role, and whatever the path names. The decision is made on it in Rust (the
//! roles are the deployment's), and the change that follows holds only while the caller still has
//! the role it was decided on.

pub mod admin;
pub mod invitations;
pub mod members;
pub mod routes;
pub mod sql;
pub mod teams;

use serde_json::{json, Value};
use worker::Request;

use crate::core::config::Config;
use crate::core::events::security_event::{Actor, Detail, EventKind};
use crate::core::organizations::claims::OrgClaims;
use crate::core::organizations::config::OrgConfig;
use crate::core::organizations::roles::{Role, Roles};
use crate::core::organizations::rules::{may_assign, Refusal};
use crate::core::sessions::access_token::Principal;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::http::rfc3339;
use crate::edge::organizations::sql::organizations::{scene, Asker, Named, Scene};
use crate::edge::sessions::bearer::principal;

/// The organizations' settings, or `500` naming the bad one.
pub fn settings(config: &Config) -> Result<&OrgConfig, ApiError> {
    config
        .organizations
        .as_ref()
        .map_err(|e| ApiError::Misconfigured(e.clone()))
}

/// A token's organization claims for a session's active organization and the member's role now
/// (`None` without one, or once the member left it).
/// With a broken `ORG_ROLES` the token carries none (it fails closed, with fewer permissions, and
/// the refresh that already rotated still answers).
pub fn org_claims(config: &Config, org_id: Option<&str>, role: Option<&str>) -> Option<OrgClaims> {
    let (Some(org_id), Some(role)) = (org_id, role) else {
        return None;
    };
    let settings = config.organizations.as_ref().ok()?;
    Some(OrgClaims::of_member(&settings.roles, org_id, role))
}

/// A signed-in member's request on an organization: who, where, and what the path names.
pub struct Member {
    pub principal: Principal,
    pub db: Db,
    pub now: i64,
    pub org_id: String,
    pub scene: Scene,
    /// The caller's role in the organization.
    pub role: Role,
}

impl Member {
    /// The head of arguments of a change decided on the caller's role.
    pub fn asker(&self) -> Asker<'_> {
        Asker::caller(
            &self.principal,
            self.now,
            &self.org_id,
            Some(&self.role.name),
        )
    }

    /// `403 not_allowed` unless the caller's role grants `permission`.
    pub fn must(&self, permission: &str) -> Result<(), ApiError> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::NotAllowed)
        }
    }

    /// The roles the caller may invite to, as a JSON array (`rules::may_assign`): the statements
    /// that replace, re-send or revoke an invitation touch only one of these.
    pub fn assignable(&self, roles: &Roles) -> String {
        roles.passing(|role| may_assign(&self.role, None, role).is_ok())
    }

    /// The organization as its members see it, with the caller's role and permissions.
    pub fn shown(&self) -> Value {
        let scene = &self.scene;
        shown(
            &self.org_id,
            scene.org_name.as_deref().unwrap_or_default(),
            scene.org_slug.as_deref().unwrap_or_default(),
            scene.org_created_at.unwrap_or_default(),
            &self.role,
        )
    }

    /// Records `kind` for member `user_id` of this organization, by the caller: from the caller's
    /// request when it is their own event, else as `member:<caller>` without the caller's address
    /// or browser (the member's trail never shows another person's).
    pub fn record(
        &self,
        ctx: &RouteContext,
        req: &Request,
        user_id: i64,
        kind: EventKind,
        detail: Detail,
    ) {
        let detail = detail.with("organization", self.org_id.as_str());
        let (from, actor) = if user_id == self.principal.user_id {
            (Some(req), Actor::User)
        } else {
            (None, Actor::Member(self.principal.user_id))
        };
        ctx.data
            .events
            .record(from, user_id, kind, actor, detail, self.now);
    }
}

/// An organization as a member sees it.
pub fn shown(id: &str, name: &str, slug: &str, created_at: i64, role: &Role) -> Value {
    json!({
        "id": id,
        "name": name,
        "slug": slug,
        "created_at": rfc3339(created_at),
        "role": role.name,
        "permissions": role.permissions,
    })
}

/// The caller of `req` as a member of the path's organization, with the scene of what the path
/// names: `401` without a live session, `404` for an organization they are not a member of (the
/// same answer as one that does not exist).
pub async fn member(
    req: &Request,
    ctx: &RouteContext,
    named: &Named<'_>,
) -> Result<Member, ApiError> {
    let now = now();
    let principal = principal(req, &ctx.data, now)?;
    let org_id = ctx.id().ok_or(ApiError::NotFound)?.to_owned();
    let roles = &settings(&ctx.data.config)?.roles;
    let db = ctx.data.database(&ctx.env)?;
    let asker = Asker::caller(&principal, now, &org_id, None);
    let scene = scene(&db, &asker, named)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let role = scene
        .actor_role
        .as_deref()
        .map(|name| roles.held(name))
        .ok_or(ApiError::NotFound)?;
    Ok(Member {
        principal,
        db,
        now,
        org_id,
        scene,
        role,
    })
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotAllowed => Self::NotAllowed,
            Refusal::AboveOwnRole => Self::RoleAboveOwn,
        }
    }
}
