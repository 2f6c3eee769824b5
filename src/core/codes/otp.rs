//! One-time codes for password resets: six digits from the CSPRNG, kept only as a keyed hash.

use serde_json::Value;

use crate::core::accounts::email::Email;
use crate::core::keys::hmac_sha256;
use crate::core::random::{base64url, bytes};

const DIGITS: usize = 6;
const SPACE: u32 = 1_000_000;

/// A six-digit code, leading zeros included. Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

/// Why a presented code cannot even be compared. Clients get the same `invalid_otp` as for a wrong code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpShape {
    /// Not a number or string at all: a `validation_failed`.
    WrongType,
    /// A number or string that is not six digits: answered like a wrong code.
    NotSixDigits,
}

impl OtpCode {
    /// A uniformly random code: rejection sampling avoids the modulo bias of `u32 % 1_000_000`.
    pub fn generate() -> Self {
        let limit = u32::MAX - u32::MAX % SPACE;
        loop {
            let n = u32::from_le_bytes(bytes::<4>());
            if n < limit {
                return Self::from_number(n % SPACE);
            }
        }
    }

    fn from_number(n: u32) -> Self {
        Self(format!("{n:0width$}", width = DIGITS))
    }

    /// Reads the JSON `otp`: a string of six digits, or a number whose lost leading zeros are
    /// restored (the seed's client sends `parseInt(otp)`, so `012345` arrives as `12345`).
    pub fn from_json(value: &Value) -> Result<Self, OtpShape> {
        match value {
            Value::String(s) if s.len() == DIGITS && s.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Self(s.clone()))
            }
            Value::String(_) => Err(OtpShape::NotSixDigits),
            Value::Number(n) => match n.as_u64() {
                Some(n) if n < u64::from(SPACE) => Ok(Self::from_number(n as u32)),
                _ => Err(OtpShape::NotSixDigits),
            },
            _ => Err(OtpShape::WrongType),
        }
    }

    /// The stored form: HMAC over the account's email and the code, so a leaked table reveals
    /// nothing (a plain hash of six digits falls to a million guesses) and a code is bound to
    /// its account.
    pub fn keyed_hash(&self, key: &[u8; 32], email: &Email) -> String {
        let message = format!("{}\n{}", email.as_str(), self.0);
        base64url(&hmac_sha256(key, message.as_bytes()))
    }

    /// The stored form of an emailed code for another `purpose` (`verify`, `change`), bound to
    /// its `subject` (the address, or the account id). The purpose is part of the message, so a
    /// hash is never valid for another kind of code (domain separation).
    pub fn purpose_hash(&self, key: &[u8; 32], purpose: &str, subject: &str) -> String {
        let message = format!("{purpose}\n{subject}\n{}", self.0);
        base64url(&hmac_sha256(key, message.as_bytes()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpCode([redacted])")
    }
}

/// The rolling window of the per-account budget of wrong tries.
pub const FAILURE_WINDOW_SECONDS: i64 = 24 * 3600;
/// The rolling window of the cap on codes mailed to one account.
pub const MAIL_WINDOW_SECONDS: i64 = 3600;

/// The lifetime, attempt and resend rules of reset codes, as numbers the database compares.
///
/// `max_attempts` bounds the tries at one code; `max_failures_per_day` bounds the wrong tries at
/// an account across all its codes, so new codes bring no fresh guesses (NIST SP 800-63B §5.2.2:
/// limit failed attempts on an account), and `max_codes_per_hour` bounds the mail one account can
/// be sent, apart from the cooldown between two codes.
#[derive(Debug, Clone, Copy)]
pub struct OtpPolicy {
    pub ttl_seconds: i64,
    pub max_attempts: i64,
    pub resend_cooldown_seconds: i64,
    pub max_failures_per_day: i64,
    pub max_codes_per_hour: i64,
}

impl OtpPolicy {
    /// When a code issued at `now` stops working.
    pub fn expires_at(&self, now: i64) -> i64 {
        now + self.ttl_seconds
    }

    /// A new code may replace one issued at or before this moment.
    pub fn reissue_if_issued_before(&self, now: i64) -> i64 {
        now - self.resend_cooldown_seconds
    }

    /// Wrong tries at or after this moment count toward the account's budget.
    pub fn failures_counted_since(&self, now: i64) -> i64 {
        now - FAILURE_WINDOW_SECONDS
    }

    /// Codes mailed at or after this moment count toward the account's mail cap.
    pub fn mails_counted_since(&self, now: i64) -> i64 {
        now - MAIL_WINDOW_SECONDS
    }

    /// Whether a code in this state may still be tried (the database applies the same rule).
    pub fn accepts(&self, expires_at: i64, wrong_attempts: i64, now: i64) -> bool {
        now < expires_at && wrong_attempts < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POLICY: OtpPolicy = OtpPolicy {
        ttl_seconds: 300,
        max_attempts: 5,
        resend_cooldown_seconds: 60,
        max_failures_per_day: 10,
        max_codes_per_hour: 5,
    };

    #[test]
    fn generated_codes_are_six_digits_and_spread() {
        let codes: Vec<OtpCode> = (0..2000).map(|_| OtpCode::generate()).collect();
        assert!(codes
            .iter()
            .all(|c| c.0.len() == 6 && c.0.bytes().all(|b| b.is_ascii_digit())));
        let distinct: std::collections::HashSet<&str> = codes.iter().map(|c| c.expose()).collect();
        assert!(
            distinct.len() > 1990,
            "2000 draws from a million should rarely collide"
        );
        assert!(
            codes.iter().any(|c| c.0.starts_with('0')),
            "leading zeros occur (p ≈ 1 - 0.9^2000)"
        );
    }

    #[test]
    fn json_numbers_get_their_leading_zeros_back() {
        assert_eq!(
            OtpCode::from_json(&json!(12345)).unwrap().expose(),
            "012345"
        );
        assert_eq!(OtpCode::from_json(&json!(7)).unwrap().expose(), "000007");
        assert_eq!(
            OtpCode::from_json(&json!("012345")).unwrap().expose(),
            "012345"
        );
    }

    #[test]
    fn other_values_are_refused() {
        let cases = [
            (json!(1_000_000), OtpShape::NotSixDigits, "seven digits"),
            (json!(-1), OtpShape::NotSixDigits, "negative"),
            (json!(12.5), OtpShape::NotSixDigits, "fraction"),
            (
                json!("12345"),
                OtpShape::NotSixDigits,
                "five-character string",
            ),
            (json!("12a456"), OtpShape::NotSixDigits, "letter"),
            (json!(" 12345"), OtpShape::NotSixDigits, "space"),
            (
                json!("１２３４５６"),
                OtpShape::NotSixDigits,
                "full-width digits",
            ),
            (json!(true), OtpShape::WrongType, "boolean"),
            (json!(null), OtpShape::WrongType, "null"),
            (json!([123456]), OtpShape::WrongType, "array"),
        ];
        for (value, expected, why) in cases {
            assert_eq!(OtpCode::from_json(&value).unwrap_err(), expected, "{why}");
        }
    }

    #[test]
    fn hashes_are_keyed_and_bound_to_the_account() {
        let code = OtpCode::from_json(&json!("123456")).unwrap();
        let alice = Email::parse("alice@example.com").unwrap();
        let bob = Email::parse("bob@example.com").unwrap();
        assert_eq!(
            code.keyed_hash(&[1; 32], &alice),
            code.keyed_hash(&[1; 32], &alice)
        );
        assert_ne!(
            code.keyed_hash(&[1; 32], &alice),
            code.keyed_hash(&[1; 32], &bob)
        );
        assert_ne!(
            code.keyed_hash(&[1; 32], &alice),
            code.keyed_hash(&[2; 32], &alice)
        );
        assert!(!code.keyed_hash(&[1; 32], &alice).contains("123456"));
        assert_ne!(
            code.purpose_hash(&[1; 32], "verify", alice.as_str()),
            code.purpose_hash(&[1; 32], "change", alice.as_str()),
            "a verification code's hash is no email-change code's"
        );
        assert_ne!(
            code.purpose_hash(&[1; 32], "verify", alice.as_str()),
            code.keyed_hash(&[1; 32], &alice),
            "nor a reset code's"
        );
    }

    #[test]
    fn expiry_and_attempts_with_an_injected_clock() {
        let issued = 1_000;
        let expires = POLICY.expires_at(issued);
        assert!(POLICY.accepts(expires, 0, issued));
        assert!(POLICY.accepts(expires, 4, issued + 299));
        assert!(
            !POLICY.accepts(expires, 0, issued + 300),
            "expired at the TTL"
        );
        assert!(
            !POLICY.accepts(expires, 5, issued + 1),
            "dead after five wrong tries"
        );
        assert_eq!(POLICY.reissue_if_issued_before(issued + 60), issued);
        assert_eq!(POLICY.failures_counted_since(90_000), 90_000 - 86_400);
        assert_eq!(POLICY.mails_counted_since(90_000), 90_000 - 3_600);
    }
}
