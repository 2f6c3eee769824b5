//! `DELETE /me`: an account and every row it owns, in one batch. The foreign keys cascade where
//! D1 enforces them; every child table is also cleared explicitly, so nothing is left behind
//! wherever they are not, and `login_attempts` (keyed by email, no foreign key) goes too.

use serde::Deserialize;

use wasm_bindgen::JsValue;

use crate::core::sessions::access_token::Principal;
use crate::edge::db::{batch, int, rows, statement, text, Db};
use crate::edge::error::ApiError;

// Arguments: ?1 the caller's session, ?2 its account, ?3 now, ?4 the password hash the caller's
// password was checked against, ?5 the account's email. Each child statement runs only once the
// account row is gone, i.e. only if step 1 deleted it.
/// 1. The account, if the caller's session is live and the password unchanged since the check,
///    and it is no organization's last owner (docs/organizations.md: one owner stays).
const DELETE_ACCOUNT_SQL: &str = "DELETE FROM users WHERE id = ?2 AND password_hash = ?4 \
    AND EXISTS (SELECT 1 FROM sessions WHERE id = ?1 AND user_id = ?2 \
      AND revoked_at IS NULL AND expires_at > ?3) \
    AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.user_id = ?2 AND m.role = 'owner' \
      AND (SELECT COUNT(*) FROM org_members o WHERE o.org_id = m.org_id AND o.role = 'owner') = 1) \
    RETURNING id";
/// 2. Every refresh token of its sessions: no token of the account works any more.
const DELETE_REFRESH_TOKENS_SQL: &str = "DELETE FROM refresh_tokens \
    WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?2) \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
/// 3. Its sessions: its access tokens stop working at once.
const DELETE_SESSIONS_SQL: &str = "DELETE FROM sessions WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
/// 4. Its emailed codes (reset, verification, email change: one table).
const DELETE_EMAIL_CODES_SQL: &str = "DELETE FROM email_codes WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
/// 5. Its code events.
const DELETE_CODE_EVENTS_SQL: &str = "DELETE FROM code_events WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
/// 6. Its second factor, recovery codes and pending logins.
const DELETE_TOTP_FACTORS_SQL: &str = "DELETE FROM totp_factors WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
const DELETE_RECOVERY_CODES_SQL: &str = "DELETE FROM recovery_codes WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
const DELETE_MFA_CHALLENGES_SQL: &str = "DELETE FROM mfa_challenges WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
/// 7. The login-attempt counts of its email.
const DELETE_LOGIN_ATTEMPTS_SQL: &str = "DELETE FROM login_attempts WHERE email = ?5 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";

/// 8. Its linked sign-in identities, and social sign-ins in flight.
const DELETE_IDENTITIES_SQL: &str = "DELETE FROM identities WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
const DELETE_OAUTH_CODES_SQL: &str = "DELETE FROM oauth_codes WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
const DELETE_OAUTH_STATES_SQL: &str = "DELETE FROM oauth_states WHERE link_user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";

/// 9. Its passkeys and their ceremonies in flight.
const DELETE_PASSKEYS_SQL: &str = "DELETE FROM passkeys WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
const DELETE_PASSKEY_CHALLENGES_SQL: &str = "DELETE FROM passkey_challenges WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";

/// 10. Its security events, except webhook events not yet on the queue (they still go out).
const DELETE_SECURITY_EVENTS_SQL: &str = "DELETE FROM security_events WHERE user_id = ?2 \
    AND (webhook IS NULL OR queued_at IS NOT NULL) \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";

/// 11. Its memberships of organizations, and their teams. (An organization whose last owner this
///     was keeps its other members; the operator's admin API can name a new owner.)
const DELETE_TEAM_MEMBERSHIPS_SQL: &str = "DELETE FROM org_team_members \
    WHERE org_id IN (SELECT org_id FROM org_members WHERE user_id = ?2) AND user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";
const DELETE_MEMBERSHIPS_SQL: &str = "DELETE FROM org_members WHERE user_id = ?2 \
    AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?2)";

/// 1, for the admin API: the account, whatever its sessions and password.
const ADMIN_DELETE_ACCOUNT_SQL: &str = "DELETE FROM users WHERE id = ?2 RETURNING id";

/// Steps 2 to 10, after either first step.
const CHILDREN: [&str; 16] = [
    DELETE_REFRESH_TOKENS_SQL,
    DELETE_SESSIONS_SQL,
    DELETE_EMAIL_CODES_SQL,
    DELETE_CODE_EVENTS_SQL,
    DELETE_TOTP_FACTORS_SQL,
    DELETE_RECOVERY_CODES_SQL,
    DELETE_MFA_CHALLENGES_SQL,
    DELETE_LOGIN_ATTEMPTS_SQL,
    DELETE_IDENTITIES_SQL,
    DELETE_OAUTH_CODES_SQL,
    DELETE_OAUTH_STATES_SQL,
    DELETE_PASSKEYS_SQL,
    DELETE_PASSKEY_CHALLENGES_SQL,
    DELETE_SECURITY_EVENTS_SQL,
    DELETE_TEAM_MEMBERSHIPS_SQL,
    DELETE_MEMBERSHIPS_SQL,
];

/// Every statement of this module, for the query-plan check: both first steps, then the rest.
pub const STATEMENTS: &[&str] = &{
    let mut all = [""; CHILDREN.len() + 2];
    all[0] = DELETE_ACCOUNT_SQL;
    all[1] = ADMIN_DELETE_ACCOUNT_SQL;
    let mut i = 0;
    while i < CHILDREN.len() {
        all[i + 2] = CHILDREN[i];
        i += 1;
    }
    all
};

/// Deletes the caller's account and everything it owns, provided the session is live and the
/// password hash is still `verified_hash`. Returns whether the account was deleted. One batch:
/// a refresh racing it either lands before (its new token is deleted too) or finds no session.
pub async fn delete(
    db: &Db,
    principal: &Principal,
    email: &str,
    verified_hash: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let args = [
        text(&principal.session_id),
        int(principal.user_id),
        int(now),
        text(verified_hash),
        text(email),
    ];
    delete_with(db, DELETE_ACCOUNT_SQL, &args).await
}

/// Deletes account `user_id` and everything it owns, for the admin API; whether it existed.
pub async fn delete_by_admin(
    db: &Db,
    user_id: i64,
    email: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let args = [text(""), int(user_id), int(now), text(""), text(email)];
    delete_with(db, ADMIN_DELETE_ACCOUNT_SQL, &args).await
}

async fn delete_with(db: &Db, first: &'static str, args: &[JsValue; 5]) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Deleted {
        #[allow(dead_code)]
        id: i64,
    }
    let statements = std::iter::once(first)
        .chain(CHILDREN)
        .map(|sql| statement(db, sql, args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "delete account").await?;
    Ok(!rows::<Deleted>(&results[0], "read deleted account")?.is_empty())
}
