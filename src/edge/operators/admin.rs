//! The admin API (`/admin/…`), for the operator's backend: accounts (list, get, create, edit,
//! delete: `users.rs`), actions on them (disable, enable, factors removed, sessions ended, a reset
//! code mailed: `actions.rs`) and the security event trail (`trail.rs`); here, who the admin is. Authenticated by an admin key (`ADMIN_API_KEYS`) as the
//! bearer, never by a user's token; without the setting these routes do not exist (`404`). Every
//! action is recorded in the account's trail with the key's id.

use worker::Request;

use crate::core::events::security_event::{Actor, Detail, EventKind};
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::http::bearer_credential;

/// The admin of a request: the id of the key it presented.
pub struct Admin {
    key_id: String,
    pub db: Db,
    pub now: i64,
}

impl Admin {
    pub fn actor(&self) -> Actor {
        Actor::Admin(self.key_id.clone())
    }
}

/// Checks the bearer against the configured keys (constant time, `core/admin_keys.rs`).
pub fn admin(req: &Request, ctx: &RouteContext) -> Result<Admin, ApiError> {
    let keys = match &ctx.data.config.admin_keys {
        Ok(Some(keys)) => keys,
        // No admin API: its routes do not exist.
        Ok(None) => return Err(ApiError::NotFound),
        Err(e) => return Err(ApiError::Misconfigured(e.clone())),
    };
    let key = bearer_credential(req).ok_or(ApiError::Unauthorized)?;
    let key_id = keys
        .identify(&key)
        .ok_or(ApiError::Unauthorized)?
        .to_owned();
    ctx.data.log.set_admin_key(&key_id);
    Ok(Admin {
        key_id,
        db: ctx.data.database(&ctx.env)?,
        now: now(),
    })
}

pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    crate::core::query::pairs(&req.inner().url())
}

pub fn record(
    ctx: &RouteContext,
    admin: &Admin,
    req: &Request,
    user_id: i64,
    kind: EventKind,
    detail: Detail,
) {
    ctx.data
        .events
        .record(Some(req), user_id, kind, admin.actor(), detail, admin.now);
}
