//! Ceremonies bound to a session (a passkey registration, a provider link and its one-time code)
//! end with it: whatever ends sessions (logout, ending one, an operator's disable or sign-out)
//! runs these in its batch, and the hourly cleanup removes any left behind. Their completions
//! check the session live too, so a dead session adds nothing even between the two.

use worker::D1PreparedStatement;

use crate::edge::db::{int, statement, Db};
use crate::edge::error::ApiError;

/// Whether the row's session `session_id` is live at `?2` (correlated: read only for the rows
/// the account has, usually none).
macro_rules! session_live {
    ($table:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM sessions s WHERE s.id = ",
            $table,
            ".session_id AND s.revoked_at IS NULL AND s.expires_at > ?2)"
        )
    };
}

/// Registration challenges of `?1` whose session is not live at `?2`.
const END_PASSKEY_CHALLENGES_SQL: &str = concat!(
    "DELETE FROM passkey_challenges WHERE user_id = ?1 AND session_id IS NOT NULL AND NOT ",
    session_live!("passkey_challenges")
);
/// Links in flight of `?1` whose session is not live at `?2`.
const END_LINK_STATES_SQL: &str = concat!(
    "DELETE FROM oauth_states WHERE link_user_id = ?1 AND NOT ",
    session_live!("oauth_states")
);
/// Links' one-time codes of `?1` whose session is not live at `?2`.
const END_LINK_CODES_SQL: &str = concat!(
    "DELETE FROM oauth_codes WHERE user_id = ?1 AND purpose = 'link' AND NOT ",
    session_live!("oauth_codes")
);

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    END_PASSKEY_CHALLENGES_SQL,
    END_LINK_STATES_SQL,
    END_LINK_CODES_SQL,
];

/// The statements that end the ceremonies of `user_id` whose session is no longer live: for the
/// end of a batch that ends sessions.
pub fn end_with_sessions(
    db: &Db,
    user_id: i64,
    now: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    STATEMENTS
        .iter()
        .map(|sql| statement(db, sql, &[int(user_id), int(now)]))
        .collect()
}
