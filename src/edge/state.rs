//! The state of one request: its configuration, log, security events and D1 sessions.

use std::rc::Rc;

use worker::{Context, Env, Request};

use crate::core::config::Config;
use crate::edge::bindings::database;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::events::trail::Events;
use crate::edge::log::RequestLog;

/// The data every route handler receives.
pub struct State {
    pub config: Rc<Config>,
    /// Shared with the entry, which hands the request's security events to `wait_until` too.
    pub ctx: Rc<Context>,
    /// This request's log line, which the handlers add to (user id, D1 work).
    pub log: Rc<RequestLog>,
    /// This request's security events, stored once the handler has answered.
    pub events: Rc<Events>,
}

impl State {
    /// The D1 binding `DB`, metered into this request's log: a session whose first query goes to
    /// the primary, for every route whose checks or writes a security decision rests on.
    pub fn database(&self, env: &Env) -> Result<Db, ApiError> {
        database(env, self.log.d1())
    }

    /// For the read-only routes (`GET /me`, `/sessions`, `/passkeys`, `/identities`,
    /// `/me/events`): a session that may read from the nearest replica, no older than the
    /// client's last bookmark (`X-D1-Bookmark`, which every answer carries), so a client always
    /// reads its own writes (Cloudflare D1, read replication, Sessions API).
    pub fn reader(&self, env: &Env, req: &Request) -> Result<Db, ApiError> {
        let bookmark = req
            .headers()
            .get(BOOKMARK_HEADER)
            .ok()
            .flatten()
            .filter(|b| is_bookmark(b));
        let raw = env
            .d1("DB")
            .map_err(|e| ApiError::internal("open D1 binding DB", e))?;
        let start = bookmark.as_deref().unwrap_or("first-unconstrained");
        Db::session(&raw, start, self.log.d1())
    }
}

/// The header a D1 bookmark travels in, both ways.
pub const BOOKMARK_HEADER: &str = "X-D1-Bookmark";

/// Whether `value` has a bookmark's shape (D1's are hex groups joined by `-`): anything else is
/// ignored rather than handed to D1.
fn is_bookmark(value: &str) -> bool {
    (1..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}
