//! The display name a user gives at registration (`username`) or in a profile update (`name`).

use crate::core::violation::Violation;

const MAX_CHARS: usize = 100;

/// A display name: trimmed, at most 100 characters, no control characters. Empty clears the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Violation> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > MAX_CHARS {
            return Err(Violation::new(
                field,
                "too_long",
                format!("{field} must be at most {MAX_CHARS} characters"),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Violation::new(
                field,
                "control_characters",
                format!("{field} must not contain control characters"),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A name a provider asserts (an ID token's `name`, GitHub's profile): held to the same rules
    /// as a name a user types, but made to fit rather than refused, since the user cannot fix
    /// it: control characters become spaces, runs of spaces one, and it is cut at 100
    /// characters.
    pub fn from_provider(raw: &str) -> Option<String> {
        let cleaned = raw
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>();
        let words: Vec<&str> = cleaned.split_whitespace().collect();
        let fitted: String = words.join(" ").chars().take(MAX_CHARS).collect();
        Self::parse("name", &fitted).ok()?.into_stored()
    }

    /// The stored value: `None` for an empty name.
    pub fn into_stored(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

/// A name that must be given (a client's, an organization's): trimmed, 1 to 100 characters, no
/// control characters; refused as the `name` field otherwise.
pub fn required_name(raw: &str) -> Result<String, Violation> {
    let trimmed = raw.trim();
    if trimmed.is_empty()
        || trimmed.chars().count() > MAX_CHARS
        || trimmed.chars().any(char::is_control)
    {
        return Err(Violation::new(
            "name",
            "invalid",
            "name must be 1 to 100 characters, without control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unicode_and_trims() {
        let name = Name::parse("name", "  Zoë 🚀 O'Neil ").unwrap();
        assert_eq!(name.into_stored().as_deref(), Some("Zoë 🚀 O'Neil"));
    }

    #[test]
    fn a_provider_name_is_made_to_fit() {
        let cases = [
            (
                "Ada\u{7}\nLovelace",
                Some("Ada Lovelace".to_owned()),
                "control characters",
            ),
            ("  ", None, "blank"),
            (&*"é".repeat(300), Some("é".repeat(100)), "300 characters"),
        ];
        for (raw, want, why) in cases {
            assert_eq!(Name::from_provider(raw), want, "{why}");
        }
    }

    #[test]
    fn empty_clears() {
        assert_eq!(Name::parse("name", "   ").unwrap().into_stored(), None);
    }

    #[test]
    fn refuses_bad_names() {
        let cases = [
            ("a".repeat(101), "too_long", "101 characters"),
            ("tab\there".to_owned(), "control_characters", "tab"),
            ("new\nline".to_owned(), "control_characters", "newline"),
            ("bell\u{7}".to_owned(), "control_characters", "bell"),
        ];
        for (raw, reason, why) in cases {
            assert_eq!(
                Name::parse("username", &raw).unwrap_err().reason,
                reason,
                "{why}"
            );
        }
        assert!(
            Name::parse("name", &"é".repeat(100)).is_ok(),
            "100 characters, 200 bytes"
        );
    }
}
