//! All SQL: one constant per statement, typed rows, numbered placeholders. Rules that must hold
//! under concurrency are single statements or one batch (D1 has no BEGIN; a batch is one
//! transaction).

pub mod account_deletion;
pub mod admin_users;
pub mod ceremonies;
mod d1;
pub mod email_codes;
pub mod first_proof;
pub mod identities;
pub mod login_attempts;
pub mod maintenance;
pub mod mfa_challenges;
pub mod oauth_codes;
pub mod oauth_states;
pub mod passkey_challenges;
pub mod passkey_signups;
pub mod passkeys;
pub mod password_resets;
pub mod security_events;
pub mod sessions;
pub mod totp_factors;
pub mod users;

/// The hashes of a presented value that cannot match anything (a malformed code): an empty
/// JSON array for the `json_each` of the checking statements, so it still counts as a wrong try.
pub const NO_CANDIDATES: &str = "[]";

pub use d1::{batch, first, int, nullable_text, rows, statement, text, D1Figures, D1Meter, Db};

/// Every SQL statement the worker can issue, by module: `tests/query_plans.rs` asks SQLite for
/// the plan of each and fails on a scan of a table that grows with its users.
pub fn catalog() -> Vec<(&'static str, &'static str)> {
    let [issue, redeem] = password_resets::STATEMENTS;
    let [code_issue, notice, verify, change] = email_codes::STATEMENTS;
    let modules: [(&'static str, &[&'static str]); 23] = [
        ("account_deletion", account_deletion::STATEMENTS),
        ("admin_users", admin_users::STATEMENTS),
        ("ceremonies", ceremonies::STATEMENTS),
        ("first_proof", first_proof::STATEMENTS),
        ("email_codes", code_issue),
        ("email_codes", notice),
        ("email_codes", verify),
        ("email_codes", change),
        ("identities", identities::STATEMENTS),
        ("login_attempts", login_attempts::STATEMENTS),
        ("maintenance", maintenance::STATEMENTS),
        ("mfa_challenges", mfa_challenges::STATEMENTS),
        ("oauth_codes", oauth_codes::STATEMENTS),
        ("oauth_states", oauth_states::STATEMENTS),
        ("passkey_challenges", passkey_challenges::STATEMENTS),
        ("passkey_signups", passkey_signups::STATEMENTS),
        ("passkeys", passkeys::STATEMENTS),
        ("password_resets", issue),
        ("password_resets", redeem),
        ("security_events", security_events::STATEMENTS),
        ("sessions", sessions::STATEMENTS),
        ("totp_factors", totp_factors::STATEMENTS),
        ("users", users::STATEMENTS),
    ];
    modules
        .into_iter()
        .flat_map(|(module, statements)| statements.iter().map(move |sql| (module, *sql)))
        .collect()
}
