//! The client data (WebAuthn §5.8.1) as the browser serialised it, checked against what we
//! issued: the ceremony, the challenge, the origin and the absence of a cross-origin frame.

use serde::Deserialize;

use super::{Ceremony, RelyingParty, WebAuthnError};

/// The members we check; others (`topOrigin`, `tokenBinding`, future ones) are ignored, as
/// §5.8.1 asks of relying parties.
#[derive(Deserialize)]
struct CollectedClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
}

/// Checks `json` for `ceremony` (§7.1 and §7.2, in their order).
pub(super) fn check(
    json: &[u8],
    ceremony: Ceremony,
    expected_challenge: &str,
    rp: &RelyingParty,
) -> Result<(), WebAuthnError> {
    let data: CollectedClientData = serde_json::from_slice(json).map_err(|_| {
        WebAuthnError::Malformed("clientDataJSON is not JSON with type, challenge and origin")
    })?;
    if data.kind != ceremony.client_data_type() {
        return Err(WebAuthnError::Type {
            expected: ceremony.client_data_type(),
            got: data.kind,
        });
    }
    // The base64url text as the browser copied it from our options: comparing the strings
    // refuses other encodings of the same bytes too. The challenge is no secret (the client
    // holds it), so a plain comparison leaks nothing.
    if data.challenge != expected_challenge {
        return Err(WebAuthnError::Challenge);
    }
    if !rp.origins.contains(&data.origin) {
        return Err(WebAuthnError::Origin {
            expected: rp.origins.clone(),
            got: data.origin,
        });
    }
    if data.cross_origin == Some(true) {
        return Err(WebAuthnError::CrossOrigin);
    }
    Ok(())
}
