//! What an access token says of the session's active organization: `org_id`, the member's
//! `org_role` and that role's permissions (`org_permissions`), so a backend decides from the JWT
//! alone. Bounded: a role holds at most 32 permissions of at most 64 characters, so the three
//! claims stay under `MAX_CLAIMS_BYTES` however the deployment defines its roles.

use serde::{Deserialize, Serialize};

use crate::core::organizations::roles::Role;

/// The most the organization claims add to a token, serialised.
pub const MAX_CLAIMS_BYTES: usize = 2_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClaims {
    pub org_id: String,
    pub org_role: String,
    pub org_permissions: Vec<String>,
}

impl OrgClaims {
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
    use crate::core::organizations::roles::Roles;

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
