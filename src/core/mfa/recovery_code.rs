//! Recovery codes: ten single-use codes given once when a second factor is turned on, each a
//! way in when the authenticator is lost. Stored only as keyed hashes, bound to their account.

use crate::core::keys::hmac_sha256;
use crate::core::random::{base64url, bytes};

/// How many codes an enrolment gives.
pub const COUNT: usize = 10;
/// Characters per code: 10 from 31 symbols, about 49.5 bits, so guessing one through the
/// per-attempt limits is hopeless (NIST SP 800-63B §5.1.2.1: at least 64 bits for look-up
/// secrets chosen by the verifier *unless* attempts are rate limited, as here).
const LENGTH: usize = 10;
/// Lower-case letters and digits without the look-alikes `0 o 1 l i`.
const ALPHABET: &[u8; 31] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A recovery code in its normal form (lower case, no separator). Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// A uniformly random code (rejection sampling: no modulo bias).
    pub fn generate() -> Self {
        let limit = 256 - 256 % ALPHABET.len();
        let mut code = String::with_capacity(LENGTH);
        while code.len() < LENGTH {
            for byte in bytes::<16>() {
                if usize::from(byte) < limit && code.len() < LENGTH {
                    code.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
                }
            }
        }
        Self(code)
    }

    /// Reads a code as a person types it: any case, with or without the dash or spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        let normal: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (normal.len() == LENGTH && normal.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(Self(normal))
    }

    /// As shown to the user: `abcde-fghjk`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..LENGTH / 2], &self.0[LENGTH / 2..])
    }

    /// The stored form: HMAC over the account id and the code.
    pub fn keyed_hash(&self, key: &[u8; 32], user_id: i64) -> String {
        base64url(&hmac_sha256(
            key,
            format!("{user_id}\n{}", self.0).as_bytes(),
        ))
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_read_back_in_any_typing() {
        let code = RecoveryCode::generate();
        let shown = code.display();
        assert_eq!(shown.len(), 11);
        assert_eq!(RecoveryCode::parse(&shown), Some(code.clone()));
        assert_eq!(
            RecoveryCode::parse(&shown.to_uppercase()),
            Some(code.clone())
        );
        assert_eq!(
            RecoveryCode::parse(&shown.replace('-', " ")),
            Some(code.clone())
        );
        let distinct: std::collections::HashSet<String> =
            (0..500).map(|_| RecoveryCode::generate().0).collect();
        assert_eq!(distinct.len(), 500);
    }

    #[test]
    fn other_text_is_no_code() {
        for raw in [
            "",
            "123456",
            "abcde-fghj",
            "abcde-fghjkm",
            "abcde-fghj0",
            "abcde-fghjl",
        ] {
            assert_eq!(RecoveryCode::parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn hashes_are_keyed_and_bound_to_the_account() {
        let code = RecoveryCode::parse("abcde-fghjk").unwrap();
        assert_ne!(code.keyed_hash(&[1; 32], 1), code.keyed_hash(&[1; 32], 2));
        assert_ne!(code.keyed_hash(&[1; 32], 1), code.keyed_hash(&[2; 32], 1));
        assert!(!format!("{code:?}").contains("abcde"));
    }
}
