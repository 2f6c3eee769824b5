//! What every passkey ceremony shares: the credential as the browser sends it, the relying
//! party, the challenge taken once, the checks of a registration and an assertion
//! (`core::passkeys::webauthn` over the bytes), and the options the browser is given.

use crate::core::body::Body;
use crate::core::passkeys::passkey_config::PasskeyConfig;
use crate::core::passkeys::webauthn;
use crate::core::passkeys::webauthn::RelyingParty;
use crate::core::random::{base64url, base64url_decode};
use crate::core::sessions::refresh_token::digest_of;
use crate::core::violation::Violation;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::log::Level;
use crate::edge::passkeys::sql::challenges as passkey_challenges;
use crate::edge::passkeys::sql::challenges::{Ceremony as Stored, Taken};
use crate::edge::passkeys::sql::passkeys;
use crate::edge::state::State;
use serde_json::{json, Map, Value};

/// The COSE algorithms we verify, in order of preference: ES256 (every platform), EdDSA, RS256
/// (Windows Hello).
pub const ALGORITHMS: [i64; 3] = [-7, -8, -257];

/// Takes the live challenge of `ceremony` (single use): `passkey_refused` with reason
/// `challenge` when it is unknown, used, expired, or (with `owner`) another account's.
pub async fn take_challenge(
    db: &Db,
    challenge: &str,
    ceremony: Stored,
    owner: Option<i64>,
    now: i64,
) -> Result<Taken, ApiError> {
    let what = match ceremony {
        Stored::Register => "registration",
        Stored::Login | Stored::SecondFactor => "sign-in",
    };
    passkey_challenges::take(db, &digest_of(challenge), ceremony, now)
        .await?
        .filter(|taken| owner.is_none() || taken.user_id == owner)
        .ok_or_else(|| ApiError::PasskeyRefused {
            reason: "challenge",
            message: format!(
                "The {what} challenge is unknown, used or expired; ask for new options"
            ),
        })
}

/// A registration response checked: the credential's id (base64url), what the authenticator
/// said, and its AAGUID in hex.
pub struct Registered {
    pub id: String,
    pub verified: webauthn::NewCredential,
    pub aaguid: String,
}

/// Checks a registration response to `challenge`, with user verification required (the passkey
/// stands for two factors).
pub fn check_registration(
    state: &State,
    rp: &PasskeyConfig,
    credential: &Credential,
    challenge: &str,
) -> Result<Registered, ApiError> {
    let verified = webauthn::verify_registration(
        &credential.client_data_json,
        &credential.second,
        challenge,
        &rp_of(rp),
        true,
    )
    .map_err(|e| refused(state, e))?;
    let id = base64url(&verified.credential_id);
    if id != credential.id {
        return Err(ApiError::PasskeyRefused {
            reason: "credential_id",
            message: "The credential id does not match the authenticator data".into(),
        });
    }
    let aaguid = verified.aaguid.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Registered {
        id,
        verified,
        aaguid,
    })
}

/// The name a new passkey is stored under: the body's `name`, or "Passkey".
pub fn passkey_name(body: &Body) -> Result<String, ApiError> {
    Ok(match body.optional_string("name")? {
        Some(name) => crate::core::accounts::name::Name::parse("name", name)?
            .into_stored()
            .unwrap_or_else(|| DEFAULT_NAME.to_owned()),
        None => DEFAULT_NAME.to_owned(),
    })
}

pub const DEFAULT_NAME: &str = "Passkey";

/// The creation options of `navigator.credentials.create()` for `user`.
pub fn creation_options(
    rp: &PasskeyConfig,
    challenge: &str,
    user: Value,
    exclude: Vec<Value>,
) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "challenge": challenge,
        "rp": {"id": rp.rp_id, "name": rp.rp_name},
        "user": user,
        "pubKeyCredParams": ALGORITHMS.map(|alg| json!({"type": "public-key", "alg": alg})),
        "timeout": passkey_challenges::TTL_SECONDS * 1000,
        "excludeCredentials": exclude,
        "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
        "attestation": "none",
    }) else {
        unreachable!("a JSON object literal")
    };
    map
}

/// Checks an assertion against its stored credential (`user_verified`: whether the ceremony asked
/// for user verification); the counter is the caller's to record.
pub fn check_assertion(
    state: &State,
    rp: &PasskeyConfig,
    credential: &Credential,
    signature: &[u8],
    stored: &passkeys::Stored,
    challenge: &str,
    user_verified: bool,
) -> Result<webauthn::Assertion, ApiError> {
    let public_key = base64url_decode(&stored.public_key)
        .ok_or_else(|| ApiError::internal("read passkey", "stored key is not base64url"))?;
    let assertion = webauthn::verify_assertion(
        &credential.client_data_json,
        &credential.second,
        signature,
        &public_key,
        challenge,
        &rp_of(rp),
        u32::try_from(stored.sign_count).unwrap_or(u32::MAX),
        user_verified,
    )
    .map_err(|e| refused(state, e))?;
    // §7.2 step 18: a credential's backup eligibility never changes.
    if assertion.backup_eligible != (stored.backup_eligible != 0) {
        return Err(ApiError::PasskeyRefused {
            reason: "backup_eligibility_changed",
            message: "The authenticator reports a backup eligibility other than at registration"
                .into(),
        });
    }
    Ok(assertion)
}

/// The fields of a `PublicKeyCredential.toJSON()` that every ceremony has, decoded.
pub struct Credential {
    pub id: String,
    pub client_data_json: Vec<u8>,
    /// `attestationObject` (registration) or `authenticatorData` (sign-in).
    pub second: Vec<u8>,
}

impl Credential {
    pub fn parse(body: &Body, second: &'static str) -> Result<Self, ApiError> {
        let credential = body
            .value("credential")
            .ok_or_else(|| ApiError::from(Violation::missing("credential")))?;
        let text = |value: &Value, field: &'static str| -> Result<String, ApiError> {
            value[field].as_str().map(str::to_owned).ok_or_else(|| {
                ApiError::from(Violation::new(
                    "credential",
                    "invalid",
                    format!("credential.{field} is missing or not a string"),
                ))
            })
        };
        // A field that is there but not base64url is the authenticator's answer mangled: a
        // refused ceremony, not a malformed request.
        let bytes = |value: &Value, field: &'static str| -> Result<Vec<u8>, ApiError> {
            base64url_decode(&text(value, field)?).ok_or_else(|| ApiError::PasskeyRefused {
                reason: "malformed",
                message: format!("credential.response.{field} is not base64url"),
            })
        };
        if credential["type"] != "public-key" {
            return Err(Violation::new(
                "credential",
                "invalid",
                "credential.type must be public-key",
            )
            .into());
        }
        let response = &credential["response"];
        Ok(Self {
            id: text(credential, "id")?,
            client_data_json: bytes(response, "clientDataJSON")?,
            second: bytes(response, second)?,
        })
    }

    pub fn field(&self, body: &Body, field: &'static str) -> Result<Vec<u8>, ApiError> {
        let text = body
            .value("credential")
            .and_then(|c| c["response"][field].as_str())
            .ok_or_else(|| {
                ApiError::from(Violation::new(
                    "credential",
                    "invalid",
                    format!("credential.response.{field} is missing or not a string"),
                ))
            })?;
        base64url_decode(text).ok_or_else(|| ApiError::PasskeyRefused {
            reason: "malformed",
            message: format!("credential.response.{field} is not base64url"),
        })
    }

    /// `response.userHandle` of an assertion (base64url as sent; absent or null when the
    /// authenticator returned none).
    pub fn user_handle(&self, body: &Body) -> Result<Option<String>, ApiError> {
        let value = body
            .value("credential")
            .map(|c| &c["response"]["userHandle"]);
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(handle)) if handle.is_empty() => Ok(None),
            Some(Value::String(handle)) => Ok(Some(handle.clone())),
            Some(_) => Err(Violation::new(
                "credential",
                "invalid",
                "credential.response.userHandle must be a string",
            )
            .into()),
        }
    }

    /// The challenge the browser signed, read from clientDataJSON to find the ceremony (the
    /// full check of clientDataJSON is `core/webauthn.rs`'s).
    pub fn challenge(&self) -> Result<String, ApiError> {
        serde_json::from_slice::<Value>(&self.client_data_json)
            .ok()
            .and_then(|data| data["challenge"].as_str().map(str::to_owned))
            .ok_or(ApiError::PasskeyRefused {
                reason: "client_data",
                message: "clientDataJSON is not JSON with a challenge".into(),
            })
    }
}

pub fn relying_party(state: &State) -> Result<PasskeyConfig, ApiError> {
    match &state.config.passkeys {
        Ok(Some(rp)) => Ok(rp.clone()),
        // Passkeys are off: their routes do not exist.
        Ok(None) => Err(ApiError::NotFound),
        Err(e) => Err(ApiError::Misconfigured(e.clone())),
    }
}

pub fn rp_of(config: &PasskeyConfig) -> RelyingParty {
    RelyingParty {
        id: config.rp_id.clone(),
        origins: config.origins.clone(),
    }
}

/// A refused ceremony: logged with its reason (a sign-count regression is worth an operator's
/// look: a cloned authenticator), answered with what was expected.
pub fn refused(state: &State, error: webauthn::WebAuthnError) -> ApiError {
    state
        .log
        .event(Level::Warn, format!("passkey refused: {error}"));
    ApiError::PasskeyRefused {
        reason: error.code(),
        message: error.to_string(),
    }
}

/// The WebAuthn user handle of an account: its id as 8 bytes, base64url (no personal data).
pub fn user_handle(user_id: i64) -> String {
    base64url(&user_id.to_be_bytes())
}
