//! The `scheduled` entry (the cron trigger in wrangler.toml): the hourly cleanup of ended sessions,
//! spent reset codes and stale login-attempt counts, so the tables hold what can still matter.

use worker::{console_error, console_log, event, Env, ScheduleContext, ScheduledEvent};

use crate::core::otp::FAILURE_WINDOW_SECONDS;
use crate::edge::db::maintenance::{prune, Retention};
use crate::edge::state::{self, database, now};

/// How long a login-attempt count without a lockout is kept after its last attempt.
const THROTTLE_IDLE_SECONDS: i64 = 30 * 24 * 3600;

#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    let config = match state::config(&env) {
        Ok(config) => config,
        Err(e) => return console_error!("cleanup skipped: server misconfigured: {e}"),
    };
    let pruned = match database(&env) {
        Ok(db) => {
            let keep = Retention {
                resend_cooldown: config.otp_resend_cooldown,
                login_idle: THROTTLE_IDLE_SECONDS,
                login_lockout: config.login_lockout,
                code_events: FAILURE_WINDOW_SECONDS,
            };
            prune(&db, now(), keep).await
        }
        Err(e) => Err(e),
    };
    match pruned {
        Ok(p) => console_log!(
            "cleanup: {} sessions, {} refresh tokens, {} reset codes, {} login-attempt counts, {} code events deleted",
            p.sessions,
            p.refresh_tokens,
            p.password_resets,
            p.login_attempts,
            p.code_events
        ),
        Err(e) => console_error!("cleanup failed: {e:?}"),
    }
}
