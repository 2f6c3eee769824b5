//! PKCE (RFC 7636) with the S256 method only ("plain" gives no protection against a code seen on
//! its way back, RFC 9700 §2.1.1): ours towards the provider, and the app's towards us.

use sha2::{Digest, Sha256};

use crate::core::random::{base64url, bytes, is_base64url_256};
use crate::core::secret::constant_time_eq;

/// A `code_verifier`: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
pub fn is_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// A `code_challenge` of the S256 method: base64url of a SHA-256 digest, 43 characters.
pub fn is_challenge(text: &str) -> bool {
    is_base64url_256(text)
}

/// The S256 challenge of `verifier`: BASE64URL(SHA256(ASCII(verifier))).
pub fn challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` answers `challenge`, in constant time over the challenge's bytes.
pub fn verifies(verifier: &str, challenge_sent: &str) -> bool {
    if !is_verifier(verifier) {
        return false;
    }
    constant_time_eq(challenge(verifier).as_bytes(), challenge_sent.as_bytes())
}

/// A new verifier of 256 random bits (43 characters).
pub fn new_verifier() -> String {
    base64url(&bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(verifies(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!verifies(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn shapes_are_checked() {
        assert!(is_verifier(&new_verifier()));
        assert!(is_challenge(&challenge(&new_verifier())));
        for (text, why) in [
            ("short", "too short"),
            (&"a".repeat(129), "too long"),
            (
                &format!("{}!", "a".repeat(50)),
                "a character outside the set",
            ),
        ] {
            assert!(!is_verifier(text), "{why}");
        }
        assert!(!is_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        assert!(!is_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }
}
