//! §7.1 with built responses: what is accepted, and each rule refusing with its reason.

use super::fixtures::*;
use crate::core::passkeys::webauthn::{verify_registration, WebAuthnError};

#[test]
fn packed_self_attestation_is_accepted_for_both_curves() {
    for key in [Key::p256(), Key::ed25519()] {
        let registration = Registration::new(key.clone());
        let credential = registration.verify().expect("valid registration");
        assert_eq!(credential.credential_id, vec![0xc1; 16]);
        assert_eq!(credential.public_key, key.cose());
        assert_eq!(credential.algorithm, key.algorithm());
        assert_eq!(credential.sign_count, 1);
        assert_eq!(credential.aaguid, [0xa7; 16]);
        assert_eq!(credential.attestation_format, "packed");
        assert!(credential.user_verified && credential.backup_eligible && !credential.backed_up);
    }
}

#[test]
fn none_attestation_and_optional_user_verification() {
    let mut registration = Registration::none(Key::p256());
    registration.auth_data.flags = UP | BE | BS | AT;
    let (client_data, object) = registration.build();
    let credential = verify_registration(&client_data, &object, CHALLENGE, &rp(), false)
        .expect("UV is not required");
    assert_eq!(credential.attestation_format, "none");
    assert!(!credential.user_verified && credential.backed_up);
}

#[test]
fn extensions_and_longest_credential_id_are_accepted() {
    let mut registration = Registration::new(Key::ed25519());
    registration.auth_data.flags |= ED;
    registration.auth_data.extensions = Some(
        Cbor::Map(vec![
            (text("credProtect"), Cbor::Int(2)),
            (text("hmac-secret"), Cbor::Bool(true)),
        ])
        .encode(),
    );
    registration.attested().credential_id = vec![0x5a; 1023];
    let credential = registration.verify().expect("valid registration");
    assert_eq!(credential.credential_id.len(), 1023);
}

/// Each case bends one rule of a valid registration.
#[test]
fn each_rule_refuses_with_its_reason() {
    type Bend = fn(&mut Registration);
    let cases: &[(&str, Bend, &str)] = &[
        (
            "an assertion's client data",
            |r| r.client_data.kind = "webauthn.get".into(),
            "type_mismatch",
        ),
        (
            "another challenge",
            |r| r.client_data.challenge = "AAAA".into(),
            "challenge_mismatch",
        ),
        (
            "the challenge with padding",
            |r| r.client_data.challenge = format!("{CHALLENGE}="),
            "challenge_mismatch",
        ),
        (
            "another origin",
            |r| r.client_data.origin = "https://evil.example".into(),
            "origin_mismatch",
        ),
        (
            "an origin differing in scheme",
            |r| r.client_data.origin = "http://app.example.com".into(),
            "origin_mismatch",
        ),
        (
            "crossOrigin true",
            |r| r.client_data.extra = r#","crossOrigin":true"#.into(),
            "cross_origin",
        ),
        (
            "client data that is not JSON",
            |r| r.client_data.extra = ",".into(),
            "malformed",
        ),
        (
            "another RP ID",
            |r| r.auth_data.rp_id = "evil.example".into(),
            "rp_id_mismatch",
        ),
        (
            "no user presence",
            |r| r.auth_data.flags &= !UP,
            "user_not_present",
        ),
        (
            "no user verification when required",
            |r| r.auth_data.flags &= !UV,
            "user_not_verified",
        ),
        (
            "BS without BE",
            |r| r.auth_data.flags = (r.auth_data.flags & !BE) | BS,
            "malformed",
        ),
        (
            "no attested credential data",
            |r| {
                r.auth_data.flags &= !AT;
                r.auth_data.attested = None;
            },
            "malformed",
        ),
        (
            "a credential ID of 1024 bytes",
            |r| r.attested().credential_id = vec![1; 1024],
            "malformed",
        ),
        (
            "an empty credential ID",
            |r| r.attested().credential_id = vec![],
            "malformed",
        ),
        (
            "ED flag without extensions",
            |r| r.auth_data.flags |= ED,
            "malformed",
        ),
        (
            "extensions that are not a map",
            |r| {
                r.auth_data.flags |= ED;
                r.auth_data.extensions = Some(Cbor::Int(1).encode());
            },
            "malformed",
        ),
        (
            "extensions without the ED flag",
            |r| r.auth_data.extensions = Some(Cbor::Map(vec![]).encode()),
            "malformed",
        ),
        (
            "bytes after the authenticator data",
            |r| r.auth_data.trailing = vec![0],
            "malformed",
        ),
        (
            "bytes after the attestation object",
            |r| r.trailing = vec![0],
            "malformed",
        ),
        (
            "an ES384 credential key",
            |r| {
                let mut map = r.key.cose_map();
                map[1].1 = Cbor::Int(-35);
                r.attested().public_key = Cbor::Map(map).encode();
            },
            "unsupported_algorithm",
        ),
        (
            "a P-256 point off the curve",
            |r| {
                let mut map = r.key.cose_map();
                map[4].1 = Cbor::Bytes(vec![0x01; 32]);
                r.attested().public_key = Cbor::Map(map).encode();
            },
            "malformed",
        ),
        (
            "fido-u2f attestation",
            |r| r.format = "fido-u2f".into(),
            "unsupported_attestation",
        ),
        (
            "packed with a certificate chain",
            |r| {
                r.statement = Statement::Raw(Cbor::Map(vec![
                    (text("alg"), Cbor::Int(-7)),
                    (text("sig"), Cbor::Bytes(vec![0; 70])),
                    (text("x5c"), Cbor::Array(vec![Cbor::Bytes(vec![0x30; 8])])),
                ]))
            },
            "unsupported_attestation",
        ),
        (
            "packed self attestation under another alg",
            |r| r.statement = Statement::PackedSelf { alg: -257 },
            "attestation_invalid",
        ),
        (
            "packed self attestation with a wrong signature",
            |r| {
                r.statement = Statement::Raw(Cbor::Map(vec![
                    (text("alg"), Cbor::Int(-7)),
                    (text("sig"), Cbor::Bytes(r.key.sign(b"something else"))),
                ]))
            },
            "attestation_invalid",
        ),
        (
            "packed without sig",
            |r| r.statement = Statement::Raw(Cbor::Map(vec![(text("alg"), Cbor::Int(-7))])),
            "attestation_invalid",
        ),
        (
            "none with a statement",
            |r| {
                r.format = "none".into();
                r.statement = Statement::Raw(Cbor::Map(vec![(text("alg"), Cbor::Int(-7))]));
            },
            "attestation_invalid",
        ),
    ];
    for (why, bend, code) in cases {
        let mut registration = Registration::new(Key::p256());
        bend(&mut registration);
        match registration.verify() {
            Err(error) => assert_eq!(error.code(), *code, "{why}: {error}"),
            Ok(_) => panic!("{why}: accepted"),
        }
    }
}

#[test]
fn errors_name_what_was_expected() {
    let mut registration = Registration::new(Key::p256());
    registration.client_data.origin = "https://evil.example".into();
    assert_eq!(
        registration.verify(),
        Err(WebAuthnError::Origin {
            expected: rp().origins,
            got: "https://evil.example".into()
        })
    );
    let mut registration = Registration::new(Key::p256());
    registration.client_data.kind = "webauthn.get".into();
    assert_eq!(
        registration.verify(),
        Err(WebAuthnError::Type {
            expected: "webauthn.create",
            got: "webauthn.get".into()
        })
    );
    let mut registration = Registration::new(Key::p256());
    registration.auth_data.rp_id = "evil.example".into();
    let error = registration.verify().expect_err("another RP ID");
    assert_eq!(
        error,
        WebAuthnError::RpIdHash {
            expected_rp_id: RP_ID.into()
        }
    );
    assert!(error.to_string().contains(RP_ID), "{error}");
}
