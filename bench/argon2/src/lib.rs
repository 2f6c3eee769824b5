//! One argon2id hash at the worker's parameters (OWASP: m = 19456 KiB, t = 2, p = 1), exported
//! for wasm (`hash_n`, called from node) and used by the native binary.

use argon2::{Algorithm, Argon2, Params, Version};

/// Runs `n` hashes of a fixed password and salt; returns a byte of the last output so the work
/// cannot be optimised away.
#[no_mangle]
pub extern "C" fn hash_n(n: u32) -> u32 {
    let params = Params::new(19_456, 2, 1, Some(32)).expect("valid parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = [0u8; 32];
    for _ in 0..n {
        argon2
            .hash_password_into(b"correct horse battery staple", b"saltsaltsaltsalt", &mut out)
            .expect("hashing succeeds");
    }
    u32::from(out[0])
}
