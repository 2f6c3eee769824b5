//! The keys of access tokens: the Ed25519 key that signs them, the public keys that verify them,
//! and the JWKS document that publishes those public keys (RFC 7517, RFC 8037).

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::{Ed25519, SigningKey as _};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::Algorithm;
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::core::config_error::ConfigError;

/// The signing key type of the Ed25519 backend that jwt-compact was built with.
pub type PrivateKey = <Ed25519 as Algorithm>::SigningKey;
/// The verifying key type of that backend.
pub type PublicKey = <Ed25519 as Algorithm>::VerifyingKey;

/// The secret holding the current signing key: one private JWK (`kty: OKP`, `crv: Ed25519`, `x`,
/// `d`, optional `kid`).
pub const SIGNING_KEY_VARIABLE: &str = "JWT_SIGNING_KEY";
/// The secret holding the other public keys still honoured (a key being rotated in or out): a
/// JSON array of public JWKs, or a JWKS document `{"keys": [...]}` as `/.well-known/jwks.json`
/// serves it.
pub const VERIFY_KEYS_VARIABLE: &str = "JWT_VERIFY_KEYS";
/// Enough for a key being rotated in and one being rotated out, with room to spare; a longer list
/// is a mistake worth naming.
const MAX_VERIFY_KEYS: usize = 8;
const MAX_KID_CHARS: usize = 64;

/// One public key and the id that tokens name it by.
struct Published {
    kid: String,
    key: PublicKey,
    x: String,
}

/// The signing key, every honoured public key (the signing key's own first), and their JWKS.
pub struct TokenKeys {
    signing_kid: String,
    signing: PrivateKey,
    honoured: Vec<Published>,
    jwks: String,
}

impl TokenKeys {
    /// Reads `JWT_SIGNING_KEY` (required) and `JWT_VERIFY_KEYS` (optional). A key given without
    /// `kid` is named by its RFC 7638 thumbprint, which `npm run keygen` also uses.
    pub fn parse(signing: Option<&str>, verify: Option<&str>) -> Result<Self, ConfigError> {
        let fail = |variable: &'static str, problem: &str| ConfigError {
            variable: variable.into(),
            problem: problem.to_owned(),
        };
        let raw = signing.ok_or_else(|| fail(SIGNING_KEY_VARIABLE, "is not set"))?;
        let object: Map<String, Value> = serde_json::from_str(raw.trim()).map_err(|_| {
            fail(
                SIGNING_KEY_VARIABLE,
                "must be an Ed25519 private key as a JWK (run `npm run keygen`)",
            )
        })?;
        let jwk = ed25519_jwk(&object).map_err(|p| fail(SIGNING_KEY_VARIABLE, p))?;
        let signing = PrivateKey::try_from(&jwk).map_err(|_| {
            fail(
                SIGNING_KEY_VARIABLE,
                "is not a valid Ed25519 private key (`d` and `x` must be one key pair)",
            )
        })?;
        let signing_kid = key_id(&object, &jwk).map_err(|p| fail(SIGNING_KEY_VARIABLE, p))?;
        let mut honoured = vec![publish(signing_kid.clone(), signing.to_verifying_key())];

        for object in verify_key_objects(verify).map_err(|p| fail(VERIFY_KEYS_VARIABLE, p))? {
            let problem = |p| fail(VERIFY_KEYS_VARIABLE, p);
            if object.contains_key("d") {
                // A private key has no business in a list of keys that are only checked against.
                return Err(problem("holds a private key (`d`); list public keys only"));
            }
            let jwk = ed25519_jwk(&object).map_err(problem)?;
            let key = PublicKey::try_from(&jwk)
                .map_err(|_| problem("holds a key that is not a valid Ed25519 public key"))?;
            let entry = publish(key_id(&object, &jwk).map_err(problem)?, key);
            match honoured.iter().find(|known| known.kid == entry.kid) {
                // The signing key's own public key, listed during a rotation: nothing new.
                Some(known) if known.x == entry.x => {}
                Some(_) => return Err(problem("names two different keys with one `kid`")),
                None => honoured.push(entry),
            }
        }
        let jwks = json!({
            "keys": honoured.iter().map(|k| json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": k.x,
                "kid": k.kid,
                "use": "sig",
                "alg": "EdDSA",
            })).collect::<Vec<_>>()
        })
        .to_string();
        Ok(Self {
            signing_kid,
            signing,
            honoured,
            jwks,
        })
    }

    /// The key new tokens are signed with, and its id.
    pub fn signing(&self) -> (&str, &PrivateKey) {
        (&self.signing_kid, &self.signing)
    }

    /// The public key a token's `kid` names, if it is one we honour.
    pub fn verifying(&self, kid: &str) -> Option<&PublicKey> {
        self.honoured.iter().find(|k| k.kid == kid).map(|k| &k.key)
    }

    /// The JWKS document: every honoured public key, the signing key's first.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("signing_kid", &self.signing_kid)
            .field("signing", &"[redacted]")
            .field("jwks", &self.jwks)
            .finish()
    }
}

fn publish(kid: String, key: PublicKey) -> Published {
    let x = Base64UrlUnpadded::encode_string(key.as_ref());
    Published { kid, key, x }
}

/// Checks the JWK names an Ed25519 key (RFC 8037 §2) and reads it. Only `EdDSA` keys are taken:
/// a key declared for another algorithm or use is refused, not guessed at (RFC 8725 §3.1).
fn ed25519_jwk(object: &Map<String, Value>) -> Result<JsonWebKey<'static>, &'static str> {
    let field = |name| object.get(name).and_then(Value::as_str);
    if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
        return Err("must hold Ed25519 keys (`\"kty\": \"OKP\", \"crv\": \"Ed25519\"`)");
    }
    if field("alg").is_some_and(|alg| alg != "EdDSA") || field("use").is_some_and(|u| u != "sig") {
        return Err("holds a key declared for another `alg` or `use` than EdDSA signatures");
    }
    serde_json::from_value(Value::Object(object.clone()))
        .map_err(|_| "holds a JWK whose `x` or `d` is not base64url")
}

/// The key's `kid`, or its RFC 7638 thumbprint when it has none.
fn key_id(object: &Map<String, Value>, jwk: &JsonWebKey) -> Result<String, &'static str> {
    match object.get("kid") {
        None => Ok(Base64UrlUnpadded::encode_string(
            &jwk.thumbprint::<Sha256>(),
        )),
        Some(Value::String(kid))
            if (1..=MAX_KID_CHARS).contains(&kid.len())
                && kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
        {
            Ok(kid.clone())
        }
        Some(_) => Err("has a `kid` that is not 1 to 64 letters, digits, `-`, `_` or `.`"),
    }
}

/// The JWK objects of a list of public keys (`JWT_VERIFY_KEYS`, `ID_TOKEN_RSA_VERIFY_KEYS`): none
/// when unset.
pub fn verify_key_objects(raw: Option<&str>) -> Result<Vec<Map<String, Value>>, &'static str> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let keys = match serde_json::from_str::<Value>(raw.trim()) {
        Ok(Value::Array(keys)) => keys,
        Ok(Value::Object(mut set)) => match set.remove("keys") {
            Some(Value::Array(keys)) => keys,
            _ => return Err("must be a JSON array of public JWKs, or a JWKS `{\"keys\": [...]}`"),
        },
        _ => return Err("must be a JSON array of public JWKs, or a JWKS `{\"keys\": [...]}`"),
    };
    if keys.len() > MAX_VERIFY_KEYS {
        return Err("lists more than 8 keys");
    }
    keys.into_iter()
        .map(|key| match key {
            Value::Object(object) => Ok(object),
            _ => Err("must list JWK objects"),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// RFC 8037 Appendix A.1: an Ed25519 private key as a JWK.
    pub const RFC_8037_PRIVATE: &str = r#"{"kty":"OKP","crv":"Ed25519",
        "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    /// RFC 8037 Appendix A.3: the thumbprint of that key.
    const RFC_8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    /// A second key pair (made with Node's `crypto.generateKeyPairSync("ed25519")`), kid `next`.
    pub const NEXT_PRIVATE: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"next",
        "d":"7yYZdm0JeoPqA_OhDPT3dW_Knmuf_cJvB7DMTbwpn_w",
        "x":"DrDqoPqEygDrrf3R8o5dVv4I5xbHl59hNhiN2pM9nT0"}"#;
    /// Its public half.
    pub const NEXT_PUBLIC: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"next",
        "x":"DrDqoPqEygDrrf3R8o5dVv4I5xbHl59hNhiN2pM9nT0"}"#;

    #[test]
    fn the_rfc_8037_key_is_named_by_its_thumbprint() {
        let keys = TokenKeys::parse(Some(RFC_8037_PRIVATE), None).unwrap();
        assert_eq!(keys.signing().0, RFC_8037_THUMBPRINT);
        let jwks: Value = serde_json::from_str(keys.jwks()).unwrap();
        assert_eq!(
            jwks,
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": RFC_8037_THUMBPRINT,
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "use": "sig", "alg": "EdDSA"}]})
        );
        assert!(
            !keys.jwks().contains("nWGxne"),
            "the private part is never published"
        );
        assert!(
            !format!("{keys:?}").contains("nWGxne"),
            "nor shown in Debug"
        );
    }

    #[test]
    fn honoured_keys_are_published_after_the_signing_key() {
        let list = format!("[{NEXT_PUBLIC}]");
        let keys = TokenKeys::parse(Some(RFC_8037_PRIVATE), Some(&list)).unwrap();
        assert!(keys.verifying(RFC_8037_THUMBPRINT).is_some());
        assert!(keys.verifying("next").is_some());
        assert!(keys.verifying("other").is_none());
        // A JWKS document copied from the endpoint, listing the signing key again, is accepted.
        let copied = TokenKeys::parse(Some(RFC_8037_PRIVATE), Some(keys.jwks())).unwrap();
        assert_eq!(copied.jwks(), keys.jwks());
    }

    #[test]
    fn bad_keys_name_their_variable_and_never_their_value() {
        let mismatched = RFC_8037_PRIVATE.replace("11qYAYKx", "21qYAYKx");
        let same_kid_other_key =
            NEXT_PUBLIC.replace("\"next\"", &format!("\"{RFC_8037_THUMBPRINT}\""));
        let cases: Vec<(Option<&str>, Option<String>, &str)> = vec![
            (None, None, SIGNING_KEY_VARIABLE),
            (Some("not json"), None, SIGNING_KEY_VARIABLE),
            (
                Some(r#"{"kty":"oct","k":"c2VjcmV0"}"#),
                None,
                SIGNING_KEY_VARIABLE,
            ),
            (Some(&mismatched), None, SIGNING_KEY_VARIABLE),
            (Some(NEXT_PUBLIC), None, SIGNING_KEY_VARIABLE),
            (
                Some(RFC_8037_PRIVATE),
                Some("{}".to_owned()),
                VERIFY_KEYS_VARIABLE,
            ),
            (
                Some(RFC_8037_PRIVATE),
                Some(format!("[{NEXT_PRIVATE}]")),
                VERIFY_KEYS_VARIABLE,
            ),
            (
                Some(RFC_8037_PRIVATE),
                Some(format!("[{same_kid_other_key}]")),
                VERIFY_KEYS_VARIABLE,
            ),
            (
                Some(RFC_8037_PRIVATE),
                Some(r#"[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]"#.to_owned()),
                VERIFY_KEYS_VARIABLE,
            ),
        ];
        for (signing, verify, variable) in cases {
            let err = TokenKeys::parse(signing, verify.as_deref()).unwrap_err();
            assert_eq!(err.variable, variable, "{signing:?} {verify:?}");
            assert!(!err.to_string().contains("nWGxne"));
        }
    }
}
