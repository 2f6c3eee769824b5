//! The security events of one request (`core/security_event.rs`): handlers record them as they
//! decide, and the entry stores them all in one batch after the answer has left (`wait_until`),
//! so no answer waits for them and none is slower for an event it caused (a failed login of a
//! known account records one, an unknown email's does not: the timing must not tell them apart).

use std::cell::RefCell;

use serde_json::{json, Value};
use worker::{Env, Request};

use crate::core::config::Config;
use crate::core::events::security_event::{Actor, Detail, EventKind};
use crate::core::events::webhook::{Event, EventType};
use crate::core::random;
use crate::edge::db::{batch, Db};
use crate::edge::events::sql::security_events;
use crate::edge::events::sql::security_events::{NewEvent, Outgoing};
use crate::edge::http::client_address;
use crate::edge::http::user_agent;
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

    /// Stores the recorded events (one batch), then queues those of a webhook type and marks
    /// them queued. A failure is logged, never the request's: the change it records has happened;
    /// an event stored but not queued is queued by the hourly cleanup (`requeue`).
    pub async fn flush(&self, db: Option<Db>, config: &Config, env: &Env) {
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
        // Without endpoints no event is a webhook: none waits in the outbox for a queue.
        let hooks_on = matches!(&config.webhooks, Ok(hooks) if !hooks.endpoints.is_empty());
        let webhook = |event: &Pending| event.kind.webhook_type().filter(|_| hooks_on);
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
                        webhook: webhook(event).map(EventType::as_str),
                        // An event whose detail names an organization is in its trail too.
                        org_id: event.detail.get("organization"),
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
            return;
        }
        let outgoing: Vec<Outgoing> = pending
            .iter()
            .zip(details)
            .filter_map(|(event, detail)| {
                let kind = webhook(event)?;
                Some(Outgoing {
                    public_id: event.public_id.clone(),
                    user_id: event.user_id,
                    kind: event.kind.as_str().to_owned(),
                    at: event.at,
                    detail,
                    webhook: kind.as_str().to_owned(),
                })
            })
            .collect();
        if !outgoing.is_empty() {
            queue(&db, config, env, &outgoing).await;
        }
    }
}

/// Queues webhook events (stored already) and marks the ones the queue took. The webhook's
/// `data`: the account, the trail's event id and type, who did it, and the detail.
pub async fn queue(db: &Db, config: &Config, env: &Env, events: &[Outgoing]) {
    let mut queued = Vec::new();
    for event in events {
        let Some(kind) = EventType::parse(&event.webhook) else {
            continue;
        };
        let detail: Value = serde_json::from_str(&event.detail).unwrap_or_else(|_| json!({}));
        let data = json!({"user_id": event.user_id, "event": event.kind, "detail": detail});
        match crate::edge::events::webhooks::publish(
            config,
            env,
            &event.public_id,
            &Event::new(kind, event.at, data),
        )
        .await
        {
            Ok(_) => queued.push(event.public_id.as_str()),
            Err(e) => log::event(
                Level::Error,
                format!("webhook {} not queued: {e}", event.public_id),
            ),
        }
    }
    if queued.is_empty() {
        return;
    }
    let now = crate::edge::bindings::now();
    if let Err(e) = security_events::mark_queued(db, &queued, now).await {
        // Queued twice at worst (by the cleanup): receivers de-duplicate by webhook-id.
        log::event(
            Level::Error,
            format!(
                "webhook events not marked queued: {}",
                e.cause().unwrap_or_default()
            ),
        );
    }
}
