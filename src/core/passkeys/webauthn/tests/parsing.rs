//! The decoders on hostile bytes: every refusal is an error, never a panic or a huge allocation.

use super::fixtures::*;
use crate::core::passkeys::webauthn::authenticator_data::AuthenticatorData;
use crate::core::passkeys::webauthn::cbor::{decode, decode_prefix, Value};
use crate::core::passkeys::webauthn::cose::CredentialKey;
use crate::core::passkeys::webauthn::{verify_assertion, verify_registration, WebAuthnError};

#[test]
fn cbor_decodes_what_webauthn_uses() {
    let encoded = Cbor::Map(vec![
        (Cbor::Int(-257), Cbor::Bytes(vec![1, 2])),
        (
            text("k"),
            Cbor::Array(vec![Cbor::Bool(true), Cbor::Int(1 << 40)]),
        ),
    ])
    .encode();
    let value = decode(&encoded).expect("valid CBOR");
    assert_eq!(value.get_int(-257), Some(&Value::Bytes(&[1, 2])));
    assert_eq!(
        value.get_text("k"),
        Some(&Value::Array(vec![Value::Bool(true), Value::Int(1 << 40)]))
    );
    let (first, rest) = decode_prefix(&[0x01, 0x02]).expect("prefix");
    assert_eq!((first, rest), (Value::Int(1), &[0x02][..]));
    assert_eq!(
        decode(&[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Ok(Value::Int(-(1i128 << 64)))
    );
}

#[test]
fn cbor_refuses_hostile_input() {
    let deep = [vec![0x81; 200], vec![0x00]].concat();
    let cases: &[(&str, Vec<u8>)] = &[
        ("empty input", vec![]),
        ("trailing bytes", vec![0x00, 0x00]),
        ("a truncated argument", vec![0x19, 0x01]),
        (
            "bytes claiming 2^64 - 1 long",
            [vec![0x5b], vec![0xff; 8]].concat(),
        ),
        (
            "an array claiming 2^32 items",
            vec![0x9a, 0xff, 0xff, 0xff, 0xff, 0x00],
        ),
        (
            "a map claiming more entries than bytes",
            vec![0xa3, 0x01, 0x02],
        ),
        ("a map of 33 entries", {
            let mut map = vec![0xb8, 33];
            (0..33u8).for_each(|i| map.extend([0x18, i, 0x00]));
            map
        }),
        ("an array of 17 items, each there", {
            let mut array = vec![0x91];
            array.extend([0x00; 17]);
            array
        }),
        ("an array of 20,000 items, each there", {
            let mut array = vec![0x99, 0x4e, 0x20];
            array.extend([0x00; 20_000]);
            array
        }),
        ("indefinite-length bytes", vec![0x5f, 0x41, 0x00, 0xff]),
        ("an indefinite map", vec![0xbf, 0x01, 0x02, 0xff]),
        ("a reserved argument width", vec![0x1c]),
        ("a tag", vec![0xc2, 0x41, 0x01]),
        ("null", vec![0xf6]),
        ("a half float", vec![0xf9, 0x3c, 0x00]),
        ("text that is not UTF-8", vec![0x62, 0xc3, 0x28]),
        ("a duplicate key", vec![0xa2, 0x01, 0x00, 0x01, 0x01]),
        ("arrays nested 200 deep", deep),
    ];
    for (why, bytes) in cases {
        assert!(decode(bytes).is_err(), "{why}");
    }
}

fn rsa_key(modulus_bytes: usize) -> Vec<u8> {
    let mut n = vec![0xff; modulus_bytes];
    n[modulus_bytes - 1] = 0xfb;
    Cbor::Map(vec![
        (Cbor::Int(1), Cbor::Int(3)),
        (Cbor::Int(3), Cbor::Int(-257)),
        (Cbor::Int(-1), Cbor::Bytes(n)),
        (Cbor::Int(-2), Cbor::Bytes(vec![1, 0, 1])),
    ])
    .encode()
}

#[test]
fn cose_keys_must_fit_their_algorithm() {
    let p256 = Key::p256().cose_map();
    let ed25519 = Key::ed25519().cose_map();
    let with = |map: &[(Cbor, Cbor)], index: usize, value: Cbor| {
        let mut map = map.to_vec();
        map[index].1 = value;
        Cbor::Map(map).encode()
    };
    let without = |map: &[(Cbor, Cbor)], index: usize| {
        let mut map = map.to_vec();
        map.remove(index);
        Cbor::Map(map).encode()
    };
    assert!(CredentialKey::parse(&rsa_key(256)).is_ok(), "RSA-2048");
    let cases: &[(&str, Vec<u8>, WebAuthnError)] = &[
        (
            "not a map",
            Cbor::Int(1).encode(),
            WebAuthnError::Malformed("COSE key is not a map"),
        ),
        (
            "no alg",
            without(&p256, 1),
            WebAuthnError::Malformed("COSE key has no integer alg"),
        ),
        (
            "ES384",
            with(&p256, 1, Cbor::Int(-35)),
            WebAuthnError::UnsupportedAlgorithm(-35),
        ),
        (
            "ES256 on an OKP key",
            with(&p256, 0, Cbor::Int(1)),
            WebAuthnError::Malformed("COSE key type is not EC2 for ES256"),
        ),
        (
            "ES256 on P-384",
            with(&p256, 2, Cbor::Int(2)),
            WebAuthnError::Malformed("COSE curve is not P-256"),
        ),
        (
            "a short x",
            with(&p256, 3, Cbor::Bytes(vec![1; 31])),
            WebAuthnError::Malformed("P-256 x is not 32 bytes"),
        ),
        (
            "a compressed y",
            with(&p256, 4, Cbor::Bool(true)),
            WebAuthnError::Malformed("P-256 y is not 32 bytes"),
        ),
        (
            "EdDSA on X25519",
            with(&ed25519, 2, Cbor::Int(4)),
            WebAuthnError::Malformed("COSE curve is not Ed25519"),
        ),
        (
            "EdDSA without x",
            without(&ed25519, 3),
            WebAuthnError::Malformed("Ed25519 x is not 32 bytes"),
        ),
        (
            "RSA-1024",
            rsa_key(128),
            WebAuthnError::Malformed("RSA modulus below 2048 bits"),
        ),
        (
            "RSA-8192",
            rsa_key(1024),
            WebAuthnError::Malformed("RSA key refused (size or exponent)"),
        ),
        (
            "bytes after the key",
            [Key::p256().cose(), vec![0]].concat(),
            WebAuthnError::Malformed("trailing bytes after CBOR item"),
        ),
    ];
    for (why, bytes, expected) in cases {
        assert_eq!(
            CredentialKey::parse(bytes).err().as_ref(),
            Some(expected),
            "{why}"
        );
    }
}

#[test]
fn every_truncation_is_refused() {
    let (client_data, object) = Registration::new(Key::p256()).build();
    for end in 0..object.len() {
        assert!(
            verify_registration(&client_data, &object[..end], CHALLENGE, &rp(), true).is_err(),
            "attestation object cut at {end}"
        );
    }
    let authentication = Authentication::new(Key::p256());
    let (client_data, auth_data, signature) = authentication.build();
    for end in 0..auth_data.len() {
        assert!(
            AuthenticatorData::parse(&auth_data[..end]).is_err(),
            "cut at {end}"
        );
        assert!(
            verify_assertion(
                &client_data,
                &auth_data[..end],
                &signature,
                &authentication.stored_key,
                CHALLENGE,
                &rp(),
                0,
                true
            )
            .is_err(),
            "authenticator data cut at {end}"
        );
    }
    for end in 0..client_data.len() {
        assert!(
            verify_assertion(
                &client_data[..end],
                &auth_data,
                &signature,
                &authentication.stored_key,
                CHALLENGE,
                &rp(),
                0,
                true
            )
            .is_err(),
            "client data cut at {end}"
        );
    }
}

/// Flipping a bit of any byte (a different bit from byte to byte, to keep the run short) must
/// not panic; in signed authenticator data it must fail.
#[test]
fn every_bit_flip_is_survived() {
    let (client_data, object) = Registration::new(Key::ed25519()).build();
    for index in 0..object.len() {
        let mut bent = object.clone();
        bent[index] ^= 1 << (index % 8);
        let _ = verify_registration(&client_data, &bent, CHALLENGE, &rp(), true);
    }
    let authentication = Authentication::new(Key::ed25519());
    let (client_data, auth_data, signature) = authentication.build();
    for index in 0..auth_data.len() {
        for bit in 0..8 {
            let mut bent = auth_data.clone();
            bent[index] ^= 1 << bit;
            let result = verify_assertion(
                &client_data,
                &bent,
                &signature,
                &authentication.stored_key,
                CHALLENGE,
                &rp(),
                7,
                false,
            );
            assert!(result.is_err(), "authenticator data byte {index} bit {bit}");
        }
    }
}

#[test]
fn codes_are_distinct_snake_case() {
    let errors = [
        WebAuthnError::Type {
            expected: "webauthn.get",
            got: String::new(),
        },
        WebAuthnError::Challenge,
        WebAuthnError::Origin {
            expected: vec![],
            got: String::new(),
        },
        WebAuthnError::CrossOrigin,
        WebAuthnError::RpIdHash {
            expected_rp_id: String::new(),
        },
        WebAuthnError::UserNotPresent,
        WebAuthnError::UserNotVerified,
        WebAuthnError::SignCountRegressed { stored: 1, got: 1 },
        WebAuthnError::UnsupportedAttestation(String::new()),
        WebAuthnError::Attestation(""),
        WebAuthnError::UnsupportedAlgorithm(0),
        WebAuthnError::BadSignature,
        WebAuthnError::Malformed(""),
    ];
    let mut codes: Vec<_> = errors.iter().map(WebAuthnError::code).collect();
    assert!(codes
        .iter()
        .all(|code| code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
}
