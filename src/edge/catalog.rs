//! Every SQL statement the worker can issue, gathered from the capabilities' `sql/` folders
//! for `tests/query_plans.rs`; only that test reads it, so no module imports it back.

/// Every SQL statement the worker can issue, by module: `tests/query_plans.rs` asks SQLite for
/// the plan of each and fails on a scan of a table that grows with its users.
pub fn catalog() -> Vec<(&'static str, &'static str)> {
    use crate::edge::accounts::sql::{deletion as account_deletion, users};
    use crate::edge::codes::sql::{email_codes, first_proof, reset, sign_in};
    use crate::edge::events::sql::security_events;
    use crate::edge::mfa::sql::{challenges as mfa_challenges, totp_factors};
    use crate::edge::operators::sql::{admin_users, maintenance};
    use crate::edge::organizations::sql::{invitations, members, organizations, teams};
    use crate::edge::passkeys::sql::{
        challenges as passkey_challenges, passkeys, signups as passkey_signups,
    };
    use crate::edge::provider::sql::{
        clients, codes as provider_codes, consents, device_codes, grants,
    };
    use crate::edge::sessions::sql::{ceremonies, login_attempts, sessions};
    use crate::edge::social::sql::{codes as oauth_codes, identities, states as oauth_states};
    let [code_issue, notice, verify, change] = email_codes::STATEMENTS;
    let [sign_in_start, sign_in_code, sign_in_link] = sign_in::STATEMENTS;
    let [org_reads, org_create, org_delete, org_admin] = organizations::STATEMENTS;
    let [invite, invitation_changes, accept] = invitations::STATEMENTS;
    let modules: [(&'static str, &[&'static str]); 39] = [
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
        ("org_invitations", invite),
        ("org_invitations", invitation_changes),
        ("org_invitations", accept),
        ("org_members", members::STATEMENTS),
        ("org_teams", teams::STATEMENTS),
        ("organizations", org_reads),
        ("organizations", org_create),
        ("organizations", org_delete),
        ("organizations", org_admin),
        ("oauth_states", oauth_states::STATEMENTS),
        ("passkey_challenges", passkey_challenges::STATEMENTS),
        ("passkey_signups", passkey_signups::STATEMENTS),
        ("passkeys", passkeys::STATEMENTS),
        ("provider_clients", clients::STATEMENTS),
        ("provider_codes", provider_codes::STATEMENTS),
        ("provider_consents", consents::STATEMENTS),
        ("provider_device_codes", device_codes::STATEMENTS),
        ("provider_grants", grants::STATEMENTS),
        ("reset", reset::STATEMENTS),
        ("sign_in", sign_in_start),
        ("sign_in", sign_in_code),
        ("sign_in", sign_in_link),
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
