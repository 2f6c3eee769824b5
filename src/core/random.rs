//! Randomness from the platform CSPRNG (`crypto.getRandomValues` on Workers) and its encodings.

use base64ct::{Base64UrlUnpadded, Encoding};

/// `N` bytes from the operating system's or runtime's CSPRNG.
///
/// # Panics
/// Only if the platform has no CSPRNG, which Workers and every host we test on have.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the platform CSPRNG is available");
    buf
}

/// URL-safe base64 without padding, the encoding of every token and id we hand out.
pub fn base64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// The bytes of URL-safe unpadded base64; `None` if it is not that.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).ok()
}

/// Whether `text` has the shape of 256 bits in `base64url`: 43 characters of `A-Z a-z 0-9 - _`.
pub fn is_base64url_256(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A fresh secret of 256 random bits in `base64url`, 43 characters: every single-use code, state,
/// challenge, cookie and client secret we hand out (stored as `refresh_token::digest_of`).
pub fn secret_256() -> String {
    base64url(&bytes::<32>())
}

/// A fresh identifier of 128 random bits (session ids, token ids), 22 characters.
pub fn identifier() -> String {
    base64url(&bytes::<16>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_distinct_and_url_safe() {
        let a = identifier();
        let b = identifier();
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
