//! Passkeys: the relying party's rules of WebAuthn Level 3 (W3C), §7.1 (registering a new
//! credential) and §7.2 (verifying an authentication assertion), over the bytes the browser
//! sends. No I/O: the edge issues and remembers challenges, stores credentials, checks that a
//! credential ID is not registered yet (§7.1) and finds the stored key of an assertion.

mod attestation;
mod authenticator_data;
mod cbor;
mod client_data;
mod cose;
mod error;
#[cfg(test)]
mod tests;

use sha2::{Digest, Sha256};

use attestation::AttestationObject;
use authenticator_data::AuthenticatorData;
use cose::CredentialKey;
pub use error::WebAuthnError;

/// Who we are to authenticators: the RP ID (a registrable domain, `RP_ID`) and the exact web
/// origins allowed to run ceremonies for it (`RP_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    pub origins: Vec<String>,
}

/// Which ceremony a response belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// Registration, `navigator.credentials.create()`.
    Create,
    /// Authentication, `navigator.credentials.get()`.
    Get,
}

impl Ceremony {
    /// The `type` its client data carries (§5.8.1), which keeps a signed assertion from being
    /// replayed as a registration and back.
    pub fn client_data_type(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }
}

/// A credential that passed registration: what the edge stores (§7.1, last step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub credential_id: Vec<u8>,
    /// The COSE_Key bytes as the authenticator sent them; [`verify_assertion`] reads them back.
    pub public_key: Vec<u8>,
    /// COSE algorithm: -7 ES256, -8 EdDSA, -257 RS256.
    pub algorithm: i64,
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub aaguid: [u8; 16],
    /// `none` or `packed` (self attestation).
    pub attestation_format: String,
}

/// What a verified assertion says; the edge stores the new counter and backup state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub sign_count: u32,
    pub user_verified: bool,
    pub backed_up: bool,
    /// The BE flag: §7.2 asks that it equal the stored credential's, which only the edge knows.
    pub backup_eligible: bool,
}

/// Verifies a registration response (§7.1) to the challenge `expected_challenge` (base64url, as
/// issued) and returns the credential to store.
pub fn verify_registration(
    client_data_json: &[u8],
    attestation_object: &[u8],
    expected_challenge: &str,
    rp: &RelyingParty,
    require_user_verification: bool,
) -> Result<NewCredential, WebAuthnError> {
    client_data::check(client_data_json, Ceremony::Create, expected_challenge, rp)?;
    let object = AttestationObject::parse(attestation_object)?;
    let auth_data = AuthenticatorData::parse(object.auth_data)?;
    check_authenticator(&auth_data, rp, require_user_verification)?;
    let attested = auth_data.attested.as_ref().ok_or(WebAuthnError::Malformed(
        "registration without attested credential data",
    ))?;
    let key = CredentialKey::parse(attested.public_key)?;
    object.verify(&key, &Sha256::digest(client_data_json))?;
    Ok(NewCredential {
        credential_id: attested.credential_id.to_vec(),
        public_key: attested.public_key.to_vec(),
        algorithm: key.algorithm(),
        sign_count: auth_data.sign_count,
        user_verified: auth_data.user_verified,
        backup_eligible: auth_data.backup_eligible,
        backed_up: auth_data.backed_up,
        aaguid: attested.aaguid,
        attestation_format: object.format.to_owned(),
    })
}

/// Verifies an assertion (§7.2) by the credential whose stored COSE key is `public_key` and
/// whose stored counter is `stored_sign_count`.
// The arguments are §7.2's inputs one by one; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn verify_assertion(
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
    public_key: &[u8],
    expected_challenge: &str,
    rp: &RelyingParty,
    stored_sign_count: u32,
    require_user_verification: bool,
) -> Result<Assertion, WebAuthnError> {
    client_data::check(client_data_json, Ceremony::Get, expected_challenge, rp)?;
    let auth_data = AuthenticatorData::parse(authenticator_data)?;
    check_authenticator(&auth_data, rp, require_user_verification)?;
    let key = CredentialKey::parse(public_key)?;
    let signed = [authenticator_data, &Sha256::digest(client_data_json)].concat();
    if !key.verifies(&signed, signature) {
        return Err(WebAuthnError::BadSignature);
    }
    check_sign_count(stored_sign_count, auth_data.sign_count)?;
    Ok(Assertion {
        sign_count: auth_data.sign_count,
        user_verified: auth_data.user_verified,
        backed_up: auth_data.backed_up,
        backup_eligible: auth_data.backup_eligible,
    })
}

/// The checks both ceremonies make of authenticator data: our RP ID, user presence, and user
/// verification when required.
fn check_authenticator(
    auth_data: &AuthenticatorData<'_>,
    rp: &RelyingParty,
    require_user_verification: bool,
) -> Result<(), WebAuthnError> {
    if auth_data.rp_id_hash != Sha256::digest(rp.id.as_bytes()).as_slice() {
        return Err(WebAuthnError::RpIdHash {
            expected_rp_id: rp.id.clone(),
        });
    }
    // §7.1 lets conditional-mediation registrations go without UP; we make none of those.
    if !auth_data.user_present {
        return Err(WebAuthnError::UserNotPresent);
    }
    if require_user_verification && !auth_data.user_verified {
        return Err(WebAuthnError::UserNotVerified);
    }
    Ok(())
}

/// §7.2: authenticators without a counter send 0 forever; otherwise the counter must grow, and
/// one that did not is refused as a possible clone (the policy §7.2 leaves to the RP).
fn check_sign_count(stored: u32, got: u32) -> Result<(), WebAuthnError> {
    if (stored == 0 && got == 0) || got > stored {
        Ok(())
    } else {
        Err(WebAuthnError::SignCountRegressed { stored, got })
    }
}
