//! What an access token says of the session's active organization: `org_id`, the member's
//! `org_role` and that role's permissions (`org_permissions`), so a backend decides from the JWT
//! alone. Bounded: a role holds at most 32 permissions of at most 64 characters, so the three
//! claims stay under `MAX_CLAIMS_BYTES` however the deployment defines its roles.

use serde::{Deserialize, Serialize};

use crate::core::organizations::roles::{Role, Roles};

/// The most the organization claims add to a token, serialised.
pub const MAX_CLAIMS_BYTES: usize = 2_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClaims {
    pub org_id: String,
    pub org_role: String,
    pub org_permissions: Vec<String>,
}

/// The claims as a token carries them, flat beside its other claims, each absent without an
/// organization. (Written out in each token's claims rather than `#[serde(flatten)]`, which would
/// make serde buffer every claim of every token it reads.)
pub type Flat = (Option<String>, Option<String>, Option<Vec<String>>);

impl OrgClaims {
    /// The flat claims of `claims`.
    pub fn flat(claims: Option<&Self>) -> Flat {
        match claims {
            Some(c) => (
                Some(c.org_id.clone()),
                Some(c.org_role.clone()),
                Some(c.org_permissions.clone()),
            ),
            None => (None, None, None),
        }
    }

    /// The claims a token's flat ones make: an organization and a role, or none.
    pub fn from_flat((org_id, org_role, org_permissions): Flat) -> Option<Self> {
        Some(Self {
            org_id: org_id?,
            org_role: org_role?,
            org_permissions: org_permissions.unwrap_or_default(),
        })
    }

    /// The claims of a member of `org_id` holding the role named `role` now.
    pub fn of_member(roles: &Roles, org_id: &str, role: &str) -> Self {
        Self::new(org_id, &roles.held(role))
    }

    pub fn new(org_id: &str, role: &Role) -> Self {
        Self {
            org_id: org_id.to_owned(),
            org_role: role.name.clone(),
            org_permissions: role.permissions.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_role_a_deployment_may_define_fits_the_bound() {
        let permissions: Vec<String> = (0..32)
            .map(|i| format!("\"{}{i:02}\"", "p".repeat(62)))
            .collect();
        let raw = format!(r#"{{"{}": [{}]}}"#, "r".repeat(32), permissions.join(","));
        let roles = Roles::parse(Some(&raw)).unwrap();
        let role = roles.get(&"r".repeat(32)).unwrap();
        let claims = OrgClaims::new(&"o".repeat(22), &role);
        let size = serde_json::to_string(&claims).unwrap().len();
        assert!(size <= MAX_CLAIMS_BYTES, "{size} bytes");
    }
}
