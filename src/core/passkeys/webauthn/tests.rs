//! Host tests of the WebAuthn rules: the spec's own test vectors here, built responses bent one
//! rule at a time in `registration` and `assertion`, hostile bytes in `parsing`.

mod assertion;
mod encoder;
mod fixtures;
mod parsing;
mod registration;
mod w3c;

use base64ct::{Base64UrlUnpadded, Encoding};

use super::attestation::AttestationObject;
use super::authenticator_data::AuthenticatorData;
use super::{verify_assertion, verify_registration, Assertion, RelyingParty};
use fixtures::hex;
use w3c::Vector;

/// The RP of §16's vectors.
fn example_org() -> RelyingParty {
    RelyingParty {
        id: "example.org".into(),
        origins: vec!["https://example.org".into()],
    }
}

fn register(vector: &Vector) -> Result<super::NewCredential, super::WebAuthnError> {
    verify_registration(
        &hex(vector.registration_client_data),
        &hex(vector.attestation_object),
        &Base64UrlUnpadded::encode_string(&hex(vector.registration_challenge)),
        &example_org(),
        false,
    )
}

fn authenticate(vector: &Vector, public_key: &[u8]) -> Result<Assertion, super::WebAuthnError> {
    verify_assertion(
        &hex(vector.authentication_client_data),
        &hex(vector.authenticator_data),
        &hex(vector.signature),
        public_key,
        &Base64UrlUnpadded::encode_string(&hex(vector.authentication_challenge)),
        &example_org(),
        0,
        false,
    )
}

#[test]
fn w3c_none_and_self_attested_es256_register_and_authenticate() {
    for (vector, format, aaguid, user_verified) in [
        (
            &w3c::NONE_ES256,
            "none",
            "8446ccb9ab1db374750b2367ff6f3a1f",
            false,
        ),
        (
            &w3c::PACKED_SELF_ES256,
            "packed",
            "df850e09db6afbdfab51697791506cfc",
            true,
        ),
    ] {
        let credential = register(vector).unwrap_or_else(|e| panic!("{}: {e}", vector.name));
        assert_eq!(credential.attestation_format, format, "{}", vector.name);
        assert_eq!(credential.algorithm, -7);
        assert_eq!(credential.aaguid.to_vec(), hex(aaguid));
        assert_eq!(credential.credential_id.len(), 32);
        assert_eq!(credential.user_verified, user_verified);
        assert_eq!(credential.sign_count, 0);
        let assertion = authenticate(vector, &credential.public_key)
            .unwrap_or_else(|e| panic!("{}: {e}", vector.name));
        assert_eq!(assertion.sign_count, 0);
        // The same response to another challenge is refused.
        let mut replay = vector.clone();
        replay.authentication_challenge = vector.registration_challenge;
        assert_eq!(
            authenticate(&replay, &credential.public_key).map_err(|e| e.code()),
            Err("challenge_mismatch")
        );
    }
}

#[test]
fn w3c_cross_origin_and_certificate_attestation_are_refused() {
    for (vector, code) in [
        (&w3c::NONE_ES256_CROSS_ORIGIN, "cross_origin"),
        (&w3c::PACKED_ES256, "unsupported_attestation"),
        (&w3c::PACKED_RS256, "unsupported_attestation"),
        (&w3c::PACKED_EDDSA, "unsupported_attestation"),
    ] {
        assert_eq!(
            register(vector).map_err(|e| e.code()).err(),
            Some(code),
            "{}",
            vector.name
        );
    }
}

/// RS256 and Ed25519 assertions of §16, verified with the credential keys of their (attested,
/// so refused) registrations.
#[test]
fn w3c_rs256_and_eddsa_assertions_verify() {
    for vector in [&w3c::PACKED_RS256, &w3c::PACKED_EDDSA] {
        let object_bytes = hex(vector.attestation_object);
        let object = AttestationObject::parse(&object_bytes).expect("attestation object");
        let auth_data = AuthenticatorData::parse(object.auth_data).expect("authenticator data");
        let public_key = auth_data.attested.expect("attested").public_key;
        authenticate(vector, public_key).unwrap_or_else(|e| panic!("{}: {e}", vector.name));
        let mut bent = hex(vector.signature);
        bent[10] ^= 0x80;
        let result = verify_assertion(
            &hex(vector.authentication_client_data),
            &hex(vector.authenticator_data),
            &bent,
            public_key,
            &Base64UrlUnpadded::encode_string(&hex(vector.authentication_challenge)),
            &example_org(),
            0,
            false,
        );
        assert_eq!(
            result.map_err(|e| e.code()),
            Err("bad_signature"),
            "{}",
            vector.name
        );
    }
}
