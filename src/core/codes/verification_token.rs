//! The `verification_token` of a `403 email_not_verified` login answer: proof, for a few minutes,
//! that its holder knows the password of an unverified address. Verification tries made with it
//! are counted apart from anonymous ones (their own code and budget, `db/email_codes.rs`), so a
//! stranger who spends the anonymous budget cannot stop the owner from verifying.
//!
//! Stateless: `{expiry}.{HMAC-SHA256(key, label | email | expiry)}` in hex, checked in constant
//! time. It names no account and carries no secret; it is only good for the one address.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a token lasts: time to open the mailbox and type a code.
pub const TTL_SECONDS: i64 = 900;

const LABEL: &[u8] = b"edge-auth verification token v1";

/// A new token for `email` (normalised), valid until `now + TTL_SECONDS`.
pub fn issue(key: &[u8; 32], email: &str, now: i64) -> String {
    let expires_at = now + TTL_SECONDS;
    let tag = mac(key, email, expires_at).finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("{expires_at}.{hex}")
}

/// Whether `token` was issued for `email` under `key` and is still live at `now`.
pub fn is_valid(key: &[u8; 32], token: &str, email: &str, now: i64) -> bool {
    let Some((expiry, hex)) = token.split_once('.') else {
        return false;
    };
    let (Ok(expires_at), Some(tag)) = (expiry.parse::<i64>(), decode_hex(hex)) else {
        return false;
    };
    if expires_at <= now || expires_at > now + TTL_SECONDS {
        return false;
    }
    mac(key, email, expires_at).verify_slice(&tag).is_ok()
}

fn mac(key: &[u8; 32], email: &str, expires_at: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(LABEL);
    mac.update(&[0]);
    mac.update(email.as_bytes());
    mac.update(&[0]);
    mac.update(expires_at.to_string().as_bytes());
    mac
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_token_is_good_for_its_address_until_it_expires() {
        let token = issue(&KEY, "a@x.io", NOW);
        assert!(is_valid(&KEY, &token, "a@x.io", NOW));
        assert!(is_valid(&KEY, &token, "a@x.io", NOW + TTL_SECONDS - 1));
        let refused = [
            (token.as_str(), "b@x.io", NOW, "another address"),
            (token.as_str(), "a@x.io", NOW + TTL_SECONDS, "expired"),
            ("", "a@x.io", NOW, "empty"),
            ("123", "a@x.io", NOW, "no tag"),
            ("x.00", "a@x.io", NOW, "not a number"),
        ];
        for (token, email, now, why) in refused {
            assert!(!is_valid(&KEY, token, email, now), "{why}");
        }
        assert!(!is_valid(&[8; 32], &token, "a@x.io", NOW), "another key");
    }

    #[test]
    fn a_forged_expiry_does_not_verify() {
        let token = issue(&KEY, "a@x.io", NOW);
        let (_, tag) = token.split_once('.').unwrap();
        let later = format!("{}.{tag}", NOW + TTL_SECONDS + 1);
        assert!(!is_valid(&KEY, &later, "a@x.io", NOW + 1));
        let far = format!("{}.{tag}", NOW + 10 * TTL_SECONDS);
        assert!(!is_valid(&KEY, &far, "a@x.io", NOW), "beyond one lifetime");
    }
}
