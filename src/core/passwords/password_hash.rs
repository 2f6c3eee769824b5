//! Password hashing: argon2id at OWASP's minimum, stored as PHC strings; bcrypt hashes of accounts
//! imported from the Flask API are verified until their next login replaces them.

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// OWASP Password Storage Cheat Sheet, argon2id minimum: m = 19 MiB (19456 KiB), t = 2, p = 1.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
/// The digest length of the PHC strings argon2 writes by default.
const OUTPUT_BYTES: usize = 32;

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

thread_local! {
    /// argon2's working memory (19 MiB at our parameters), allocated once per isolate and reused.
    /// Wasm memory never shrinks; a fresh 19 MiB per hash also fragments the heap (it reached
    /// 39 MiB under 32 concurrent logins) and costs a memset each time.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 with `params` into `out`, in the reused working memory.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    let blocks_needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < blocks_needed {
            blocks.resize(blocks_needed, Block::new());
        }
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                out,
                &mut blocks[..blocks_needed],
            )
            .map_err(|e| HashError(e.to_string()))
    })
}

/// Hashes `password` with a fresh 128-bit `salt` into a PHC string.
pub fn hash(password: &str, salt: [u8; 16]) -> Result<String, HashError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_BYTES))
        .expect("OWASP parameters are valid argon2 parameters");
    let mut out = [0u8; OUTPUT_BYTES];
    compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password,
        &salt,
        &mut out,
    )?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| HashError(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| HashError(e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored hash, with the parameters the hash names: an argon2 PHC
/// string, or a `$2a$`/`$2b$`/`$2y$` bcrypt hash (which, like Flask-Bcrypt, reads at most 72 bytes).
pub fn verify(password: &str, stored: &str) -> Result<bool, HashError> {
    if is_bcrypt(stored) {
        return bcrypt::verify(password, stored).map_err(|e| HashError(e.to_string()));
    }
    let parsed = PasswordHash::new(stored).map_err(|e| HashError(e.to_string()))?;
    let invalid = |e: &dyn std::fmt::Display| HashError(e.to_string());
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| invalid(&e))?;
    let version = parsed
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .map_err(|e| invalid(&e))?;
    let params = Params::try_from(&parsed).map_err(|e| invalid(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(HashError(
            "the stored hash has no salt or no digest".to_owned(),
        ));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| invalid(&e))?;
    let mut out = vec![0u8; expected.len()];
    compute(algorithm, version, params, password, salt, &mut out)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(|e| invalid(&e))? == expected)
}

/// Spends the time of one verification and always fails: the unknown-email path of a login.
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify(password, DUMMY_HASH);
    false
}

/// Whether a hash is in one of the bcrypt formats we import (`$2a$`, `$2b$`, `$2y$`).
pub fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

/// The highest bcrypt cost a login may verify. Each step doubles the work: cost 14 is about a
/// second of CPU in wasm, cost 15 two, past what a Workers request should spend, and a cost-31
/// hash would never finish (a denial of service at one login; OWASP Password Storage Cheat
/// Sheet puts the floor at 10, so real hashes sit far below this).
pub const MAX_BCRYPT_COST: u32 = 14;

/// The cost of a bcrypt hash of bcrypt's shape (60 characters, salt and digest in its base64
/// alphabet), whatever the cost; `None` for anything else.
pub fn bcrypt_cost(stored: &str) -> Option<u32> {
    let bytes = stored.as_bytes();
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/';
    if !(is_bcrypt(stored)
        && bytes.len() == 60
        && bytes[6] == b'$'
        && bytes[7..].iter().all(alphabet))
    {
        return None;
    }
    stored[4..6].parse::<u32>().ok()
}

/// Whether an imported hash can be verified: a bcrypt hash with a cost of 4 to `MAX_BCRYPT_COST`.
pub fn is_usable_bcrypt(stored: &str) -> bool {
    bcrypt_cost(stored).is_some_and(|cost| (4..=MAX_BCRYPT_COST).contains(&cost))
}

/// Whether a stored hash is argon2id at today's parameters (else it is upgraded at the next login).
pub fn is_current(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    parsed.algorithm == Algorithm::Argon2id.ident()
        && parsed.version == Some(Version::V0x13.into())
        && (params.m_cost(), params.t_cost(), params.p_cost())
            == (MEMORY_KIB, ITERATIONS, PARALLELISM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn our_phc_strings_agree_with_the_argon2_crate_both_ways() {
        let ours = hash("cross-checked password", [5; 16]).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"cross-checked password", &parsed)
            .is_ok());
        let salt = SaltString::encode_b64(&[5; 16]).unwrap();
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"cross-checked password", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs, "same salt, same parameters, same string");
    }

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

    /// Made by Python's bcrypt 5.0 (the backend of Flask-Bcrypt): `bcrypt.hashpw(b"flask-password", bcrypt.gensalt(4))`.
    const FLASK_HASH: &str = "$2b$04$hNwDnKep.H803z72aJDaZuNorzIhyC7TqoqU2nJBtr1y0u0CIPhVi";

    #[test]
    fn bcrypt_hashes_from_flask_verify() {
        assert!(verify("flask-password", FLASK_HASH).unwrap());
        assert!(!verify("flask-passwore", FLASK_HASH).unwrap());
        let as_2a = FLASK_HASH.replacen("$2b$", "$2a$", 1);
        let as_2y = FLASK_HASH.replacen("$2b$", "$2y$", 1);
        assert!(verify("flask-password", &as_2a).unwrap());
        assert!(verify("flask-password", &as_2y).unwrap());
        assert!(
            !is_current(FLASK_HASH),
            "bcrypt is upgraded at the next login"
        );
    }

    #[test]
    fn only_well_formed_bcrypt_hashes_are_importable() {
        assert!(is_usable_bcrypt(FLASK_HASH));
        let cases = [
            ("", "empty"),
            ("plaintext-password", "not a hash"),
            (&FLASK_HASH[..59], "too short"),
            (
                "$2x$04$hNwDnKep.H803z72aJDaZuNorzIhyC7TqoqU2nJBtr1y0u0CIPhVi",
                "2x variant",
            ),
            (
                "$2b$03$hNwDnKep.H803z72aJDaZuNorzIhyC7TqoqU2nJBtr1y0u0CIPhVi",
                "cost 3",
            ),
            (
                "$2b$32$hNwDnKep.H803z72aJDaZuNorzIhyC7TqoqU2nJBtr1y0u0CIPhVi",
                "cost 32",
            ),
            (
                "$2b$04$hNwDnKep.H803z72aJDaZuNorzIhyC7TqoqU2nJBtr1y0u0CIPhV!",
                "bad alphabet",
            ),
            (
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
                "argon2",
            ),
        ];
        for (hash, why) in cases {
            assert!(!is_usable_bcrypt(hash), "{why}");
        }
    }

    #[test]
    fn garbage_hashes_are_errors_not_matches() {
        assert!(verify("x", "not a hash").is_err());
    }
}
