//! The `scheduled` entry (the cron trigger in wrangler.toml): the hourly cleanup of ended sessions,
//! spent reset codes and stale login-attempt counts, so the tables hold what can still matter.

use std::rc::Rc;

use serde_json::{json, Map, Value};
use worker::{event, Env, ScheduleContext, ScheduledEvent};

use crate::core::codes::otp::FAILURE_WINDOW_SECONDS;
use crate::core::config::Config;
use crate::edge::bindings::{self, database, now};
use crate::edge::db::D1Meter;
use crate::edge::events::sql::security_events;
use crate::edge::events::trail as events;
use crate::edge::log::{self, Level};
use crate::edge::operators::sql::maintenance::{prune_all, Retention};

/// The most webhook events one cleanup queues again.
const REQUEUE_SLICE: i64 = 500;

/// How long a login-attempt count without a lockout is kept after its last attempt.
const THROTTLE_IDLE_SECONDS: i64 = 30 * 24 * 3600;

#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    let config = match bindings::config(&env) {
        Ok(config) => config,
        Err(e) => {
            return log::event(
                Level::Error,
                format!("cleanup skipped: server misconfigured: {e}"),
            )
        }
    };
    let meter = Rc::new(D1Meter::default());
    let pruned = match database(&env, meter.clone()) {
        Ok(db) => {
            let keep = Retention {
                resend_cooldown: config.otp_resend_cooldown,
                login_idle: THROTTLE_IDLE_SECONDS,
                login_lockout: config.login_lockout,
                code_events: FAILURE_WINDOW_SECONDS,
                security_events: config.event_retention,
            };
            prune_all(&db, now, keep).await
        }
        Err(e) => Err(e),
    };
    match pruned {
        Ok(p) => {
            let d1 = meter.figures();
            let mut fields = Map::new();
            fields.insert("message".into(), Value::String("cleanup".into()));
            let deleted = p.by_kind().map(|(kind, n)| (kind.to_owned(), json!(n)));
            fields.insert("deleted".into(), Value::Object(deleted.collect()));
            fields.insert("d1".into(), json!(d1));
            log::emit(Level::Info, fields);
        }
        Err(e) => log::event(
            Level::Error,
            format!("cleanup failed: {}", e.cause().unwrap_or_default()),
        ),
    }
    requeue(&env, &config, meter).await;
}

/// Webhook events stored but never queued (the queue refused, or the isolate ended between the
/// two) are queued now: at least once, whatever happened after their request answered.
async fn requeue(env: &Env, config: &Config, meter: Rc<D1Meter>) {
    let Ok(db) = database(env, meter) else {
        return;
    };
    // A minute's margin: a request's own flush may still be queueing them.
    match security_events::unqueued(&db, now() - 60, REQUEUE_SLICE).await {
        Ok(left) if left.is_empty() => {}
        Ok(left) => {
            log::event(
                Level::Warn,
                format!("webhook events queued late: {}", left.len()),
            );
            events::queue(&db, config, env, &left).await;
        }
        Err(e) => log::event(
            Level::Error,
            format!("webhook requeue failed: {}", e.cause().unwrap_or_default()),
        ),
    }
}
