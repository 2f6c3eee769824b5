//! The operator's API keys (`ADMIN_API_KEYS`, a secret): `id:key` pairs, comma-separated. The
//! admin routes exist only when it is set; a request is an admin's when its bearer is one of the
//! keys, found by comparing digests in constant time against every key (no early exit, so the
//! time says nothing about which key or how much of it matched; OWASP REST Security Cheat Sheet,
//! API keys). The key's id, never the key, is what the logs and the event trail record.

use sha2::{Digest, Sha256};

use crate::core::config_error::ConfigError;
use crate::core::secret::constant_time_eq;

/// The shortest key accepted: 32 characters (of a random base64url string, 192 bits).
pub const MIN_KEY_CHARS: usize = 32;
const VARIABLE: &str = "ADMIN_API_KEYS";

/// The configured keys, by id; only their SHA-256 digests are kept.
#[derive(Clone)]
pub struct AdminKeys {
    keys: Vec<(String, [u8; 32])>,
}

impl AdminKeys {
    /// `None` when unset or blank: the admin API is off.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, ConfigError> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let problem = |what: String| ConfigError {
            variable: VARIABLE.into(),
            problem: what,
        };
        let mut keys: Vec<(String, [u8; 32])> = Vec::new();
        for (n, entry) in raw.split(',').map(str::trim).enumerate() {
            // Entries are named by position, never by content: the value is a secret.
            let (id, key) = entry
                .split_once(':')
                .ok_or_else(|| problem(format!("entry {} is not id:key", n + 1)))?;
            let (id, key) = (id.trim(), key.trim());
            let id_ok = !id.is_empty()
                && id.len() <= 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(problem(format!(
                    "entry {}: the id must be 1 to 32 letters, digits, - or _",
                    n + 1
                )));
            }
            if key.chars().count() < MIN_KEY_CHARS {
                return Err(problem(format!(
                    "entry {} ({id}): the key must be at least {MIN_KEY_CHARS} characters",
                    n + 1
                )));
            }
            if keys.iter().any(|(known, _)| known == id) {
                return Err(problem(format!("the id {id} is listed twice")));
            }
            keys.push((id.to_owned(), Sha256::digest(key.as_bytes()).into()));
        }
        Ok(Some(Self { keys }))
    }

    /// The id of the key `presented` is, if any.
    pub fn identify(&self, presented: &str) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (id, key) in &self.keys {
            if constant_time_eq(&digest, key) && found.is_none() {
                found = Some(id.as_str());
            }
        }
        found
    }
}

impl std::fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "AdminKeys({ids:?})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPS: &str = "k3y-for-the-ops-team-0123456789abcdef";
    const CI: &str = "another-key-for-ci-0123456789abcdefgh";

    #[test]
    fn finds_the_key_and_only_its_id() {
        let keys = AdminKeys::parse(Some(&format!(" ops:{OPS} , ci:{CI} ")))
            .unwrap()
            .unwrap();
        assert_eq!(keys.identify(OPS), Some("ops"));
        assert_eq!(keys.identify(CI), Some("ci"));
        assert_eq!(
            keys.identify(&OPS[..OPS.len() - 1]),
            None,
            "a prefix is no key"
        );
        assert_eq!(keys.identify(""), None);
        assert_eq!(keys.identify("ops"), None, "an id is no key");
        assert!(!format!("{keys:?}").contains(OPS), "Debug shows ids only");
    }

    #[test]
    fn unset_is_off_and_a_bad_entry_is_named_by_position() {
        assert!(AdminKeys::parse(None).unwrap().is_none());
        assert!(AdminKeys::parse(Some("  ")).unwrap().is_none());
        let short = AdminKeys::parse(Some("ops:short")).unwrap_err();
        assert_eq!(short.variable, "ADMIN_API_KEYS");
        assert!(!short.problem.contains("short"), "{}", short.problem);
        let no_id = AdminKeys::parse(Some(OPS)).unwrap_err();
        assert!(no_id.problem.contains("entry 1"), "{}", no_id.problem);
        assert!(!no_id.problem.contains(OPS));
        assert!(AdminKeys::parse(Some(&format!("ops:{OPS},ops:{CI}"))).is_err());
        assert!(AdminKeys::parse(Some(&format!("o p:{OPS}"))).is_err());
    }
}
