//! An OpenID Connect ID token, verified: the signature by one of the provider's keys (its JWKS,
//! fetched by the edge), then the claims OpenID Connect Core 1.0 §3.1.3.7 requires: `iss`, `aud`
//! (and `azp`), `exp`, `iat`, `nonce`. Plain values in, an [`Identity`] out; no I/O.

use jwt_compact::alg::{Ed25519, Rsa, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, UntrustedToken};
use serde::Deserialize;
use serde_json::Value;

/// What the token must match.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: i64,
}

/// Seconds of clock skew allowed on `exp` and `iat` (RFC 8725 §3.10 leaves it to us; small).
pub const LEEWAY_SECONDS: i64 = 60;

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    /// Only `true` when the provider asserts it (`email_verified: true`).
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Why a token was refused (logged; the user sees `provider_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenError {
    Malformed,
    /// `alg` other than RS256 and EdDSA (`none`, HS256 and the rest: RFC 8725 §3.1).
    Algorithm(String),
    UnknownKey,
    BadSignature,
    Claim(&'static str),
}

impl std::fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed => f.write_str("not a JWT"),
            Self::Algorithm(alg) => write!(f, "algorithm {alg:?} refused"),
            Self::UnknownKey => f.write_str("signed by a key the provider does not publish"),
            Self::BadSignature => f.write_str("bad signature"),
            Self::Claim(claim) => write!(f, "claim {claim} refused"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: Audience,
    azp: Option<String>,
    nonce: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: Verified,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// `email_verified` as a boolean, or the string some providers send.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Verified {
    Bool(bool),
    Text(String),
    #[default]
    Absent,
}

/// Verifies `token` against the key set `jwks` (`{"keys": [...]}`) and `expected`.
pub fn verify(
    token: &str,
    jwks: &Value,
    expected: &Expected<'_>,
) -> Result<Identity, IdTokenError> {
    let untrusted = UntrustedToken::new(token).map_err(|_| IdTokenError::Malformed)?;
    let alg = untrusted.algorithm().to_owned();
    let kid = untrusted.header().key_id.clone();
    let jwk = find_key(jwks, kid.as_deref(), &alg).ok_or(IdTokenError::UnknownKey)?;
    let claims: Claims<IdClaims> = match alg.as_str() {
        "RS256" => {
            let key = RsaPublicKey::try_from(&jwk).map_err(|_| IdTokenError::UnknownKey)?;
            Rsa::rs256()
                .validator::<IdClaims>(&key)
                .validate(&untrusted)
                .map_err(|_| IdTokenError::BadSignature)?
                .into_parts()
                .1
        }
        "EdDSA" => {
            let key = crate::core::sessions::token_keys::PublicKey::try_from(&jwk)
                .map_err(|_| IdTokenError::UnknownKey)?;
            Ed25519
                .validator::<IdClaims>(&key)
                .validate(&untrusted)
                .map_err(|_| IdTokenError::BadSignature)?
                .into_parts()
                .1
        }
        other => return Err(IdTokenError::Algorithm(other.to_owned())),
    };
    check_claims(&claims, expected)
}

fn check_claims(
    claims: &Claims<IdClaims>,
    expected: &Expected<'_>,
) -> Result<Identity, IdTokenError> {
    let custom = &claims.custom;
    if custom.iss != expected.issuer {
        return Err(IdTokenError::Claim("iss"));
    }
    let audiences: Vec<&str> = match &custom.aud {
        Audience::One(one) => vec![one.as_str()],
        Audience::Many(many) => many.iter().map(String::as_str).collect(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(IdTokenError::Claim("aud"));
    }
    // §3.1.3.7 (4, 5): with several audiences `azp` is needed, and when present it is us.
    match custom.azp.as_deref() {
        Some(azp) if azp != expected.client_id => return Err(IdTokenError::Claim("azp")),
        None if audiences.len() > 1 => return Err(IdTokenError::Claim("azp")),
        _ => {}
    }
    let expires = claims
        .expiration
        .map(|at| at.timestamp())
        .ok_or(IdTokenError::Claim("exp"))?;
    if expires + LEEWAY_SECONDS <= expected.now {
        return Err(IdTokenError::Claim("exp"));
    }
    let issued = claims.issued_at.map(|at| at.timestamp());
    if issued.is_none_or(|at| at > expected.now + LEEWAY_SECONDS) {
        return Err(IdTokenError::Claim("iat"));
    }
    if custom.nonce.as_deref() != Some(expected.nonce) {
        return Err(IdTokenError::Claim("nonce"));
    }
    if custom.sub.is_empty() || custom.sub.len() > 255 {
        return Err(IdTokenError::Claim("sub"));
    }
    let email_verified = match &custom.email_verified {
        Verified::Bool(verified) => *verified,
        Verified::Text(text) => text == "true",
        Verified::Absent => false,
    };
    Ok(Identity {
        subject: custom.sub.clone(),
        email: custom.email.clone(),
        email_verified,
        name: custom.name.clone(),
    })
}

/// The key of `jwks` that `kid` names (or the only one of its type, when the token names none),
/// for signing, of the token's algorithm.
fn find_key<'a>(jwks: &'a Value, kid: Option<&str>, alg: &str) -> Option<JsonWebKey<'a>> {
    let kty = match alg {
        "RS256" => "RSA",
        "EdDSA" => "OKP",
        _ => return None,
    };
    let fits = |key: &&Value| {
        key["kty"] == kty
            && key.get("use").is_none_or(|u| u == "sig")
            && key.get("alg").is_none_or(|a| a == alg)
    };
    let keys: Vec<&Value> = jwks["keys"].as_array()?.iter().filter(fits).collect();
    let key = match kid {
        Some(kid) => keys.into_iter().find(|key| key["kid"] == kid)?,
        None if keys.len() == 1 => keys[0],
        None => return None,
    };
    serde_json::from_value(key.clone()).ok()
}

#[cfg(test)]
mod tests;
