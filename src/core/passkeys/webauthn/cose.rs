//! Credential public keys as COSE_Key maps (RFC 9052 §7, RFC 9053 §7, RFC 8230 §4), and the
//! signatures they verify. Only the algorithms passkeys use: ES256, EdDSA (Ed25519) and RS256.

use p256::ecdsa::signature::Verifier as _;
use sha2::{Digest, Sha256};

use super::cbor::{self, Value};
use super::WebAuthnError;

/// COSE algorithm identifiers (IANA "COSE Algorithms").
pub const ES256: i64 = -7;
pub const EDDSA: i64 = -8;
pub const RS256: i64 = -257;

/// Common and key-type labels (RFC 9052 §7.1, RFC 9053 §7.1–7.2, RFC 8230 §4).
const KTY: i128 = 1;
const ALG: i128 = 3;
const CRV_OR_N: i128 = -1;
const X_OR_E: i128 = -2;
const Y: i128 = -3;

const KTY_OKP: i128 = 1;
const KTY_EC2: i128 = 2;
const KTY_RSA: i128 = 3;
const CRV_P256: i128 = 1;
const CRV_ED25519: i128 = 6;

/// RSA moduli below 2048 bits are refused (NIST SP 800-131A Rev. 2 §2); the rsa crate refuses
/// above 4096, which also bounds the cost of a verification.
const MIN_RSA_BITS: usize = 2048;

/// A credential public key, checked to be a valid key of its algorithm.
#[derive(Debug)]
pub(super) enum CredentialKey {
    Es256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rs256(rsa::RsaPublicKey),
}

impl CredentialKey {
    /// Parses the COSE_Key `bytes` (one CBOR map, nothing after it).
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, WebAuthnError> {
        let map = cbor::decode(bytes).map_err(WebAuthnError::Malformed)?;
        if map.entries().is_none() {
            return Err(WebAuthnError::Malformed("COSE key is not a map"));
        }
        // WebAuthn §5.8.5: the key MUST carry its `alg`.
        let algorithm = match map.get_int(ALG) {
            Some(Value::Int(alg)) => i64::try_from(*alg)
                .map_err(|_| WebAuthnError::Malformed("COSE alg out of range"))?,
            _ => return Err(WebAuthnError::Malformed("COSE key has no integer alg")),
        };
        let kty = map.get_int(KTY);
        match algorithm {
            ES256 => {
                expect_int(kty, KTY_EC2, "COSE key type is not EC2 for ES256")?;
                expect_int(map.get_int(CRV_OR_N), CRV_P256, "COSE curve is not P-256")?;
                // §5.8.5: EC2 keys are uncompressed (y a byte string, not a sign bit).
                let x = bytes_of_len(map.get_int(X_OR_E), 32, "P-256 x is not 32 bytes")?;
                let y = bytes_of_len(map.get_int(Y), 32, "P-256 y is not 32 bytes")?;
                let mut point = [0u8; 65];
                point[0] = 0x04;
                point[1..33].copy_from_slice(x);
                point[33..].copy_from_slice(y);
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map(Self::Es256)
                    .map_err(|_| WebAuthnError::Malformed("P-256 key is not a point on the curve"))
            }
            EDDSA => {
                expect_int(kty, KTY_OKP, "COSE key type is not OKP for EdDSA")?;
                expect_int(
                    map.get_int(CRV_OR_N),
                    CRV_ED25519,
                    "COSE curve is not Ed25519",
                )?;
                let x = bytes_of_len(map.get_int(X_OR_E), 32, "Ed25519 x is not 32 bytes")?;
                let x: &[u8; 32] = x
                    .try_into()
                    .map_err(|_| WebAuthnError::Malformed("Ed25519 x is not 32 bytes"))?;
                ed25519_dalek::VerifyingKey::from_bytes(x)
                    .map(Self::Ed25519)
                    .map_err(|_| WebAuthnError::Malformed("Ed25519 key is not a curve point"))
            }
            RS256 => {
                expect_int(kty, KTY_RSA, "COSE key type is not RSA for RS256")?;
                let n = byte_string(map.get_int(CRV_OR_N), "RSA key has no n")?;
                let e = byte_string(map.get_int(X_OR_E), "RSA key has no e")?;
                let n = rsa::BigUint::from_bytes_be(n);
                if n.bits() < MIN_RSA_BITS {
                    return Err(WebAuthnError::Malformed("RSA modulus below 2048 bits"));
                }
                rsa::RsaPublicKey::new(n, rsa::BigUint::from_bytes_be(e))
                    .map(Self::Rs256)
                    .map_err(|_| WebAuthnError::Malformed("RSA key refused (size or exponent)"))
            }
            other => Err(WebAuthnError::UnsupportedAlgorithm(other)),
        }
    }

    /// The COSE algorithm of the key.
    pub(super) fn algorithm(&self) -> i64 {
        match self {
            Self::Es256(_) => ES256,
            Self::Ed25519(_) => EDDSA,
            Self::Rs256(_) => RS256,
        }
    }

    /// Whether `signature` signs `message` under this key: ES256 signatures are ASN.1 DER
    /// (WebAuthn §6.5.6), Ed25519 ones the 64 raw bytes, RS256 ones PKCS#1 v1.5 over SHA-256.
    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            // High-S signatures are accepted: ECDSA over P-256 does not require low S, and
            // authenticators produce both.
            Self::Es256(key) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            // verify_strict refuses small-order keys and non-canonical signatures.
            Self::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok()),
            Self::Rs256(key) => key
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(message),
                    signature,
                )
                .is_ok(),
        }
    }
}

fn expect_int(
    value: Option<&Value<'_>>,
    expected: i128,
    why: &'static str,
) -> Result<(), WebAuthnError> {
    match value {
        Some(Value::Int(got)) if *got == expected => Ok(()),
        _ => Err(WebAuthnError::Malformed(why)),
    }
}

fn byte_string<'a>(
    value: Option<&Value<'a>>,
    why: &'static str,
) -> Result<&'a [u8], WebAuthnError> {
    match value {
        Some(Value::Bytes(bytes)) => Ok(bytes),
        _ => Err(WebAuthnError::Malformed(why)),
    }
}

fn bytes_of_len<'a>(
    value: Option<&Value<'a>>,
    length: usize,
    why: &'static str,
) -> Result<&'a [u8], WebAuthnError> {
    byte_string(value, why).and_then(|bytes| {
        if bytes.len() == length {
            Ok(bytes)
        } else {
            Err(WebAuthnError::Malformed(why))
        }
    })
}
