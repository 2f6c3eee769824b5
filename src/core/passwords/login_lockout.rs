//! The login lockout rule: attempts are counted per (email, client address) and per account,
//! before the password is checked; this decides from those counts whether one may go ahead.

use serde::Deserialize;

/// The limits one login attempt is counted against.
#[derive(Debug, Clone, Copy)]
pub struct LockoutLimits {
    /// Failures of one email from one client before that pair is locked out (`LOGIN_MAX_FAILURES`).
    pub per_client: i64,
    /// Failures of one email from all clients within one lockout window
    /// (`LOGIN_MAX_FAILURES_PER_ACCOUNT`).
    pub per_account: i64,
    pub lockout_seconds: i64,
}

/// A count after an attempt reserved its place in it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AttemptCount {
    pub attempts: i64,
    pub locked_until: Option<i64>,
}

impl LockoutLimits {
    /// `Ok` when an attempt that reserved these places may be checked, else the seconds to wait.
    /// `account` is `None` when the pair was already locked, so the account was not counted.
    pub fn verdict(
        &self,
        pair: &AttemptCount,
        account: Option<&AttemptCount>,
        now: i64,
    ) -> Result<(), i64> {
        let wait = |c: &AttemptCount| c.locked_until.unwrap_or(now + self.lockout_seconds) - now;
        let pair_wait = (pair.attempts > self.per_client).then(|| wait(pair));
        let account_wait = match account {
            Some(a) if a.attempts > self.per_account => Some(wait(a)),
            Some(_) => None,
            None => Some(wait(pair)),
        };
        match (pair_wait, account_wait) {
            (None, None) => Ok(()),
            (a, b) => Err(a.unwrap_or(0).max(b.unwrap_or(0))),
        }
    }
}

impl LockoutLimits {
    /// Whether this refused attempt is the one that started a lockout (the first over a limit),
    /// so the event trail records a lockout once, not every refusal during it.
    pub fn begins(&self, pair: &AttemptCount, account: Option<&AttemptCount>) -> bool {
        pair.attempts == self.per_client + 1
            || account.is_some_and(|a| a.attempts == self.per_account + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: LockoutLimits = LockoutLimits {
        per_client: 10,
        per_account: 100,
        lockout_seconds: 900,
    };

    fn count(attempts: i64, locked_until: Option<i64>) -> AttemptCount {
        AttemptCount {
            attempts,
            locked_until,
        }
    }

    #[test]
    fn verdicts() {
        let now = 1_000;
        let cases = [
            (
                count(1, None),
                Some(count(1, None)),
                Ok(()),
                "first attempt",
            ),
            (
                count(10, Some(1_900)),
                Some(count(10, None)),
                Ok(()),
                "the tenth is still checked",
            ),
            (
                count(11, Some(1_900)),
                None,
                Err(900),
                "the pair is locked; the account was not counted",
            ),
            (
                count(1, None),
                Some(count(101, Some(1_600))),
                Err(600),
                "the account ceiling locks a fresh client too",
            ),
            (
                count(11, Some(1_300)),
                Some(count(101, Some(1_600))),
                Err(600),
                "the longer wait wins",
            ),
            (
                count(11, None),
                None,
                Err(900),
                "a count without a lockout time waits a whole lockout",
            ),
        ];
        for (pair, account, expected, why) in cases {
            assert_eq!(
                LIMITS.verdict(&pair, account.as_ref(), now),
                expected,
                "{why}"
            );
        }
    }
}
