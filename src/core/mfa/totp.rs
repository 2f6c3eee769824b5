//! Time-based one-time passwords (RFC 6238) as authenticator apps compute them: HMAC-SHA1, six
//! digits, 30-second steps. What Google Authenticator, 1Password and Authy read from an
//! `otpauth://` URI.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per time step (RFC 6238 §4.1, X = 30).
pub const STEP_SECONDS: i64 = 30;
/// Steps either side of now that are accepted, for clock skew and typing time (RFC 6238 §5.2
/// recommends at most one).
pub const SKEW_STEPS: i64 = 1;
const DIGITS: u32 = 6;
/// Secret length: 160 bits, the HMAC-SHA1 output size (RFC 4226 §4, R6).
pub const SECRET_BYTES: usize = 20;

/// A TOTP secret. Its `Debug` is redacted; it leaves the worker only once, at enrolment.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_BYTES]);

impl TotpSecret {
    /// From CSPRNG bytes (the caller passes `random::bytes()`).
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(bytes)
    }

    /// From decrypted storage; `None` if it is not a secret's length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn expose(&self) -> &[u8; SECRET_BYTES] {
        &self.0
    }

    /// The secret in base32 without padding (RFC 4648 §6), as apps and the URI take it.
    pub fn base32(&self) -> String {
        base32(&self.0)
    }

    /// The six-digit code of time step `step` (RFC 4226 §5.3 dynamic truncation).
    pub fn code_at(&self, step: i64) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(&step.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let offset = usize::from(digest[19] & 0x0f);
        let binary = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        format!("{:06}", binary % 10u32.pow(DIGITS))
    }

    /// The step at which `code` is valid at time `now`, within ±`SKEW_STEPS`, if that step is
    /// later than `last_used_step` (a code is never accepted twice: RFC 6238 §5.2). Every
    /// candidate is compared in constant time.
    pub fn verify(&self, code: &str, now: i64, last_used_step: Option<i64>) -> Option<i64> {
        let current = now.div_euclid(STEP_SECONDS);
        let mut found = None;
        for step in current - SKEW_STEPS..=current + SKEW_STEPS {
            let expected = self.code_at(step);
            let equal = expected
                .bytes()
                .zip(code.bytes())
                .fold(expected.len() ^ code.len(), |acc, (a, b)| {
                    acc | usize::from(a ^ b)
                });
            if equal == 0 && last_used_step.is_none_or(|last| step > last) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://` URI of Google Authenticator's Key Uri Format: label `issuer:account`,
    /// with `secret`, `issuer`, `algorithm`, `digits` and `period` spelled out.
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            account = percent_encode(account),
            secret = self.base32(),
        )
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

/// RFC 4648 base32, upper case, no padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Percent-encodes all but RFC 3986's unreserved characters (and `@`, which labels keep).
fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_slice(b"12345678901234567890").unwrap()
    }

    #[test]
    fn codes_match_rfc_6238_appendix_b() {
        // The RFC lists eight digits; an app shows the last six.
        let cases = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, eight) in cases {
            assert_eq!(
                rfc_secret().code_at(time / STEP_SECONDS),
                eight[2..],
                "T = {time}"
            );
        }
    }

    #[test]
    fn verify_accepts_one_step_either_side_and_never_twice() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;
        assert_eq!(secret.verify(&secret.code_at(step), now, None), Some(step));
        assert_eq!(
            secret.verify(&secret.code_at(step - 1), now, None),
            Some(step - 1)
        );
        assert_eq!(
            secret.verify(&secret.code_at(step + 1), now, None),
            Some(step + 1)
        );
        assert_eq!(
            secret.verify(&secret.code_at(step - 2), now, None),
            None,
            "two steps old"
        );
        assert_eq!(
            secret.verify(&secret.code_at(step + 2), now, None),
            None,
            "two steps ahead"
        );
        assert_eq!(
            secret.verify(&secret.code_at(step), now, Some(step)),
            None,
            "replayed"
        );
        assert_eq!(
            secret.verify(&secret.code_at(step - 1), now, Some(step)),
            None,
            "older than the last used"
        );
        assert_eq!(secret.verify("12345", now, None), None, "five digits");
        assert_eq!(secret.verify("", now, None), None);
    }

    #[test]
    fn base32_matches_rfc_4648() {
        let cases = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(base32(raw.as_bytes()), encoded, "{raw}");
        }
        assert_eq!(rfc_secret().base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        let uri = rfc_secret().uri("Edge Auth", "ann+x@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Edge%20Auth:ann%2Bx@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Edge%20Auth&algorithm=SHA1&digits=6&period=30"
        );
        assert!(!format!("{:?}", rfc_secret()).contains("GEZ"));
    }
}
