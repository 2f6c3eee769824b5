//! The bodies of the organization routes, each field checked and every refusal reported at once.

use crate::core::accounts::email::Email;
use crate::core::body::Body;
use crate::core::organizations::roles::{Role, Roles};
use crate::core::organizations::slug::{name, Slug};
use crate::core::violation::{refused, Violation, Violations};

/// The most teams an invitation names.
pub const MAX_INVITED_TEAMS: usize = 20;

/// `POST /organizations {name, slug}`.
#[derive(Debug)]
pub struct NewOrganization {
    pub name: String,
    pub slug: Slug,
}

impl NewOrganization {
    pub fn parse(body: &Body) -> Result<Self, Violations> {
        let name = body.string("name").and_then(name);
        let slug = body.string("slug").and_then(Slug::parse);
        match (name, slug) {
            (Ok(name), Ok(slug)) => Ok(Self { name, slug }),
            (name, slug) => Err(refused([name.err(), slug.err()])),
        }
    }
}

/// `PATCH /organizations/{id} {name?, slug?}`: at least one of them.
#[derive(Debug)]
pub struct OrganizationUpdate {
    pub name: Option<String>,
    pub slug: Option<Slug>,
}

impl OrganizationUpdate {
    pub fn parse(body: &Body) -> Result<Self, Violations> {
        let name = body
            .optional_string("name")
            .and_then(|n| n.map(name).transpose());
        let slug = body
            .optional_string("slug")
            .and_then(|s| s.map(Slug::parse).transpose());
        match (name, slug) {
            (Ok(None), Ok(None)) => {
                Err(Violation::new("body", "missing", "name or slug is required").into())
            }
            (Ok(name), Ok(slug)) => Ok(Self { name, slug }),
            (name, slug) => Err(refused([name.err(), slug.err()])),
        }
    }
}

/// A `role` field: a role the deployment has.
pub fn role(body: &Body, roles: &Roles) -> Result<Role, Violation> {
    let raw = body.string("role")?;
    roles.get(raw).ok_or_else(|| {
        let known: Vec<&str> = roles.names().collect();
        Violation::new(
            "role",
            "invalid",
            format!("role must be one of {}", known.join(", ")),
        )
    })
}

/// `POST /organizations/{id}/invitations {email, role, teams?}`.
#[derive(Debug)]
pub struct NewInvitation {
    pub email: Email,
    pub role: Role,
    pub teams: Vec<String>,
}

impl NewInvitation {
    pub fn parse(body: &Body, roles: &Roles) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let role = role(body, roles);
        let teams = teams(body);
        match (email, role, teams) {
            (Ok(email), Ok(role), Ok(teams)) => Ok(Self { email, role, teams }),
            (email, role, teams) => Err(refused([email.err(), role.err(), teams.err()])),
        }
    }
}

fn teams(body: &Body) -> Result<Vec<String>, Violation> {
    let wrong = || {
        Violation::new(
            "teams",
            "invalid",
            format!("teams must be an array of at most {MAX_INVITED_TEAMS} team ids"),
        )
    };
    let Some(value) = body.value("teams") else {
        return Ok(Vec::new());
    };
    let items = value.as_array().ok_or_else(wrong)?;
    if items.len() > MAX_INVITED_TEAMS {
        return Err(wrong());
    }
    let mut ids: Vec<String> = Vec::new();
    for item in items {
        let id = item
            .as_str()
            .filter(|id| (1..=64).contains(&id.len()))
            .ok_or_else(wrong)?;
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        Body::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn every_field_is_checked_and_reported_at_once() {
        let made =
            NewOrganization::parse(&body(r#"{"name": " Acme ", "slug": "Acme-Corp"}"#)).unwrap();
        assert_eq!(
            (made.name.as_str(), made.slug.as_str()),
            ("Acme", "acme-corp")
        );
        let refused = NewOrganization::parse(&body(r#"{"name": "", "slug": "-x"}"#)).unwrap_err();
        let fields: Vec<&str> = refused.0.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["name", "slug"]);
        assert!(OrganizationUpdate::parse(&body("{}")).is_err());
        assert!(OrganizationUpdate::parse(&body(r#"{"slug": "new-one"}"#))
            .unwrap()
            .name
            .is_none());
    }

    #[test]
    fn invitations_name_a_known_role_and_a_bounded_list_of_teams() {
        let roles = Roles::parse(Some(r#"{"billing": ["invoices:read"]}"#)).unwrap();
        let invite = NewInvitation::parse(
            &body(r#"{"email": "A@Example.com", "role": "billing", "teams": ["t1", "t1"]}"#),
            &roles,
        )
        .unwrap();
        assert_eq!(invite.email.as_str(), "a@example.com");
        assert_eq!(
            (invite.role.name.as_str(), invite.teams.len()),
            ("billing", 1)
        );
        let refused = NewInvitation::parse(
            &body(r#"{"email": "nope", "role": "boss", "teams": "t1"}"#),
            &roles,
        )
        .unwrap_err();
        let fields: Vec<&str> = refused.0.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["email", "role", "teams"]);
        assert!(refused.0[1]
            .message
            .contains("owner, admin, member, billing"));
        let many = format!(
            r#"{{"email": "a@b.co", "role": "member", "teams": [{}]}}"#,
            (0..21)
                .map(|i| format!("\"t{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(NewInvitation::parse(&body(&many), &roles).is_err());
    }
}
