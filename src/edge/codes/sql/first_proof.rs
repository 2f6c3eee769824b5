//! The first proof of an address (its first verification, or a reset by emailed code of an
//! account never verified) removes every way in and ceremony added before it: until then anyone
//! could have registered the address and added their own provider, passkey or factor, which
//! would survive the owner's recovery and let the squatter back in (pre-account takeover:
//! Sudhodanan & Paverd, "Pre-hijacked accounts", USENIX Security 2022; OWASP Authentication
//! Cheat Sheet). These statements run in the proving batch, after the code is used and before
//! the address is marked verified; the handler mails the owner what was removed.

use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result};

use crate::edge::db::{rows, statement, text, Db};
use crate::edge::error::ApiError;

/// The account whose emailed code this request (marker `?1`) just used, if its address was never
/// verified: the code's account, or for a sign-in code (keyed by address, `sign_in.rs`) the
/// account of its address. Found by the marker first (an index probe that finds nothing for a
/// wrong code, so a wrong try reads no more rows than before).
macro_rules! unproven_owner {
    () => {
        "(SELECT u.id FROM users u WHERE u.email_verified_at IS NULL AND u.id IN \
          (SELECT COALESCE(c.user_id, (SELECT a.id FROM users a WHERE a.email = c.address)) \
            FROM email_codes c WHERE c.used_by = ?1))"
    };
}

const REMOVE_IDENTITIES_SQL: &str = concat!(
    "DELETE FROM identities WHERE user_id = ",
    unproven_owner!(),
    " RETURNING provider AS what"
);
const REMOVE_PASSKEYS_SQL: &str = concat!(
    "DELETE FROM passkeys WHERE user_id = ",
    unproven_owner!(),
    " RETURNING name AS what"
);
const REMOVE_FACTORS_SQL: &str = concat!(
    "DELETE FROM totp_factors WHERE user_id = ",
    unproven_owner!(),
    " RETURNING 'authenticator app' AS what"
);
const REMOVE_RECOVERY_CODES_SQL: &str = concat!(
    "DELETE FROM recovery_codes WHERE user_id = ",
    unproven_owner!()
);
const REMOVE_PASSKEY_CHALLENGES_SQL: &str = concat!(
    "DELETE FROM passkey_challenges WHERE user_id = ",
    unproven_owner!()
);
const REMOVE_LINK_STATES_SQL: &str = concat!(
    "DELETE FROM oauth_states WHERE link_user_id = ",
    unproven_owner!()
);
const REMOVE_LINK_CODES_SQL: &str = concat!(
    "DELETE FROM oauth_codes WHERE user_id = ",
    unproven_owner!()
);
const REMOVE_MFA_CHALLENGES_SQL: &str = concat!(
    "DELETE FROM mfa_challenges WHERE user_id = ",
    unproven_owner!()
);

/// Every statement of this module, in the order they run; the first three say what they removed.
pub const STATEMENTS: &[&str] = &[
    REMOVE_IDENTITIES_SQL,
    REMOVE_PASSKEYS_SQL,
    REMOVE_FACTORS_SQL,
    REMOVE_RECOVERY_CODES_SQL,
    REMOVE_PASSKEY_CHALLENGES_SQL,
    REMOVE_LINK_STATES_SQL,
    REMOVE_LINK_CODES_SQL,
    REMOVE_MFA_CHALLENGES_SQL,
];

/// The statements for a proving batch whose code this request used under `marker`.
pub fn statements(db: &Db, marker: &str) -> Result<Vec<D1PreparedStatement>, ApiError> {
    STATEMENTS
        .iter()
        .map(|sql| statement(db, sql, &[text(marker)]))
        .collect()
}

/// What the first proof removed, for the owner's mail.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub providers: Vec<String>,
    pub passkeys: Vec<String>,
    pub authenticator_app: bool,
}

impl Removed {
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty() && self.passkeys.is_empty() && !self.authenticator_app
    }

    /// Reads the results of [`statements`], in their order.
    pub fn read(results: &[D1Result]) -> Result<Self, ApiError> {
        #[derive(Deserialize)]
        struct What {
            what: String,
        }
        let read = |i: usize| -> Result<Vec<String>, ApiError> {
            let result = results
                .get(i)
                .ok_or_else(|| ApiError::internal("read first proof", "missing result"))?;
            Ok(rows::<What>(result, "read first proof")?
                .into_iter()
                .map(|w| w.what)
                .collect())
        };
        Ok(Self {
            providers: read(0)?,
            passkeys: read(1)?,
            authenticator_app: !read(2)?.is_empty(),
        })
    }
}
