//! Email addresses as account keys: trimmed, lower-cased, syntactically checked.

use crate::core::violation::Violation;

/// RFC 5321 §4.5.3.1.3 caps a path at 256 octets including the angle brackets: 254 for the address.
const MAX_LEN: usize = 254;
/// RFC 5321 §4.5.3.1.1.
const MAX_LOCAL_LEN: usize = 64;

/// A normalised email address. Two spellings of one account (`A@X.com ` and `a@x.com`) parse equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Violation> {
        // Addresses are ASCII (checked below), so ASCII lower-casing: Unicode's would turn the
        // Kelvin sign (U+212A) into `k` and accept an address the rules refuse as it was typed.
        let normalised = raw.trim().to_ascii_lowercase();
        let invalid = || Violation::new("email", "invalid", "Email address is not valid");
        if normalised.is_empty() {
            return Err(Violation::new("email", "missing", "Email is required"));
        }
        if normalised.chars().count() > MAX_LEN {
            return Err(Violation::new(
                "email",
                "too_long",
                "Email must be at most 254 characters",
            ));
        }
        if !normalised.is_ascii() {
            return Err(invalid());
        }
        let (local, domain) = normalised.rsplit_once('@').ok_or_else(invalid)?;
        if !is_local_part(local) || !is_domain(domain) {
            return Err(invalid());
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A dot-atom local part (RFC 5322 §3.4.1): no quoting, no comments, no empty dot segments.
fn is_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
        })
}

/// A DNS name with at least two labels of letters, digits and inner hyphens.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(
            Email::parse("  A.B@Example.COM ").unwrap().as_str(),
            "a.b@example.com"
        );
        assert_eq!(
            Email::parse("A@X.com ").unwrap(),
            Email::parse("a@x.com").unwrap()
        );
    }

    #[test]
    fn accepts_common_shapes() {
        for ok in [
            "user+tag@example.com",
            "o'brien@mail.example.co.uk",
            "x@a-b.io",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        let cases = [
            ("", "missing", "empty"),
            ("   ", "missing", "blank"),
            ("plainaddress", "invalid", "no @"),
            ("@example.com", "invalid", "empty local part"),
            ("user@", "invalid", "empty domain"),
            ("user@localhost", "invalid", "single-label domain"),
            ("a..b@example.com", "invalid", "empty dot segment"),
            (".a@example.com", "invalid", "leading dot"),
            ("a b@example.com", "invalid", "space in local part"),
            ("a@b@example.com", "invalid", "two @"),
            ("user@-example.com", "invalid", "label starts with hyphen"),
            ("user@example.123", "invalid", "numeric top-level domain"),
            ("us\u{0}er@example.com", "invalid", "control character"),
            ("\u{212A}@example.com", "invalid", "Kelvin sign"),
            ("us\u{e9}r@example.com", "invalid", "non-ASCII letter"),
        ];
        for (raw, reason, why) in cases {
            let err = Email::parse(raw).expect_err(why);
            assert_eq!(err.reason, reason, "{why}");
            assert_eq!(err.field, "email", "{why}");
        }
    }

    #[test]
    fn enforces_length_limits() {
        let local = "a".repeat(64);
        let domain = format!("{}.com", "b".repeat(63));
        assert!(Email::parse(&format!("{local}@{domain}")).is_ok());
        assert_eq!(
            Email::parse(&format!("{}@example.com", "a".repeat(65)))
                .unwrap_err()
                .reason,
            "invalid"
        );
        let long = format!(
            "{local}@{}.{}.{}.com",
            "c".repeat(63),
            "d".repeat(63),
            "e".repeat(60)
        );
        assert_eq!(Email::parse(&long).unwrap_err().reason, "too_long");
    }
}
