//! Why a WebAuthn response was refused: precise enough for the API's error and the log line.

use std::fmt;

/// A refused registration or assertion. [`WebAuthnError::code`] is the stable reason for the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAuthnError {
    /// `clientDataJSON.type` is not the ceremony's (§7.1, §7.2).
    Type { expected: &'static str, got: String },
    /// `clientDataJSON.challenge` is not the one we issued (§7.1).
    Challenge,
    /// `clientDataJSON.origin` is none of the configured origins (§7.1).
    Origin { expected: Vec<String>, got: String },
    /// `crossOrigin: true`: the ceremony ran in an iframe of another site (§7.1); we
    /// never ask for that, so it is refused rather than checked against a `topOrigin`.
    CrossOrigin,
    /// The authenticator data is for another RP ID (§7.1).
    RpIdHash { expected_rp_id: String },
    /// The UP flag is not set (§7.1).
    UserNotPresent,
    /// The UV flag is not set and we require user verification (§7.1).
    UserNotVerified,
    /// The signature counter did not grow: a sign of a cloned authenticator (§7.2).
    SignCountRegressed { stored: u32, got: u32 },
    /// An attestation format (or a form of one) we do not accept.
    UnsupportedAttestation(String),
    /// An attestation statement of a format we accept that does not verify.
    Attestation(&'static str),
    /// A COSE algorithm other than ES256 (-7), EdDSA (-8) and RS256 (-257).
    UnsupportedAlgorithm(i64),
    /// The assertion signature does not verify with the stored key (§7.2).
    BadSignature,
    /// Bytes that are not what the spec says they are.
    Malformed(&'static str),
}

impl WebAuthnError {
    /// A short, stable, snake_case reason, for the API's `error` field and the logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Type { .. } => "type_mismatch",
            Self::Challenge => "challenge_mismatch",
            Self::Origin { .. } => "origin_mismatch",
            Self::CrossOrigin => "cross_origin",
            Self::RpIdHash { .. } => "rp_id_mismatch",
            Self::UserNotPresent => "user_not_present",
            Self::UserNotVerified => "user_not_verified",
            Self::SignCountRegressed { .. } => "sign_count_regressed",
            Self::UnsupportedAttestation(_) => "unsupported_attestation",
            Self::Attestation(_) => "attestation_invalid",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::BadSignature => "bad_signature",
            Self::Malformed(_) => "malformed",
        }
    }
}

impl fmt::Display for WebAuthnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Type { expected, got } => {
                write!(f, "clientDataJSON type is {got:?}, expected {expected:?}")
            }
            Self::Challenge => f.write_str("clientDataJSON challenge is not the one issued"),
            Self::Origin { expected, got } => {
                write!(f, "origin {got:?} is not one of {expected:?}")
            }
            Self::CrossOrigin => f.write_str("cross-origin ceremonies are refused"),
            Self::RpIdHash { expected_rp_id } => {
                write!(f, "authenticator data is not for RP ID {expected_rp_id:?}")
            }
            Self::UserNotPresent => f.write_str("the authenticator did not test user presence"),
            Self::UserNotVerified => f.write_str("the authenticator did not verify the user"),
            Self::SignCountRegressed { stored, got } => write!(
                f,
                "signature counter {got} is not above the stored {stored}: possibly a cloned authenticator"
            ),
            Self::UnsupportedAttestation(format) => {
                write!(f, "attestation {format:?} is not accepted")
            }
            Self::Attestation(why) => write!(f, "attestation statement refused: {why}"),
            Self::UnsupportedAlgorithm(alg) => write!(f, "COSE algorithm {alg} is not supported"),
            Self::BadSignature => f.write_str("the signature does not verify"),
            Self::Malformed(why) => write!(f, "malformed WebAuthn data: {why}"),
        }
    }
}

impl std::error::Error for WebAuthnError {}
