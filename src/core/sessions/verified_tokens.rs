//! Access tokens this isolate has verified, remembered until they expire. An Ed25519
//! verification is most of an authenticated request's own CPU (BENCHMARKS.md); a token is the
//! same string with the same answer until its `exp`, and whether its session is still live is
//! checked in D1 on every request anyway (revocation is never cached). Bounded: when full, the
//! expired entries go, and if none has, everything.

use std::collections::HashMap;

use crate::core::sessions::access_token::Principal;

/// The most tokens remembered at once (about 150 bytes each).
pub const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: HashMap<String, (Principal, i64)>,
}

impl VerifiedTokens {
    /// The principal of `token` if it was verified here and has not expired at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<Principal> {
        self.entries
            .get(token)
            .filter(|(_, expires_at)| now < *expires_at)
            .map(|(principal, _)| principal.clone())
    }

    /// Remembers a verified token until `expires_at`.
    pub fn insert(&mut self, token: &str, principal: Principal, expires_at: i64, now: i64) {
        if self.entries.len() >= CAPACITY {
            self.entries.retain(|_, (_, until)| now < *until);
            if self.entries.len() >= CAPACITY {
                self.entries.clear();
            }
        }
        self.entries
            .insert(token.to_owned(), (principal, expires_at));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(user_id: i64) -> Principal {
        Principal {
            user_id,
            session_id: format!("s{user_id}"),
            auth_time: 0,
            amr: Vec::new(),
            org: None,
        }
    }

    #[test]
    fn remembered_until_expiry_only() {
        let mut cache = VerifiedTokens::default();
        cache.insert("a.b.c", principal(1), 1_000, 100);
        assert_eq!(cache.get("a.b.c", 999), Some(principal(1)));
        assert_eq!(cache.get("a.b.c", 1_000), None, "not at its exp");
        assert_eq!(
            cache.get("a.b.x", 500),
            None,
            "another string is another token"
        );
    }

    #[test]
    fn bounded_expired_first_then_all() {
        let mut cache = VerifiedTokens::default();
        for n in 0..CAPACITY {
            let expires_at = if n % 2 == 0 { 50 } else { 1_000 };
            cache.insert(&format!("t{n}"), principal(n as i64), expires_at, 10);
        }
        cache.insert("new", principal(-1), 1_000, 100);
        assert_eq!(cache.len(), CAPACITY / 2 + 1, "the expired half went");
        assert_eq!(cache.get("t1", 100), Some(principal(1)));
        let mut full = VerifiedTokens::default();
        for n in 0..CAPACITY {
            full.insert(&format!("t{n}"), principal(n as i64), 1_000, 10);
        }
        full.insert("new", principal(-1), 1_000, 10);
        assert_eq!(full.len(), 1, "none expired: all go");
        assert!(!full.is_empty());
    }
}
