//! Exports that sign or verify `n` access tokens, with no imports, for `tokens.mjs` to time.
//! The claims and header are those of the worker's tokens (src/core/access_token.rs).

use chrono::{DateTime, Duration};
use jwt_compact::alg::{Ed25519, Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct AccessClaims {
    sub: String,
    sid: String,
    jti: String,
    iss: String,
    aud: String,
    typ: String,
}

fn claims() -> Claims<AccessClaims> {
    let clock = TimeOptions::new(Duration::zero(), || {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    });
    Claims::new(AccessClaims {
        sub: "123456".into(),
        sid: "Zq3kR1x9V2bT8mN4pL6sW0yC5hJ7dF1gA3eK9uQ2rXo".into(),
        jti: "Hk2mP9sV4xB7nR1tY6wQ3zL8".into(),
        iss: "edge-auth".into(),
        aud: "edge-auth".into(),
        typ: "access".into(),
    })
    .set_duration_and_issuance(&clock, Duration::seconds(900))
}

fn signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

fn header(kid: bool) -> Header {
    let header = Header::empty().with_token_type("at+jwt");
    if kid {
        header.with_key_id("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    } else {
        header
    }
}

#[no_mangle]
pub extern "C" fn eddsa_sign_n(n: u32) -> u32 {
    let (key, claims) = (signing_key(), claims());
    (0..n)
        .map(|_| Ed25519.token(&header(true), &claims, &key).unwrap().len() as u32)
        .sum()
}

#[no_mangle]
pub extern "C" fn eddsa_verify_n(n: u32) -> u32 {
    let key = signing_key();
    let token = Ed25519.token(&header(true), &claims(), &key).unwrap();
    let public = key.verifying_key();
    (0..n)
        .filter(|_| {
            let untrusted = UntrustedToken::new(&token).unwrap();
            Ed25519
                .validator::<AccessClaims>(&public)
                .validate(&untrusted)
                .is_ok()
        })
        .count() as u32
}

#[no_mangle]
pub extern "C" fn hs256_sign_n(n: u32) -> u32 {
    let (key, claims) = (Hs256Key::new([9u8; 32]), claims());
    (0..n)
        .map(|_| Hs256.token(&header(false), &claims, &key).unwrap().len() as u32)
        .sum()
}

#[no_mangle]
pub extern "C" fn hs256_verify_n(n: u32) -> u32 {
    let key = Hs256Key::new([9u8; 32]);
    let token = Hs256.token(&header(false), &claims(), &key).unwrap();
    (0..n)
        .filter(|_| {
            let untrusted = UntrustedToken::new(&token).unwrap();
            Hs256
                .validator::<AccessClaims>(&key)
                .validate(&untrusted)
                .is_ok()
        })
        .count() as u32
}
