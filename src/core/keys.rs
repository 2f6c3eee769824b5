//! The keys of secrets at rest, derived from `JWT_SECRET` and, while a rotation is under way,
//! from the secrets of `JWT_SECRET_PREVIOUS`: one key ring, each secret one key set with an id.
//! (Access tokens have keys of their own: `token_keys.rs`.)
//!
//! What a key seals or hashes is stored with its key id (`{id}:{hash}`, `{id}.{sealed}`), so a
//! new `JWT_SECRET` seals and hashes from its first request while the previous ones keep opening
//! and checking what they made, until it is re-sealed on use or expires (OWASP Key Management
//! Cheat Sheet, "Key rotation"). Values stored before key ids (no prefix) are tried under every
//! key of the ring.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::core::secret::Secret;

/// The keys of one secret, one per purpose, so that an OTP hash can never be confused with a
/// refresh-token successor (domain separation by label). Each is HMAC-SHA256 of the secret over
/// a fixed label: a PRF-based key derivation (NIST SP 800-108).
pub struct KeySet {
    /// Names the secret in what it sealed or hashed: 8 hex digits of HMAC(secret, label), which
    /// tell nothing of the secret.
    pub id: String,
    pub otp: [u8; 32],
    pub refresh_successor: [u8; 32],
    /// Encrypts TOTP secrets at rest (`secret_box.rs`).
    pub totp_secret: [u8; 32],
    /// Keys the hashes of recovery codes.
    pub recovery_code: [u8; 32],
    /// Signs the `verification_token` of an unverified login (`verification_token.rs`).
    pub verification_token: [u8; 32],
    /// Binds the provider's consent form to its browser session and request (CSRF).
    pub provider_form: [u8; 32],
}

impl KeySet {
    pub fn derive(secret: &Secret) -> Self {
        let raw = secret.expose().as_bytes();
        let id: String = hmac_sha256(raw, b"edge-auth key id v1")[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            id,
            otp: hmac_sha256(raw, b"edge-auth otp v1"),
            refresh_successor: hmac_sha256(raw, b"edge-auth refresh successor v1"),
            totp_secret: hmac_sha256(raw, b"edge-auth totp secret v1"),
            recovery_code: hmac_sha256(raw, b"edge-auth recovery code v1"),
            verification_token: hmac_sha256(raw, b"edge-auth verification token v1"),
            provider_form: hmac_sha256(raw, b"edge-auth provider form v1"),
        }
    }
}

/// The current key set (`JWT_SECRET`), which seals and hashes, and the previous ones
/// (`JWT_SECRET_PREVIOUS`), which only open and check.
pub struct Keyring {
    sets: Vec<KeySet>,
}

impl Keyring {
    pub fn new(current: &Secret, previous: &[Secret]) -> Self {
        let mut sets = vec![KeySet::derive(current)];
        for secret in previous {
            let set = KeySet::derive(secret);
            if sets.iter().all(|known| known.id != set.id) {
                sets.push(set);
            }
        }
        Self { sets }
    }

    /// The key set that seals and hashes.
    pub fn current(&self) -> &KeySet {
        &self.sets[0]
    }

    /// The key set of `id`, current or previous.
    pub fn by_id(&self, id: &str) -> Option<&KeySet> {
        self.sets.iter().find(|set| set.id == id)
    }

    /// Every key set, the current one first.
    pub fn all(&self) -> &[KeySet] {
        &self.sets
    }

    /// A hash to store: `hash` under the current keys, with their id.
    pub fn stamp(&self, hash: impl Fn(&KeySet) -> String) -> String {
        let current = self.current();
        format!("{}:{}", current.id, hash(current))
    }

    /// Every form in which `hash` of one value may be stored (under each key, with its id, and
    /// without an id as before key ids), as a JSON array for `json_each` in SQL.
    pub fn candidates(&self, hash: impl Fn(&KeySet) -> String) -> String {
        let forms: Vec<String> = self
            .sets
            .iter()
            .flat_map(|set| {
                let bare = hash(set);
                [format!("{}:{bare}", set.id), bare]
            })
            .collect();
        serde_json::Value::from(forms).to_string()
    }
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.sets.iter().map(|set| set.id.as_str()).collect();
        write!(f, "Keyring({ids:?}, [redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(current: &str, previous: &[&str]) -> Keyring {
        let previous: Vec<Secret> = previous.iter().map(|s| Secret::new(*s)).collect();
        Keyring::new(&Secret::new(current), &previous)
    }

    #[test]
    fn purposes_get_distinct_keys() {
        let keys = KeySet::derive(&Secret::new("a".repeat(32)));
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
    fn the_current_key_stamps_and_every_key_is_a_candidate() {
        let old = ring(&"o".repeat(32), &[]);
        let rotated = ring(&"n".repeat(32), &[&"o".repeat(32)]);
        let hash = |set: &KeySet| format!("{:02x}", set.otp[0]);
        let stored_before = old.stamp(hash);
        let stored_after = rotated.stamp(hash);
        assert_ne!(
            stored_before, stored_after,
            "a new key hashes from its first day"
        );
        assert!(stored_after.starts_with(&format!("{}:", rotated.current().id)));
        let candidates: Vec<String> = serde_json::from_str(&rotated.candidates(hash)).unwrap();
        assert!(
            candidates.contains(&stored_before),
            "the previous key still checks"
        );
        assert!(candidates.contains(&stored_after));
        assert!(
            candidates.contains(&hash(old.current())),
            "legacy values without id"
        );
        assert!(rotated.by_id(&old.current().id).is_some());
        assert!(!format!("{rotated:?}").contains("nnnn"));
    }

    #[test]
    fn key_ids_differ_per_secret_and_repeat_once() {
        let keys = ring(&"a".repeat(32), &[&"b".repeat(32), &"a".repeat(32)]);
        assert_eq!(keys.all().len(), 2);
        assert_ne!(keys.all()[0].id, keys.all()[1].id);
        assert_eq!(keys.all()[0].id.len(), 8);
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
