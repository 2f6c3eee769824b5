//! §7.2 with built responses: what is accepted, and each rule refusing with its reason.

use super::fixtures::*;
use crate::core::passkeys::webauthn::{verify_assertion, Assertion, WebAuthnError};

#[test]
fn assertions_by_both_curves_are_accepted() {
    for key in [Key::p256(), Key::ed25519()] {
        let assertion = Authentication::new(key).verify().expect("valid assertion");
        assert_eq!(
            assertion,
            Assertion {
                sign_count: 8,
                user_verified: true,
                backed_up: false,
                backup_eligible: false,
            }
        );
    }
}

#[test]
fn counters_that_stay_zero_and_skipped_extensions_are_accepted() {
    let mut authentication = Authentication::new(Key::p256());
    authentication.stored_sign_count = 0;
    authentication.auth_data.sign_count = 0;
    authentication.auth_data.flags = UP | BE | BS | ED;
    authentication.auth_data.extensions = Some(
        Cbor::Map(vec![(
            text("largeBlobKey"),
            Cbor::Array(vec![Cbor::Bytes(vec![7; 32])]),
        )])
        .encode(),
    );
    let (client_data, auth_data, signature) = authentication.build();
    let assertion = verify_assertion(
        &client_data,
        &auth_data,
        &signature,
        &authentication.stored_key,
        CHALLENGE,
        &rp(),
        0,
        false,
    )
    .expect("UV not required, counter 0 and 0");
    assert!(assertion.backed_up && assertion.backup_eligible && !assertion.user_verified);
}

/// Each case bends one rule of a valid assertion.
#[test]
fn each_rule_refuses_with_its_reason() {
    type Bend = fn(&mut Authentication);
    let cases: &[(&str, Bend, &str)] = &[
        (
            "a registration's client data",
            |a| a.client_data.kind = "webauthn.create".into(),
            "type_mismatch",
        ),
        (
            "another challenge",
            |a| a.client_data.challenge = "AAAA".into(),
            "challenge_mismatch",
        ),
        (
            "another origin",
            |a| a.client_data.origin = "https://app.example.com.evil".into(),
            "origin_mismatch",
        ),
        (
            "crossOrigin true",
            |a| a.client_data.extra = r#","crossOrigin":true"#.into(),
            "cross_origin",
        ),
        (
            "type given twice, once not a string",
            |a| a.client_data.kind = r#"",  "type":1, "x":""#.into(),
            "malformed",
        ),
        (
            "another RP ID",
            |a| a.auth_data.rp_id = "example.org".into(),
            "rp_id_mismatch",
        ),
        (
            "no user presence",
            |a| a.auth_data.flags &= !UP,
            "user_not_present",
        ),
        (
            "no user verification when required",
            |a| a.auth_data.flags &= !UV,
            "user_not_verified",
        ),
        ("BS without BE", |a| a.auth_data.flags |= BS, "malformed"),
        (
            "a signature off by one bit",
            |a| a.corrupt_signature = true,
            "bad_signature",
        ),
        (
            "a signature by another key",
            |a| a.stored_key = Key::ed25519().cose(),
            "bad_signature",
        ),
        (
            "the counter unchanged",
            |a| a.auth_data.sign_count = a.stored_sign_count,
            "sign_count_regressed",
        ),
        (
            "the counter going back",
            |a| a.auth_data.sign_count = 3,
            "sign_count_regressed",
        ),
        (
            "the counter reset to zero",
            |a| a.auth_data.sign_count = 0,
            "sign_count_regressed",
        ),
        (
            "bytes after the authenticator data",
            |a| a.auth_data.trailing = vec![0],
            "malformed",
        ),
        (
            "a stored key that is not COSE",
            |a| a.stored_key = vec![0xa0, 0x00],
            "malformed",
        ),
    ];
    for (why, bend, code) in cases {
        let mut authentication = Authentication::new(Key::p256());
        bend(&mut authentication);
        match authentication.verify() {
            Err(error) => assert_eq!(error.code(), *code, "{why}: {error}"),
            Ok(_) => panic!("{why}: accepted"),
        }
    }
}

#[test]
fn a_regressed_counter_names_both_values() {
    let mut authentication = Authentication::new(Key::ed25519());
    authentication.auth_data.sign_count = 5;
    assert_eq!(
        authentication.verify(),
        Err(WebAuthnError::SignCountRegressed { stored: 7, got: 5 })
    );
}
