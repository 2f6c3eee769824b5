//! The keys derived from `JWT_SECRET`, once per isolate: one secret, one key per purpose. (Access
//! tokens have keys of their own: `token_keys.rs`.)

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::core::secret::Secret;

/// Keys for each use of the one configured secret, so that an OTP hash can never be confused
/// with a refresh-token successor (domain separation by label). Each is HMAC-SHA256 of the
/// secret over a fixed label: a PRF-based key derivation (NIST SP 800-108).
pub struct Keys {
    pub otp: [u8; 32],
    pub refresh_successor: [u8; 32],
    /// Encrypts TOTP secrets at rest (`secret_box.rs`).
    pub totp_secret: [u8; 32],
    /// Keys the hashes of recovery codes.
    pub recovery_code: [u8; 32],
    /// Signs the `verification_token` of an unverified login (`verification_token.rs`).
    pub verification_token: [u8; 32],
}

impl Keys {
    pub fn derive(secret: &Secret) -> Self {
        let raw = secret.expose().as_bytes();
        Self {
            otp: hmac_sha256(raw, b"edge-auth otp v1"),
            refresh_successor: hmac_sha256(raw, b"edge-auth refresh successor v1"),
            totp_secret: hmac_sha256(raw, b"edge-auth totp secret v1"),
            recovery_code: hmac_sha256(raw, b"edge-auth recovery code v1"),
            verification_token: hmac_sha256(raw, b"edge-auth verification token v1"),
        }
    }
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_get_distinct_keys() {
        let keys = Keys::derive(&Secret::new("a".repeat(32)));
        let all = [
            keys.otp,
            keys.refresh_successor,
            keys.totp_secret,
            keys.recovery_code,
            keys.verification_token,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| a != b));
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
