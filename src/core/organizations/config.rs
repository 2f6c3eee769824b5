//! Organizations' settings: the deployment's roles (`ORG_ROLES`), how many organizations a user
//! may create (`ORG_MAX_PER_USER`), how many members one may have (`ORG_MAX_MEMBERS`), and how
//! long an invitation lasts (`ORG_INVITATION_TTL_SECONDS`).

use crate::core::config_error::ConfigError;
use crate::core::organizations::roles::Roles;

/// How many invitations (new or re-sent) one address may be mailed a day, across every
/// organization: no organization can flood a mailbox (OWASP Forgot Password Cheat Sheet's rule
/// for any mail a stranger can trigger).
pub const INVITATION_MAILS_PER_DAY: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgConfig {
    pub roles: Roles,
    pub max_per_user: i64,
    pub max_members: i64,
    pub invitation_ttl: i64,
}

impl OrgConfig {
    /// Reads the settings through `lookup`; a bad one names its variable.
    pub fn parse(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let roles =
            Roles::parse(lookup("ORG_ROLES").as_deref()).map_err(|problem| ConfigError {
                variable: "ORG_ROLES".into(),
                problem: problem.to_owned(),
            })?;
        let number = |name: &'static str, default: i64, max: i64| {
            let Some(raw) = lookup(name).filter(|v| !v.trim().is_empty()) else {
                return Ok(default);
            };
            match raw.trim().parse::<i64>() {
                Ok(value) if (1..=max).contains(&value) => Ok(value),
                _ => Err(ConfigError {
                    variable: name.into(),
                    problem: format!("must be a whole number from 1 to {max}"),
                }),
            }
        };
        Ok(Self {
            roles,
            max_per_user: number("ORG_MAX_PER_USER", 10, 10_000)?,
            max_members: number("ORG_MAX_MEMBERS", 100, 100_000)?,
            // A week, as the invitations of Clerk and WorkOS (the mailbox may be read late).
            invitation_ttl: number("ORG_INVITATION_TTL_SECONDS", 604_800, 2_592_000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals_name_the_variable() {
        let config = OrgConfig::parse(|_| None).unwrap();
        assert_eq!(
            (
                config.max_per_user,
                config.max_members,
                config.invitation_ttl
            ),
            (10, 100, 604_800)
        );
        let with = |name: &'static str, value: &'static str| {
            OrgConfig::parse(move |asked| (asked == name).then(|| value.to_owned()))
        };
        assert_eq!(with("ORG_MAX_MEMBERS", "2").unwrap().max_members, 2);
        assert_eq!(
            with("ORG_MAX_MEMBERS", "0").unwrap_err().variable,
            "ORG_MAX_MEMBERS"
        );
        assert_eq!(with("ORG_ROLES", "[1]").unwrap_err().variable, "ORG_ROLES");
        assert!(with("ORG_ROLES", r#"{"billing": ["invoices:read"]}"#)
            .unwrap()
            .roles
            .get("billing")
            .is_some());
    }
}
