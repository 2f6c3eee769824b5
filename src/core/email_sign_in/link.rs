//! The link of a sign-in mail: the app's page (`redirect_to`, from the allow-list) with a
//! single-use token in its fragment. A fragment is never sent to a server by a GET (RFC 3986
//! §3.5), so a mail scanner that fetches the link learns nothing and spends nothing; the page
//! posts the token with the app's PKCE verifier (RFC 7636), so a scanner that runs the page, or
//! a link forwarded to another device, holds no verifier and cannot use it either.

use crate::core::keys::hmac_sha256;
use crate::core::random::{base64url, bytes, is_base64url_256};

/// The purpose of a sign-in code: the name stored in `email_codes.purpose`, and part of the
/// code's keyed hash (so no other kind of code's hash is valid for a sign-in).
pub const PURPOSE: &str = "sign_in";

/// The fragment parameter that carries the token.
pub const FRAGMENT_PARAMETER: &str = "sign_in_token";

/// A link's token: 256 random bits, base64url (43 characters). Its `Debug` is redacted.
pub struct LinkToken(String);

impl LinkToken {
    pub fn generate() -> Self {
        Self(base64url(&bytes::<32>()))
    }

    /// A presented token, if it has the shape of one (anything else matches nothing).
    pub fn presented(text: &str) -> Option<Self> {
        is_base64url_256(text).then(|| Self(text.to_owned()))
    }

    /// The stored form: an HMAC, so a leaked table holds no usable link (like every code).
    pub fn keyed_hash(&self, key: &[u8; 32]) -> String {
        self.keyed_hash_for(key, PURPOSE)
    }

    /// The stored form of a token that a mail of another `purpose` carries (an organization's
    /// invitation): the purpose is part of the hash, so no other kind of token matches it.
    pub fn keyed_hash_for(&self, key: &[u8; 32], purpose: &str) -> String {
        let message = format!("{purpose}_link\n{}", self.0);
        base64url(&hmac_sha256(key, message.as_bytes()))
    }

    /// The token itself, for a link of another purpose (`url` makes a sign-in link).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The link the mail carries: the app's page, the token in its fragment.
    pub fn url(&self, redirect_to: &str) -> String {
        let separator = if redirect_to.contains('#') { '&' } else { '#' };
        format!("{redirect_to}{separator}{FRAGMENT_PARAMETER}={}", self.0)
    }
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_rides_in_the_fragment_only() {
        let token = LinkToken::generate();
        let url = token.url("https://app.example/signed-in?from=mail");
        let (before, fragment) = url.split_once('#').unwrap();
        assert_eq!(before, "https://app.example/signed-in?from=mail");
        assert_eq!(fragment, format!("sign_in_token={}", token.0));
        assert_eq!(token.0.len(), 43);
    }

    #[test]
    fn hashes_are_keyed_and_presented_tokens_are_shaped() {
        let token = LinkToken::generate();
        assert_ne!(token.keyed_hash(&[1; 32]), token.keyed_hash(&[2; 32]));
        assert!(!token.keyed_hash(&[1; 32]).contains(&token.0));
        let again = LinkToken::presented(&token.0).unwrap();
        assert_eq!(again.keyed_hash(&[1; 32]), token.keyed_hash(&[1; 32]));
        assert!(LinkToken::presented("short").is_none());
        assert!(LinkToken::presented(&"a".repeat(42)).is_none());
        assert!(LinkToken::presented(&format!("{}=", &token.0[..42])).is_none());
        assert_eq!(format!("{token:?}"), "LinkToken([redacted])");
    }
}
