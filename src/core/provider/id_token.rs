//! ID tokens (OpenID Connect Core §2): who signed in, for which client, when and how. Built here
//! as the JWS signing input; EdDSA tokens are signed here with the access-token key, RS256 ones
//! by the edge through WebCrypto (`edge/provider/rsa.rs`).

use jwt_compact::alg::Ed25519;
use jwt_compact::{Algorithm, AlgorithmSignature};
use serde::Serialize;
use serde_json::json;

use crate::core::random::base64url;
use crate::core::sessions::token_keys::TokenKeys;

/// How long an ID token is valid: it is read once, when the client signs the user in.
pub const ID_TOKEN_TTL_SECONDS: i64 = 300;

/// The claims of an ID token. `email`, `email_verified` and `name` appear when their scope was
/// granted (OpenID Connect Core §5.4).
#[derive(Debug, Serialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    /// The client it was issued to (§2: present when `aud` is one client, harmless).
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The provider session it came from (OpenID Connect Front-Channel Logout §3).
    pub sid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<String>>,
}

/// The JWS signing input, `BASE64URL(header) . BASE64URL(claims)`, for `alg` and `kid`. The
/// header's `typ` is `JWT`, never `at+jwt`, so an ID token cannot pass as an access token
/// (RFC 8725 §3.11).
pub fn signing_input(alg: &str, kid: &str, claims: &IdClaims) -> String {
    let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
    let payload = serde_json::to_vec(claims).expect("our claims always serialise");
    format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(&payload)
    )
}

/// A whole token from its signing input and signature.
pub fn assemble(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", base64url(signature))
}

/// An EdDSA ID token, signed with the current access-token key (for clients whose
/// `id_token_signed_response_alg` is `EdDSA`).
pub fn sign_eddsa(keys: &TokenKeys, claims: &IdClaims) -> String {
    let (kid, key) = keys.signing();
    let input = signing_input("EdDSA", kid, claims);
    let signature = Ed25519.sign(key, input.as_bytes());
    assemble(&input, signature.as_bytes().as_ref())
}

/// The `sub` of an ID token, read without checking its signature: only for `id_token_hint`,
/// where a mismatch can only ask for a sign-in (OpenID Connect Core §3.1.2.1), never grant one.
pub fn unverified_subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = crate::core::random::base64url_decode(payload)?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["sub"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::sessions::token_keys::tests::RFC_8037_PRIVATE;
    use jwt_compact::{AlgorithmExt, UntrustedToken};

    fn claims() -> IdClaims {
        IdClaims {
            iss: "https://auth.example".into(),
            sub: "7".into(),
            aud: "client-1".into(),
            azp: "client-1".into(),
            exp: 1_800_000_300,
            iat: 1_800_000_000,
            auth_time: 1_799_999_000,
            nonce: Some("n-1".into()),
            amr: vec!["pwd".into()],
            sid: "s".into(),
            email: None,
            email_verified: None,
            name: Some(None),
        }
    }

    #[test]
    fn an_eddsa_id_token_verifies_with_the_published_key() {
        let keys = TokenKeys::parse(Some(RFC_8037_PRIVATE), None).unwrap();
        let token = sign_eddsa(&keys, &claims());
        let untrusted = UntrustedToken::new(&token).unwrap();
        assert_eq!(untrusted.header().token_type.as_deref(), Some("JWT"));
        let (kid, _) = keys.signing();
        let key = keys.verifying(kid).unwrap();
        let checked = Ed25519
            .validator::<serde_json::Value>(key)
            .validate(&untrusted)
            .unwrap();
        let custom = &checked.claims().custom;
        assert_eq!(custom["nonce"], "n-1");
        assert_eq!(
            custom["name"],
            serde_json::Value::Null,
            "profile granted, no name set"
        );
        assert!(custom.get("email").is_none(), "email scope not granted");
        assert_eq!(unverified_subject(&token).as_deref(), Some("7"));
        assert_eq!(unverified_subject("not a token"), None);
    }
}
