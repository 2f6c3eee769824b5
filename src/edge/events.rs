//! The security events of one request (`core/security_event.rs`): handlers record them as they
//! decide, and the entry stores them all in one batch after the answer has left (`wait_until`),
//! so no answer waits for them and none is slower for an event it caused (a failed login of a
//! known account records one, an unknown email's does not: the timing must not tell them apart).

use std::cell::RefCell;

use worker::Request;

use crate::core::random;
use crate::core::security_event::{Actor, Detail, EventKind};
use crate::edge::db::security_events::{self, NewEvent};
use crate::edge::db::{batch, Db};
use crate::edge::handlers::session::user_agent;
use crate::edge::http::client_address;
use crate::edge::log::{self, Level};

/// One recorded event, waiting for the end of its request.
pub struct Pending {
    pub public_id: String,
    pub user_id: i64,
    pub kind: EventKind,
    pub at: i64,
    pub actor: Actor,
    pub client: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Detail,
}

/// The events of one request.
#[derive(Default)]
pub struct Events {
    pending: RefCell<Vec<Pending>>,
}

impl Events {
    /// Records that `kind` happened to account `user_id`, by `actor`, from the client of `req`
    /// (`None` for events with no client of their own, such as an account's deletion).
    pub fn record(
        &self,
        req: Option<&Request>,
        user_id: i64,
        kind: EventKind,
        actor: Actor,
        detail: Detail,
        now: i64,
    ) {
        self.pending.borrow_mut().push(Pending {
            public_id: format!("evt_{}", random::identifier()),
            user_id,
            kind,
            at: now,
            actor,
            client: req.map(|req| client_address(req).as_str().to_owned()),
            user_agent: req.and_then(user_agent),
            detail,
        });
    }

    /// Records what the user (or whoever holds their credentials) did, from `req`.
    pub fn by_user(&self, req: &Request, user_id: i64, kind: EventKind, detail: Detail, now: i64) {
        self.record(Some(req), user_id, kind, Actor::User, detail, now);
    }

    /// Whether anything was recorded.
    pub fn any(&self) -> bool {
        !self.pending.borrow().is_empty()
    }

    fn take(&self) -> Vec<Pending> {
        std::mem::take(&mut *self.pending.borrow_mut())
    }

    /// Stores the recorded events (one batch).
    /// A failure is logged, never the request's: the change it records has happened.
    pub async fn flush(&self, db: Option<Db>) {
        let pending = self.take();
        if pending.is_empty() {
            return;
        }
        let Some(db) = db else {
            log::event(Level::Error, "security events: no D1 binding");
            return;
        };
        let details: Vec<String> = pending
            .iter()
            .map(|event| event.detail.clone().into_json().to_string())
            .collect();
        let actors: Vec<String> = pending.iter().map(|event| event.actor.stored()).collect();
        let statements = pending
            .iter()
            .zip(details.iter().zip(&actors))
            .map(|(event, (detail, actor))| {
                security_events::insert(
                    &db,
                    &NewEvent {
                        public_id: &event.public_id,
                        user_id: event.user_id,
                        kind: event.kind.as_str(),
                        at: event.at,
                        actor,
                        client: event.client.as_deref(),
                        user_agent: event.user_agent.as_deref(),
                        detail,
                        webhook: event.kind.webhook_type(),
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>();
        let stored = match statements {
            Ok(statements) => batch(&db, statements, "store security events").await,
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            log::event(
                Level::Error,
                format!(
                    "security events not stored: {}",
                    e.cause().unwrap_or_default()
                ),
            );
        }
    }
}
