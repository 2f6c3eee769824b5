//! Refresh tokens: 256 random bits, handed out once, stored only as a SHA-256 digest.

use sha2::{Digest, Sha256};

use crate::core::keys::hmac_sha256;
use crate::core::random::{base64url, bytes};

/// 32 bytes in unpadded base64url.
const ENCODED_LEN: usize = 43;

/// An opaque refresh token as the client holds it. Never logged: its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// A new token of 256 bits from the CSPRNG (RFC 9700 §4.14; OWASP session management: ≥ 64 bits).
    pub fn generate() -> Self {
        Self(base64url(&bytes::<32>()))
    }

    /// Accepts only the shape we issue, so an access token (a JWT, with dots) never passes.
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed = raw.len() == ENCODED_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(raw.to_owned()))
    }

    /// What the database keeps: a digest, so a leaked table yields no usable token.
    pub fn digest(&self) -> String {
        digest_of(&self.0)
    }

    /// The token that replaces this one at rotation: HMAC(key, token || salt), with a random
    /// salt per rotation stored beside the spent token. Derived, so a repeated refresh within the
    /// grace window gets the very same successor without the database ever holding a usable
    /// token; salted, so this token and the server key alone (a leaked key and an old token) do
    /// not yield it (RFC 9700 §4.14.2).
    pub fn successor(&self, key: &[u8; 32], salt: &str) -> Self {
        let mut message = self.0.as_bytes().to_vec();
        message.push(b'.');
        message.extend_from_slice(salt.as_bytes());
        Self(base64url(&hmac_sha256(key, &message)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

/// How a random single-use secret we hand out (a refresh token, an OAuth state or one-time code,
/// a passkey challenge) is kept at rest: base64url of its SHA-256. A plain hash suffices because
/// each has 256 bits of entropy (no guessing to slow down).
pub fn digest_of(token: &str) -> String {
    base64url(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a, b);
        assert_eq!(RefreshToken::parse(a.expose()), Some(a));
    }

    #[test]
    fn other_shapes_are_refused() {
        for raw in [
            "",
            "short",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
        ] {
            assert!(RefreshToken::parse(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn successors_are_deterministic_per_key_and_salt_and_parse() {
        let token = RefreshToken::generate();
        let next = token.successor(&[1; 32], "salt-a");
        assert_eq!(next, token.successor(&[1; 32], "salt-a"));
        assert_ne!(next, token.successor(&[2; 32], "salt-a"));
        assert_ne!(
            next,
            token.successor(&[1; 32], "salt-b"),
            "the salt is needed"
        );
        assert_ne!(next, token);
        assert!(RefreshToken::parse(next.expose()).is_some());
    }

    #[test]
    fn the_digest_is_not_the_token() {
        let token = RefreshToken::generate();
        assert_ne!(token.digest(), token.expose());
        assert_eq!(
            token.digest(),
            RefreshToken::parse(token.expose()).unwrap().digest()
        );
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
