//! Roles: the built-in owner, admin and member, and the deployment's own roles (`ORG_ROLES`), each
//! a named set of permissions such as `invoices:read`. A role's rank says whom it may manage: an
//! owner anyone, an admin admins and below, a member nobody.

use std::collections::BTreeMap;

use serde_json::Value;

/// The most permissions one role may hold, and their length: a token carries them all, so they
/// are bounded (`claims::MAX_CLAIMS_BYTES`).
pub const MAX_PERMISSIONS: usize = 32;
const MAX_PERMISSION_CHARS: usize = 64;
const MAX_ROLE_CHARS: usize = 32;
const MAX_ROLES: usize = 20;

pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";
pub const MEMBER: &str = "member";

const MEMBER_PERMISSIONS: &[&str] = &["org:read", "members:read"];
const ADMIN_PERMISSIONS: &[&str] = &[
    "org:read",
    "members:read",
    "members:invite",
    "members:update",
    "members:remove",
    "teams:manage",
];
const OWNER_PERMISSIONS: &[&str] = &[
    "org:read",
    "org:update",
    "org:delete",
    "members:read",
    "members:invite",
    "members:update",
    "members:remove",
    "teams:manage",
    "owners:manage",
];

/// Who outranks whom: an actor manages roles of its rank or below (an admin cannot make an
/// owner), except that only owners manage owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Member,
    Admin,
    Owner,
}

/// A role: its name, rank and permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub rank: Rank,
    pub permissions: Vec<String>,
}

/// The roles of a deployment: the three built in, and those of `ORG_ROLES`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    custom: BTreeMap<String, Vec<String>>,
}

fn is_name(name: &str) -> bool {
    (1..=MAX_ROLE_CHARS).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A permission: `resource:action` words of lower-case letters, digits, `_`, `-`, or `*`.
fn is_permission(permission: &str) -> bool {
    (1..=MAX_PERMISSION_CHARS).contains(&permission.len())
        && permission.split(':').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*.".contains(&b))
        })
}

impl Roles {
    /// `ORG_ROLES`: a JSON object of role names to lists of permissions,
    /// `{"billing": ["invoices:read", "invoices:write"]}`. Custom roles rank as members and hold
    /// only the app's permissions, never the service's own (so they manage no one).
    pub fn parse(raw: Option<&str>) -> Result<Self, &'static str> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(Self::default());
        };
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(raw) else {
            return Err("must be a JSON object of role names to lists of permissions");
        };
        if object.len() > MAX_ROLES {
            return Err("may define at most 20 roles");
        }
        let mut custom = BTreeMap::new();
        for (name, permissions) in object {
            if !is_name(&name) || [OWNER, ADMIN, MEMBER].contains(&name.as_str()) {
                return Err("names roles of 1 to 32 lower-case letters, digits, `_` or `-`, other than owner, admin and member");
            }
            let Value::Array(items) = permissions else {
                return Err("must list each role's permissions as an array of strings");
            };
            let mut list: Vec<String> = Vec::new();
            for item in items {
                let permission = item
                    .as_str()
                    .filter(|p| is_permission(p))
                    .ok_or("holds a permission that is not `resource:action` words of a-z, 0-9, _, -, . or *, at most 64 characters")?;
                if !list.iter().any(|known| known == permission) {
                    list.push(permission.to_owned());
                }
            }
            if list.len() > MAX_PERMISSIONS {
                return Err("gives a role more than 32 permissions");
            }
            // The service's own permissions (managing the organization, its members, teams and
            // owners) belong to the built-in roles alone: a deployment's role that held one,
            // even through a wildcard, would let an admin who may assign it grant what it lacks.
            let role = Role {
                name: name.clone(),
                rank: Rank::Member,
                permissions: list.clone(),
            };
            let managing = OWNER_PERMISSIONS
                .iter()
                .filter(|p| !MEMBER_PERMISSIONS.contains(p));
            if managing.clone().any(|reserved| role.allows(reserved)) {
                return Err("may not grant the service's own managing permissions (org:update, org:delete, members:invite, members:update, members:remove, teams:manage, owners:manage), not even by a wildcard");
            }
            custom.insert(name, list);
        }
        Ok(Self { custom })
    }

    /// The role named `name`, if the deployment has it.
    pub fn get(&self, name: &str) -> Option<Role> {
        let built_in = |rank, permissions: &[&str]| Role {
            name: name.to_owned(),
            rank,
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
        };
        match name {
            OWNER => Some(built_in(Rank::Owner, OWNER_PERMISSIONS)),
            ADMIN => Some(built_in(Rank::Admin, ADMIN_PERMISSIONS)),
            MEMBER => Some(built_in(Rank::Member, MEMBER_PERMISSIONS)),
            _ => self.custom.get(name).map(|permissions| Role {
                name: name.to_owned(),
                rank: Rank::Member,
                permissions: permissions.clone(),
            }),
        }
    }

    /// The role a membership holds: a role the deployment no longer defines (taken out of
    /// `ORG_ROLES` since) allows nothing and ranks as a member.
    pub fn held(&self, name: &str) -> Role {
        self.get(name).unwrap_or_else(|| Role {
            name: name.to_owned(),
            rank: Rank::Member,
            permissions: Vec::new(),
        })
    }

    /// The names of the roles `rule` lets through (the roles an actor may give), as a JSON array
    /// for a statement that touches only those.
    pub fn passing(&self, rule: impl Fn(&Role) -> bool) -> String {
        let names: Vec<&str> = self.names().filter(|name| rule(&self.held(name))).collect();
        serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
    }

    /// Every role's name: the built-in ones, then the deployment's in name order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        [OWNER, ADMIN, MEMBER]
            .into_iter()
            .chain(self.custom.keys().map(String::as_str))
    }
}

impl Role {
    /// Whether the role grants `permission`, directly or by a `*` word (`invoices:*`).
    pub fn allows(&self, permission: &str) -> bool {
        self.permissions.iter().any(|held| {
            held == permission
                || held
                    .strip_suffix('*')
                    .is_some_and(|prefix| permission.starts_with(prefix))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_roles_rank_and_allow() {
        let roles = Roles::default();
        let owner = roles.get(OWNER).unwrap();
        let admin = roles.get(ADMIN).unwrap();
        let member = roles.get(MEMBER).unwrap();
        assert!(owner.rank > admin.rank && admin.rank > member.rank);
        assert!(owner.allows("owners:manage") && !admin.allows("owners:manage"));
        assert!(admin.allows("members:invite") && !member.allows("members:invite"));
        assert!(roles.get("billing").is_none());
    }

    #[test]
    fn a_deployment_defines_its_own_roles() {
        let roles = Roles::parse(Some(
            r#"{"billing": ["invoices:read", "invoices:write", "invoices:read"], "auditor": ["logs:*"]}"#,
        ))
        .unwrap();
        let billing = roles.get("billing").unwrap();
        assert_eq!(billing.rank, Rank::Member);
        assert_eq!(billing.permissions, ["invoices:read", "invoices:write"]);
        assert!(roles.get("auditor").unwrap().allows("logs:export"));
        assert!(!billing.allows("logs:export"));
        assert_eq!(
            roles.names().collect::<Vec<_>>(),
            ["owner", "admin", "member", "auditor", "billing"]
        );
    }

    #[test]
    fn bad_role_settings_are_refused() {
        for (raw, why) in [
            ("[]", "not an object"),
            (r#"{"owner": ["x:y"]}"#, "a built-in name"),
            (r#"{"Billing": ["x:y"]}"#, "an upper-case name"),
            (r#"{"billing": "invoices:read"}"#, "not a list"),
            (
                r#"{"billing": ["Invoices:Read"]}"#,
                "an upper-case permission",
            ),
            (r#"{"billing": ["invoices::read"]}"#, "an empty word"),
            (r#"{"billing": ["a b"]}"#, "a space"),
            (
                r#"{"fin": ["invoices:*", "org:update"]}"#,
                "a permission of the service's own",
            ),
            (
                r#"{"fin": ["members:*"]}"#,
                "the service's own, by a wildcard",
            ),
            (
                r#"{"fin": ["o*"]}"#,
                "the service's own, by a short wildcard",
            ),
            (r#"{"fin": ["*"]}"#, "everything"),
            (r#"{"fin": ["teams:manage"]}"#, "managing teams"),
        ] {
            assert!(Roles::parse(Some(raw)).is_err(), "{why}");
        }
        let many: Vec<String> = (0..33).map(|i| format!("\"p:{i}\"")).collect();
        let too_many = format!(r#"{{"big": [{}]}}"#, many.join(","));
        assert!(Roles::parse(Some(&too_many)).is_err());
        assert_eq!(Roles::parse(Some(" ")).unwrap(), Roles::default());
    }
}
