//! Password hashing: argon2id at OWASP's minimum, stored as PHC strings.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP Password Storage Cheat Sheet, argon2id minimum: m = 19 MiB (19456 KiB), t = 2, p = 1.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// The hash of a random password nobody knows, at the same parameters. A login for an unknown
/// email is verified against it so that it costs what a wrong password costs (OWASP
/// Authentication Cheat Sheet, "Authentication Responses").
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$JzYSQSw7MEtRcZcKQkg/Zw$8QNDdoKUacSgoCLQHQ0/VJ9Pdp9TIWeqkTynG9dyGRk";

/// A failure to hash (never expected with fixed parameters) or to read a stored hash.
#[derive(Debug)]
pub struct HashError(String);

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "password hash: {}", self.0)
    }
}

impl std::error::Error for HashError {}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("OWASP parameters are valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with a fresh 128-bit `salt` into a PHC string.
pub fn hash(password: &str, salt: [u8; 16]) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored PHC string, with the parameters the string names.
pub fn verify(password: &str, stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|e| HashError(e.to_string()))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(HashError(e.to_string())),
    }
}

/// Spends the time of one verification and always fails: the unknown-email path of a login.
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify(password, DUMMY_HASH);
    false
}

/// Whether a stored hash is argon2id at today's parameters (else it is upgraded at the next login).
pub fn is_current(stored: &str) -> bool {
    stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_at_owasp_parameters() {
        let stored = hash("correct horse battery", [7; 16]).unwrap();
        assert!(is_current(&stored), "{stored}");
        assert!(verify("correct horse battery", &stored).unwrap());
        assert!(!verify("correct horse batterY", &stored).unwrap());
    }

    #[test]
    fn the_same_password_gets_different_hashes_with_different_salts() {
        assert_ne!(
            hash("pw-pw-pw-pw", [1; 16]).unwrap(),
            hash("pw-pw-pw-pw", [2; 16]).unwrap()
        );
    }

    #[test]
    fn verification_follows_the_stored_parameters() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[3; 16]).unwrap();
        let stored = weak
            .hash_password(b"older-password", &salt)
            .unwrap()
            .to_string();
        assert!(verify("older-password", &stored).unwrap());
        assert!(!is_current(&stored));
    }

    #[test]
    fn the_dummy_hash_has_the_real_parameters() {
        assert!(is_current(DUMMY_HASH));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_dummy("anything"));
    }

    #[test]
    fn garbage_hashes_are_errors_not_matches() {
        assert!(verify("x", "not a hash").is_err());
    }
}
