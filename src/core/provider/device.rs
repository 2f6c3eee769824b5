//! The device authorization grant (RFC 8628): user codes a person types on a second screen, and
//! the pace and outcome of the device's polling at the token endpoint.

/// The grant type a device polls with (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Consonants only, no vowels (no words), no 0/O or 1/I (RFC 8628 §6.1's example alphabet).
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Eight characters of twenty: 20^8 ≈ 2^34.6 codes (RFC 8628 §6.1: with the entry limit below
/// and a ten-minute life, a guesser's odds stay negligible).
const USER_CODE_CHARS: usize = 8;
/// Wrong or right, user-code entries a signed-in person may make in a window, and entries from
/// one client address (RFC 8628 §5.1: "rate-limit user code attempts").
pub const ENTRIES_PER_ACCOUNT: i64 = 10;
pub const ENTRIES_PER_ADDRESS: i64 = 30;
pub const ENTRY_WINDOW_SECONDS: i64 = 900;

/// A user code in its canonical form: eight letters of the alphabet, no separator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A fresh code from `random` bytes (rejection sampling keeps every letter equally likely:
    /// bytes from 240 up are skipped, since 256 is not a multiple of 20). `None` if the bytes ran
    /// out first, which 32 bytes make vanishingly rare; ask again.
    pub fn generate(random: &[u8]) -> Option<Self> {
        let code: String = random
            .iter()
            .filter(|b| **b < 240)
            .take(USER_CODE_CHARS)
            .map(|b| ALPHABET[usize::from(*b % 20)] as char)
            .collect();
        (code.len() == USER_CODE_CHARS).then_some(Self(code))
    }

    /// What a person typed: case, spaces and dashes do not matter (RFC 8628 §6.1).
    pub fn parse(typed: &str) -> Option<Self> {
        let code: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (code.len() == USER_CODE_CHARS && code.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(Self(code))
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As shown: two groups of four, `BDFH-JKLM`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

/// A device code as its poll finds it, before this poll is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled {
    pub expires_at: i64,
    pub interval: i64,
    pub polled_at: Option<i64>,
    pub decision: Option<Decision>,
    pub spent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "allow" => Some(Self::Allow),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }
}

/// What a poll gets (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAnswer {
    /// The tokens: the person allowed it.
    Issue,
    /// An error code for the token endpoint's answer.
    Error(&'static str),
}

/// Whether a poll at `now` comes sooner than the interval allows. A second of slack covers clocks
/// that count whole seconds; the first poll is never too soon.
pub fn too_soon(polled: &Polled, now: i64) -> bool {
    polled
        .polled_at
        .is_some_and(|last| now - last < polled.interval - 1)
}

/// The answer to a poll at `now`.
pub fn answer(polled: &Polled, now: i64) -> PollAnswer {
    if polled.spent {
        return PollAnswer::Error("invalid_grant");
    }
    if polled.expires_at <= now {
        return PollAnswer::Error("expired_token");
    }
    match polled.decision {
        Some(Decision::Deny) => PollAnswer::Error("access_denied"),
        _ if too_soon(polled, now) => PollAnswer::Error("slow_down"),
        Some(Decision::Allow) => PollAnswer::Issue,
        None => PollAnswer::Error("authorization_pending"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn polled(decision: Option<Decision>, polled_at: Option<i64>) -> Polled {
        Polled {
            expires_at: NOW + 600,
            interval: 5,
            polled_at,
            decision,
            spent: false,
        }
    }

    #[test]
    fn user_codes_are_eight_unambiguous_letters_typed_any_way() {
        let code = UserCode::generate(&[0, 19, 20, 239, 240, 255, 1, 2, 3, 4]).unwrap();
        assert_eq!(code.as_str(), "BZBZCDFG", "240 and 255 are skipped");
        assert_eq!(code.display(), "BZBZ-CDFG");
        assert_eq!(UserCode::parse("bzbz-cdfg"), Some(code.clone()));
        assert_eq!(UserCode::parse(" BZBZ CDFG "), Some(code));
        for bad in ["BZBZ-CDF", "BZBZ-CDFGH", "BZBZ-CDF0", "AEIOU-BCD", ""] {
            assert_eq!(UserCode::parse(bad), None, "{bad}");
        }
        assert_eq!(UserCode::generate(&[250; 32]), None);
    }

    #[test]
    fn every_letter_is_equally_likely() {
        let all: Vec<u8> = (0..=255).collect();
        let mut counts = [0usize; 20];
        for chunk in all.chunks(8) {
            if let Some(code) = UserCode::generate(chunk) {
                for b in code.as_str().bytes() {
                    counts[ALPHABET.iter().position(|a| *a == b).unwrap()] += 1;
                }
            }
        }
        let total: usize = (0u8..240).filter(|b| usize::from(*b) < 240).count();
        assert!(counts.iter().all(|c| *c * 20 <= total), "{counts:?}");
    }

    #[test]
    fn polls_get_pending_slow_down_denied_expired_or_the_tokens() {
        let pending = polled(None, None);
        assert_eq!(
            answer(&pending, NOW),
            PollAnswer::Error("authorization_pending")
        );
        let fast = polled(None, Some(NOW - 1));
        assert_eq!(answer(&fast, NOW), PollAnswer::Error("slow_down"));
        let paced = polled(None, Some(NOW - 4));
        assert_eq!(
            answer(&paced, NOW),
            PollAnswer::Error("authorization_pending")
        );
        assert_eq!(
            answer(&polled(Some(Decision::Allow), Some(NOW - 5)), NOW),
            PollAnswer::Issue
        );
        assert_eq!(
            answer(&polled(Some(Decision::Deny), Some(NOW)), NOW),
            PollAnswer::Error("access_denied")
        );
        let mut late = polled(Some(Decision::Allow), None);
        late.expires_at = NOW;
        assert_eq!(answer(&late, NOW), PollAnswer::Error("expired_token"));
        let mut spent = polled(Some(Decision::Allow), None);
        spent.spent = true;
        assert_eq!(answer(&spent, NOW), PollAnswer::Error("invalid_grant"));
    }
}
