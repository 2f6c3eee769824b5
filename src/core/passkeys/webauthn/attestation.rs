//! Attestation objects (WebAuthn §6.5.4) and the two statement formats we accept: `none` (§8.7)
//! and `packed` self-attestation (§8.2). We keep no attestation trust roots, so a statement
//! signed by an attestation certificate (`x5c`) and every other format are refused rather than
//! half-checked.

use super::cbor::{self, Value};
use super::cose::CredentialKey;
use super::WebAuthnError;

/// The three members of an attestation object.
#[derive(Debug)]
pub(super) struct AttestationObject<'a> {
    pub format: &'a str,
    pub statement: Value<'a>,
    pub auth_data: &'a [u8],
}

impl<'a> AttestationObject<'a> {
    /// Parses `bytes`: one CBOR map with `fmt`, `attStmt` and `authData`, nothing after it.
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, WebAuthnError> {
        let map = cbor::decode(bytes).map_err(WebAuthnError::Malformed)?;
        let Value::Map(entries) = map else {
            return Err(WebAuthnError::Malformed("attestation object is not a map"));
        };
        let (mut format, mut statement, mut auth_data) = (None, None, None);
        for (key, value) in entries {
            match (key, value) {
                (Value::Text("fmt"), Value::Text(text)) => format = Some(text),
                (Value::Text("attStmt"), value @ Value::Map(_)) => statement = Some(value),
                (Value::Text("authData"), Value::Bytes(bytes)) => auth_data = Some(bytes),
                (Value::Text("fmt" | "attStmt" | "authData"), _) => {
                    return Err(WebAuthnError::Malformed(
                        "attestation object member of wrong type",
                    ))
                }
                _ => {}
            }
        }
        match (format, statement, auth_data) {
            (Some(format), Some(statement), Some(auth_data)) => Ok(Self {
                format,
                statement,
                auth_data,
            }),
            _ => Err(WebAuthnError::Malformed(
                "attestation object lacks fmt, attStmt or authData",
            )),
        }
    }

    /// Verifies the statement for the credential `key` it attests, over `client_data_hash`.
    pub(super) fn verify(
        &self,
        key: &CredentialKey,
        client_data_hash: &[u8],
    ) -> Result<(), WebAuthnError> {
        let entries = self.statement.entries().unwrap_or_default();
        match self.format {
            // §8.7: the statement is an empty map.
            "none" if entries.is_empty() => Ok(()),
            "none" => Err(WebAuthnError::Attestation(
                "none attestation with a statement",
            )),
            "packed" if self.statement.get_text("x5c").is_some() => Err(
                WebAuthnError::UnsupportedAttestation("packed with x5c".to_owned()),
            ),
            "packed" => self.verify_packed_self(key, client_data_hash),
            other => Err(WebAuthnError::UnsupportedAttestation(other.to_owned())),
        }
    }

    /// §8.2.2, self attestation: `alg` is the credential's, and `sig` is the credential key's
    /// signature over authenticatorData ‖ clientDataHash.
    fn verify_packed_self(
        &self,
        key: &CredentialKey,
        client_data_hash: &[u8],
    ) -> Result<(), WebAuthnError> {
        let Some(Value::Int(alg)) = self.statement.get_text("alg") else {
            return Err(WebAuthnError::Attestation(
                "packed statement has no integer alg",
            ));
        };
        let Some(Value::Bytes(signature)) = self.statement.get_text("sig") else {
            return Err(WebAuthnError::Attestation("packed statement has no sig"));
        };
        if *alg != i128::from(key.algorithm()) {
            return Err(WebAuthnError::Attestation(
                "packed alg differs from the credential's",
            ));
        }
        let signed = [self.auth_data, client_data_hash].concat();
        if key.verifies(&signed, signature) {
            Ok(())
        } else {
            Err(WebAuthnError::Attestation(
                "packed self-attestation signature does not verify",
            ))
        }
    }
}
