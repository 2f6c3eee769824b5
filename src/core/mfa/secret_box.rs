//! Secrets the worker must read back (TOTP secrets) are stored encrypted: XChaCha20-Poly1305
//! (an AEAD: RFC 8439's ChaCha20-Poly1305 with a 192-bit nonce, draft-irtf-cfrg-xchacha), under a
//! key derived from `JWT_SECRET` for this one purpose (`keys.rs`), with a random nonce per
//! message and the owner's id as associated data, so a stored value moved to another account
//! does not decrypt.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::core::random::{base64url, base64url_decode};

/// Bytes of a nonce; random nonces of this size never repeat in practice.
pub const NONCE_BYTES: usize = 24;

/// `base64url(nonce || ciphertext || tag)` of `plaintext`, bound to `context`.
pub fn seal(key: &[u8; 32], nonce: [u8; NONCE_BYTES], plaintext: &[u8], context: &[u8]) -> String {
    let cipher = XChaCha20Poly1305::new(key.into());
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: context,
            },
        )
        .expect("encryption of a short message cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    base64url(&out)
}

/// The plaintext of `sealed`, if it was sealed under `key` for `context` and not altered.
pub fn open(key: &[u8; 32], sealed: &str, context: &[u8]) -> Option<Vec<u8>> {
    let raw = base64url_decode(sealed)?;
    if raw.len() < NONCE_BYTES {
        return None;
    }
    let (nonce, body) = raw.split_at(NONCE_BYTES);
    XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: context,
            },
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_only_with_its_key_and_context() {
        let key = [7; 32];
        let sealed = seal(&key, [1; NONCE_BYTES], b"totp secret bytes", b"user 1");
        assert_eq!(
            open(&key, &sealed, b"user 1").as_deref(),
            Some(&b"totp secret bytes"[..])
        );
        assert_eq!(open(&[8; 32], &sealed, b"user 1"), None, "another key");
        assert_eq!(open(&key, &sealed, b"user 2"), None, "another account");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open(&key, &String::from_utf8(tampered).unwrap(), b"user 1"),
            None
        );
        assert_eq!(open(&key, "short", b"user 1"), None);
        assert!(!sealed.contains("totp"));
    }

    #[test]
    fn nonces_make_equal_secrets_look_different() {
        let key = [7; 32];
        assert_ne!(
            seal(&key, [1; NONCE_BYTES], b"same", b"u"),
            seal(&key, [2; NONCE_BYTES], b"same", b"u")
        );
    }
}
