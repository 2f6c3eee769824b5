//! Password rules: what a new password must be (NIST SP 800-63B §5.1.1.2) and what a login may carry.

use crate::core::violation::Violation;

/// NIST SP 800-63B §5.1.1.2: at least 8 characters; accept at least 64, we take 128.
const MIN_CHARS: usize = 8;
const MAX_CHARS: usize = 128;

/// The passwords of 8 characters or more among the 10,000 most common (Royce Williams' list of
/// 2017, as shipped by Django's CommonPasswordValidator), lower-cased, one a line. The shorter ones
/// are refused by length already, so leaving them out keeps the bundle small.
const COMMON: &str = include_str!("common_passwords.txt");

/// A password that passed the policy for registration and resets.
/// Its `Debug` never shows the password.
pub struct NewPassword(String);

impl NewPassword {
    /// Checks length in characters (any Unicode, no truncation, no case folding) and refuses the
    /// most common passwords (NIST SP 800-63B §5.1.1.2, OWASP ASVS 5.0 V6.2).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Violation> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(Violation::new(
                field,
                "too_short",
                "Password must be at least 8 characters",
            ));
        }
        if chars > MAX_CHARS {
            return Err(too_long(field));
        }
        if is_common(raw) {
            return Err(Violation::new(
                field,
                "too_common",
                "Password is too common; choose one that is harder to guess",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// A password as typed at login: only its length is checked, so that accounts whose password
/// predates the policy (imported ones) can still log in, and a huge value costs no hashing.
pub struct LoginPassword(String);

impl LoginPassword {
    pub fn parse(raw: &str) -> Result<Self, Violation> {
        Self::parse_field("password", raw)
    }

    /// The same rule for a password re-entered under another field name (`current_password`).
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, Violation> {
        let chars = raw.chars().count();
        if chars == 0 {
            return Err(Violation::new(
                field,
                "missing",
                format!("{field} is required"),
            ));
        }
        if chars > MAX_CHARS {
            return Err(too_long(field));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for LoginPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginPassword(..)")
    }
}

fn too_long(field: &'static str) -> Violation {
    Violation::new(field, "too_long", "Password must be at most 128 characters")
}

fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    COMMON.lines().any(|common| common == lowered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert!(
            NewPassword::parse("password", "émoji🔐ok").is_ok(),
            "8 characters, more bytes"
        );
        assert_eq!(
            NewPassword::parse("password", "seven77")
                .unwrap_err()
                .reason,
            "too_short"
        );
        assert!(
            NewPassword::parse("password", &"x1".repeat(64)).is_ok(),
            "128 characters"
        );
        assert_eq!(
            NewPassword::parse("password", &"x".repeat(129))
                .unwrap_err()
                .reason,
            "too_long"
        );
        assert!(
            NewPassword::parse("password", &"🔐".repeat(128)).is_ok(),
            "128 emoji"
        );
    }

    #[test]
    fn spaces_and_case_are_kept() {
        let password = NewPassword::parse("password", "  Correct Horse Battery  ").unwrap();
        assert_eq!(password.expose(), "  Correct Horse Battery  ");
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        for common in [
            "password",
            "12345678",
            "PassWord1",
            "iloveyou",
            "qwertyuiop",
        ] {
            let err = NewPassword::parse("new_password", common).expect_err(common);
            assert_eq!(err.reason, "too_common", "{common}");
            assert_eq!(err.field, "new_password");
        }
    }

    #[test]
    fn the_list_is_sorted_lowercase_and_long_enough() {
        let entries: Vec<&str> = COMMON.lines().collect();
        assert!(entries.len() > 3_500, "only {} entries", entries.len());
        assert!(entries.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(entries
            .iter()
            .all(|p| p.chars().count() >= MIN_CHARS && *p == p.to_lowercase()));
    }

    #[test]
    fn login_passwords_only_check_length() {
        assert!(LoginPassword::parse("short").is_ok());
        assert_eq!(LoginPassword::parse("").unwrap_err().reason, "missing");
        assert_eq!(
            LoginPassword::parse(&"x".repeat(129)).unwrap_err().reason,
            "too_long"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let password = NewPassword::parse("password", "a secret phrase").unwrap();
        assert!(!format!("{password:?}").contains("secret"));
    }
}
