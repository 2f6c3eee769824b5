//! The scheduled cleanup: rows that can no longer matter, deleted in bounded slices.

use crate::edge::db::{batch, int, statement, Db};
use crate::edge::error::ApiError;

/// Rows deleted per table per batch, so one batch stays well inside D1's time limit; a cleanup
/// runs batch after batch until every table is done or its time is up (`prune_all`).
pub const SLICE: i64 = 5_000;

/// How long one cleanup may keep deleting: well inside a cron trigger's 15 minutes of wall time
/// (Cloudflare, "Workers limits": Cron Triggers), so ceremony rows cannot pile up faster than an
/// hourly run removes them.
pub const TIME_BUDGET_SECONDS: i64 = 120;

// Arguments: ?1 now, ?2 resend cooldown, ?3 idle time of a login-attempt count, ?4 slice,
// ?5 lockout, ?6 the longest window of code events. Every selection goes through an index
// (`tests/query_plans.rs`): `revoked_at > 0` rather than `IS NOT NULL`, so SQLite can use one.
/// Refresh tokens of ended sessions (revoked or past their absolute expiry).
const PRUNE_REFRESH_TOKENS_SQL: &str = "DELETE FROM refresh_tokens WHERE rowid IN \
    (SELECT t.rowid FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id \
     WHERE s.revoked_at > 0 OR s.expires_at <= ?1 LIMIT ?4)";
/// Ended sessions without tokens left: a token of a deleted session still gets `401`.
const PRUNE_SESSIONS_SQL: &str = "DELETE FROM sessions WHERE rowid IN \
    (SELECT s.rowid FROM sessions s WHERE (s.revoked_at > 0 OR s.expires_at <= ?1) \
     AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id) LIMIT ?4)";
/// Emailed codes (reset, verification, email change) expired or used, once the resend cooldown
/// has passed (no deletion shortens it).
const PRUNE_EMAIL_CODES_SQL: &str = "DELETE FROM email_codes WHERE rowid IN \
    (SELECT rowid FROM email_codes WHERE issued_at <= ?1 - ?2 \
     AND (expires_at <= ?1 OR used_by IS NOT NULL) LIMIT ?4)";
/// Logins that waited for a second factor and expired (their mfa_token lasts minutes).
const PRUNE_MFA_CHALLENGES_SQL: &str = "DELETE FROM mfa_challenges WHERE rowid IN \
    (SELECT rowid FROM mfa_challenges WHERE expires_at <= ?1 LIMIT ?4)";
/// Enrolments of a second factor never confirmed within the longest code window (a day).
const PRUNE_PENDING_FACTORS_SQL: &str = "DELETE FROM totp_factors WHERE rowid IN \
    (SELECT rowid FROM totp_factors WHERE created_at <= ?1 - ?6 AND enabled_at IS NULL LIMIT ?4)";
/// Login-attempt counts that no longer hold anything back: their last attempt is older than a
/// lockout, and they had a lockout (over now) or are account-wide (their window is over), or
/// they were untouched for the idle time.
const PRUNE_LOGIN_ATTEMPTS_SQL: &str = "DELETE FROM login_attempts WHERE (email, client) IN \
    (SELECT email, client FROM login_attempts WHERE last_attempt_at <= ?1 - ?5 \
     AND (locked_until IS NOT NULL OR client = '*' OR last_attempt_at <= ?1 - ?3) LIMIT ?4)";
/// Code events older than the longest window they are counted in.
const PRUNE_CODE_EVENTS_SQL: &str = "DELETE FROM code_events WHERE rowid IN \
    (SELECT rowid FROM code_events WHERE at <= ?1 - ?6 LIMIT ?4)";

/// Social sign-ins never completed, and one-time codes expired or used (they last minutes).
const PRUNE_OAUTH_STATES_SQL: &str = "DELETE FROM oauth_states WHERE rowid IN \
    (SELECT rowid FROM oauth_states WHERE expires_at <= ?1 LIMIT ?4)";
const PRUNE_OAUTH_CODES_SQL: &str = "DELETE FROM oauth_codes WHERE rowid IN \
    (SELECT rowid FROM oauth_codes WHERE expires_at <= ?1 LIMIT ?4)";
/// The provider's authorization codes, spent or not, once expired (they last a minute).
const PRUNE_PROVIDER_CODES_SQL: &str = "DELETE FROM provider_codes WHERE rowid IN \
    (SELECT rowid FROM provider_codes WHERE expires_at <= ?1 LIMIT ?4)";

/// Passkey ceremonies expired (they last minutes), and passkey sign-ups older than the longest
/// window their per-address caps count in.
/// Device codes once expired (they last ten minutes unless configured shorter).
const PRUNE_DEVICE_CODES_SQL: &str = "DELETE FROM provider_device_codes WHERE rowid IN \
    (SELECT rowid FROM provider_device_codes WHERE expires_at <= ?1 LIMIT ?4)";
/// Clients that registered themselves or were known by a metadata document, unused for a day and
/// holding no live grant (RFC 7591 §5: an open registration endpoint must not let litter pile
/// up); such a client registers again, or its document is fetched again, when it comes back.
const PRUNE_UNUSED_CLIENTS_SQL: &str = "DELETE FROM provider_clients WHERE rowid IN \
    (SELECT c.rowid FROM provider_clients c WHERE c.origin <> 'admin' AND c.used_at <= ?1 - 86400 \
     AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.client_id = c.id \
       AND s.revoked_at IS NULL AND s.expires_at > ?1) LIMIT ?4)";
/// Organization invitations expired for 30 days (till then an inviter sees them and can re-send).
const PRUNE_INVITATIONS_SQL: &str = "DELETE FROM org_invitations WHERE rowid IN \
    (SELECT rowid FROM org_invitations WHERE expires_at <= ?1 - 2592000 LIMIT ?4)";
const PRUNE_PASSKEY_CHALLENGES_SQL: &str = "DELETE FROM passkey_challenges WHERE rowid IN \
    (SELECT rowid FROM passkey_challenges WHERE expires_at <= ?1 LIMIT ?4)";
const PRUNE_PASSKEY_SIGNUPS_SQL: &str = "DELETE FROM passkey_signups WHERE rowid IN \
    (SELECT rowid FROM passkey_signups WHERE created_at <= ?1 - ?6 LIMIT ?4)";

/// Security events older than `EVENT_RETENTION_DAYS`.
const PRUNE_SECURITY_EVENTS_SQL: &str = "DELETE FROM security_events WHERE rowid IN \
    (SELECT rowid FROM security_events WHERE at <= ?1 - ?7 LIMIT ?4)";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &PRUNES;

/// The cleanup's statements, in the order of `KINDS`.
const PRUNES: [&str; 16] = [
    PRUNE_REFRESH_TOKENS_SQL,
    PRUNE_SESSIONS_SQL,
    PRUNE_LOGIN_ATTEMPTS_SQL,
    PRUNE_CODE_EVENTS_SQL,
    PRUNE_EMAIL_CODES_SQL,
    PRUNE_MFA_CHALLENGES_SQL,
    PRUNE_PENDING_FACTORS_SQL,
    PRUNE_OAUTH_STATES_SQL,
    PRUNE_OAUTH_CODES_SQL,
    PRUNE_PROVIDER_CODES_SQL,
    PRUNE_DEVICE_CODES_SQL,
    PRUNE_UNUSED_CLIENTS_SQL,
    PRUNE_INVITATIONS_SQL,
    PRUNE_PASSKEY_CHALLENGES_SQL,
    PRUNE_PASSKEY_SIGNUPS_SQL,
    PRUNE_SECURITY_EVENTS_SQL,
];

/// What each statement of `PRUNES` deletes, by the name the cleanup's log line gives it.
pub const KINDS: [&str; 16] = [
    "refresh_tokens",
    "sessions",
    "login_attempt_counts",
    "code_events",
    "email_codes",
    "mfa_challenges",
    "pending_totp_factors",
    "oauth_states",
    "oauth_codes",
    "provider_codes",
    "provider_device_codes",
    "unused_clients",
    "org_invitations",
    "passkey_challenges",
    "passkey_signups",
    "security_events",
];

/// What the cleanup keeps, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub resend_cooldown: i64,
    pub login_idle: i64,
    pub login_lockout: i64,
    pub code_events: i64,
    pub security_events: i64,
}

/// What one cleanup removed: rows deleted per kind, in the order of `KINDS`.
#[derive(Debug, Default)]
pub struct Pruned([usize; KINDS.len()]);

impl Pruned {
    /// Rows deleted, by the kind's name.
    pub fn by_kind(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        KINDS.into_iter().zip(self.0)
    }

    /// Whether some table had a full slice removed (so it may have more).
    fn may_have_more(&self) -> bool {
        self.0.iter().any(|&n| n as i64 >= SLICE)
    }

    fn add(&mut self, more: &Self) {
        for (total, n) in self.0.iter_mut().zip(more.0) {
            *total += n;
        }
    }
}

/// Deletes every row that can no longer matter, slice after slice, until no table is left with
/// more or `TIME_BUDGET_SECONDS` have passed (`clock` tells the time); what it removed.
pub async fn prune_all(
    db: &Db,
    clock: impl Fn() -> i64,
    keep: Retention,
) -> Result<Pruned, ApiError> {
    let started = clock();
    let mut total = Pruned::default();
    loop {
        let now = clock();
        let pruned = prune(db, now, keep).await?;
        total.add(&pruned);
        if !pruned.may_have_more() || now - started >= TIME_BUDGET_SECONDS {
            return Ok(total);
        }
    }
}

/// Deletes, in one transaction, at most `SLICE` rows of each kind.
pub async fn prune(db: &Db, now: i64, keep: Retention) -> Result<Pruned, ApiError> {
    let args = [
        int(now),
        int(keep.resend_cooldown),
        int(keep.login_idle),
        int(SLICE),
        int(keep.login_lockout),
        int(keep.code_events),
        int(keep.security_events),
    ];
    let statements = PRUNES
        .iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "prune ended rows").await?;
    let mut pruned = Pruned::default();
    for (count, result) in pruned.0.iter_mut().zip(&results) {
        *count = result
            .meta()
            .ok()
            .flatten()
            .and_then(|m| m.changes)
            .unwrap_or(0);
    }
    Ok(pruned)
}
