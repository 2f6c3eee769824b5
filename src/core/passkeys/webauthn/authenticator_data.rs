//! Authenticator data (WebAuthn §6.1): the RP ID hash, the flags, the signature counter and, on
//! registration, the attested credential data (§6.5.1); extension outputs are skipped.

use super::cbor::{self, Value};
use super::WebAuthnError;

/// Flag bits of §6.1.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;
const ED: u8 = 0x80;

/// §6.5.1 and §7.1: longer credential IDs fail the registration.
pub(super) const MAX_CREDENTIAL_ID_LEN: usize = 1023;

/// The parts of authenticator data the ceremonies check.
#[derive(Debug)]
pub(super) struct AuthenticatorData<'a> {
    pub rp_id_hash: &'a [u8],
    pub user_present: bool,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential<'a>>,
}

/// The credential an authenticator created (§6.5.1).
#[derive(Debug)]
pub(super) struct AttestedCredential<'a> {
    pub aaguid: [u8; 16],
    pub credential_id: &'a [u8],
    /// The COSE_Key exactly as the authenticator encoded it.
    pub public_key: &'a [u8],
}

impl<'a> AuthenticatorData<'a> {
    /// Parses `bytes`, which must end where the last part the flags announce ends.
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, WebAuthnError> {
        let malformed = WebAuthnError::Malformed;
        let (rp_id_hash, rest) =
            split(bytes, 32).ok_or(malformed("authenticator data too short"))?;
        let (&[flags], rest) =
            split_array::<1>(rest).ok_or(malformed("authenticator data too short"))?;
        let (counter, mut rest) =
            split_array::<4>(rest).ok_or(malformed("authenticator data too short"))?;
        // §7.1 and §7.2: a credential that is not backup eligible cannot be backed up.
        if flags & BS != 0 && flags & BE == 0 {
            return Err(malformed("BS flag set without BE"));
        }
        let attested = if flags & AT != 0 {
            let (credential, after) = parse_attested(rest)?;
            rest = after;
            Some(credential)
        } else {
            None
        };
        if flags & ED != 0 {
            // Extension outputs are a CBOR map; none changes what we check, so it is only
            // parsed to find where it ends.
            let (extensions, after) =
                cbor::decode_prefix(rest).map_err(WebAuthnError::Malformed)?;
            if !matches!(extensions, Value::Map(_)) {
                return Err(malformed("extension data is not a CBOR map"));
            }
            rest = after;
        }
        if !rest.is_empty() {
            return Err(malformed("trailing bytes after authenticator data"));
        }
        Ok(Self {
            rp_id_hash,
            user_present: flags & UP != 0,
            user_verified: flags & UV != 0,
            backup_eligible: flags & BE != 0,
            backed_up: flags & BS != 0,
            sign_count: u32::from_be_bytes(*counter),
            attested,
        })
    }
}

/// aaguid (16) ‖ credentialIdLength (2, big-endian) ‖ credentialId ‖ credentialPublicKey.
fn parse_attested(bytes: &[u8]) -> Result<(AttestedCredential<'_>, &[u8]), WebAuthnError> {
    let truncated = WebAuthnError::Malformed("attested credential data truncated");
    let (aaguid, rest) = split_array::<16>(bytes).ok_or(truncated.clone())?;
    let (length, rest) = split_array::<2>(rest).ok_or(truncated.clone())?;
    let length = usize::from(u16::from_be_bytes(*length));
    if length == 0 {
        return Err(WebAuthnError::Malformed("empty credential ID"));
    }
    if length > MAX_CREDENTIAL_ID_LEN {
        return Err(WebAuthnError::Malformed(
            "credential ID longer than 1023 bytes",
        ));
    }
    let (credential_id, rest) = split(rest, length).ok_or(truncated)?;
    let (_, after) = cbor::decode_prefix(rest).map_err(WebAuthnError::Malformed)?;
    let public_key = &rest[..rest.len() - after.len()];
    Ok((
        AttestedCredential {
            aaguid: *aaguid,
            credential_id,
            public_key,
        },
        after,
    ))
}

fn split(bytes: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= at).then(|| bytes.split_at(at))
}

fn split_array<const N: usize>(bytes: &[u8]) -> Option<(&[u8; N], &[u8])> {
    let (head, rest) = split(bytes, N)?;
    Some((head.try_into().ok()?, rest))
}
