//! An organization's slug: its unique, URL-safe handle (`acme-corp`), and its name.

use crate::core::violation::Violation;

const MIN_SLUG: usize = 2;
const MAX_SLUG: usize = 48;

/// A slug: 2 to 48 lower-case letters, digits and single hyphens, starting and ending with a
/// letter or digit. Typed in any case; kept in lower case, so `Acme` and `acme` are one slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, Violation> {
        let slug = raw.trim().to_ascii_lowercase();
        let valid = (MIN_SLUG..=MAX_SLUG).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !slug.starts_with('-')
            && !slug.ends_with('-')
            && !slug.contains("--");
        if !valid {
            return Err(Violation::new(
                "slug",
                "invalid",
                "slug must be 2 to 48 letters, digits and single hyphens, not starting or ending with a hyphen",
            ));
        }
        Ok(Self(slug))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization's name: trimmed, 1 to 100 characters, no control characters (as a client's).
pub use crate::core::accounts::name::required_name as name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_single_hyphens() {
        assert_eq!(Slug::parse(" Acme-Corp ").unwrap().as_str(), "acme-corp");
        assert_eq!(Slug::parse("a1").unwrap().as_str(), "a1");
        for bad in [
            "a",
            "-acme",
            "acme-",
            "ac--me",
            "acme corp",
            "acmé",
            &"a".repeat(49),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Acme Corp ").unwrap(), "Acme Corp");
        assert!(name(" ").is_err());
        assert!(name("a\u{7}b").is_err());
        assert!(name(&"x".repeat(101)).is_err());
    }
}
