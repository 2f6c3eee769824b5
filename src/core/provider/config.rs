//! The provider's settings: on or off (`OAUTH_PROVIDER`), its issuer URL (`OAUTH_ISSUER`), and
//! the RSA key its ID tokens are signed with (`ID_TOKEN_RSA_KEY`; RS256 is the one algorithm
//! every OpenID provider must offer, OpenID Connect Core §15.1), with the public keys of a
//! rotation (`ID_TOKEN_RSA_VERIFY_KEYS`) kept in the JWKS.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::core::config_error::ConfigError;
use crate::core::provider::resource::Resources;
use crate::core::sessions::token_keys::verify_key_objects;

pub const RSA_KEY_VARIABLE: &str = "ID_TOKEN_RSA_KEY";
pub const RSA_VERIFY_KEYS_VARIABLE: &str = "ID_TOKEN_RSA_VERIFY_KEYS";
/// NIST SP 800-131A Rev. 2: RSA signatures need a modulus of at least 2048 bits.
const MIN_MODULUS_BYTES: usize = 256;
/// How long an authorization code lives: "a maximum lifetime of 10 minutes is RECOMMENDED"
/// (RFC 6749 §4.1.2); a browser redirect and one back-channel call need far less.
pub const CODE_TTL_SECONDS: i64 = 60;
/// A device code's life: RFC 8628 §3.2 leaves it to the server; long enough to find a phone and
/// sign in, short enough that a user code is worth little to a guesser.
const DEVICE_CODE_TTL_SECONDS: i64 = 600;
/// The polling interval a device is told (RFC 8628 §3.2: 5 seconds when the server says none).
const DEVICE_POLL_INTERVAL_SECONDS: i64 = 5;
/// Dynamic registrations one client address may make in a day (RFC 7591 §5: an open endpoint
/// needs its own abuse controls).
const REGISTRATIONS_PER_ADDRESS_PER_DAY: i64 = 20;

/// The RSA key that signs ID tokens: its id, its private JWK (handed to WebCrypto whole), and
/// its public half as the JWKS lists it.
#[derive(Debug)]
pub struct RsaKey {
    pub kid: String,
    pub private_jwk: String,
    pub public_jwk: Value,
}

/// The provider, when `OAUTH_PROVIDER` is `true`.
#[derive(Debug)]
pub struct ProviderConfig {
    /// `OAUTH_ISSUER`: the provider's public URL; unset, the origin each request came to.
    pub issuer: Option<String>,
    pub rsa: RsaKey,
    /// The RSA public keys of `ID_TOKEN_RSA_VERIFY_KEYS`, published beside the signing key's.
    pub rsa_published: Vec<Value>,
    /// The resources tokens may be issued for (`OAUTH_RESOURCES`, RFC 8707).
    pub resources: Resources,
    /// Open registration (`OAUTH_DYNAMIC_REGISTRATION`, RFC 7591): off unless `true`; its cap per
    /// client address and day (`OAUTH_REGISTRATIONS_PER_ADDRESS`).
    pub registrations_per_address: Option<i64>,
    /// Clients known by an https `client_id` whose document the provider fetches
    /// (`OAUTH_CLIENT_METADATA_DOCUMENTS`): off unless `true`.
    pub metadata_documents: bool,
    /// The device grant (RFC 8628): how long a device code lives and how often a device may poll
    /// (`OAUTH_DEVICE_CODE_TTL_SECONDS`, `OAUTH_DEVICE_POLL_INTERVAL_SECONDS`).
    pub device_code_ttl: i64,
    pub device_poll_interval: i64,
}

impl ProviderConfig {
    /// `None` unless `OAUTH_PROVIDER` is `true`; a bad setting names its variable.
    pub fn parse(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let fail = |variable: &'static str, problem: &str| ConfigError {
            variable: variable.into(),
            problem: problem.to_owned(),
        };
        match lookup("OAUTH_PROVIDER").as_deref().map(str::trim) {
            None | Some("" | "false") => return Ok(None),
            Some("true") => {}
            Some(_) => return Err(fail("OAUTH_PROVIDER", "must be true or false")),
        }
        let issuer = match lookup("OAUTH_ISSUER").map(|v| v.trim().trim_end_matches('/').to_owned())
        {
            None => None,
            Some(url) if url.is_empty() => None,
            // OpenID Connect Discovery §3: the issuer is an https URL without query or fragment.
            Some(url) if url.starts_with("https://") && !url.contains(['?', '#']) => Some(url),
            Some(_) => {
                return Err(fail(
                    "OAUTH_ISSUER",
                    "must be an https URL without query or fragment",
                ))
            }
        };
        let raw = lookup(RSA_KEY_VARIABLE)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| fail(RSA_KEY_VARIABLE, "is not set; the provider signs ID tokens with it (run `npm run keygen -- --rsa`)"))?;
        let object: Map<String, Value> = serde_json::from_str(raw.trim())
            .map_err(|_| fail(RSA_KEY_VARIABLE, "must be an RSA private key as a JWK"))?;
        let rsa = private_key(&object).map_err(|p| fail(RSA_KEY_VARIABLE, p))?;
        let mut rsa_published = vec![rsa.public_jwk.clone()];
        for object in verify_key_objects(lookup(RSA_VERIFY_KEYS_VARIABLE).as_deref())
            .map_err(|p| fail(RSA_VERIFY_KEYS_VARIABLE, p))?
        {
            if object.contains_key("d") {
                return Err(fail(
                    RSA_VERIFY_KEYS_VARIABLE,
                    "holds a private key (`d`); list public keys only",
                ));
            }
            let public = public_key(&object).map_err(|p| fail(RSA_VERIFY_KEYS_VARIABLE, p))?;
            if rsa_published
                .iter()
                .all(|known| known["kid"] != public["kid"])
            {
                rsa_published.push(public);
            }
        }
        let flag = |variable: &'static str| match lookup(variable).as_deref().map(str::trim) {
            None | Some("" | "false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(fail(variable, "must be true or false")),
        };
        let number =
            |variable: &'static str, default: i64, range: std::ops::RangeInclusive<i64>| {
                match lookup(variable).as_deref().map(str::trim) {
                    None | Some("") => Ok(default),
                    Some(raw) => raw
                        .parse::<i64>()
                        .ok()
                        .filter(|n| range.contains(n))
                        .ok_or_else(|| {
                            fail(
                                variable,
                                &format!(
                                    "must be a whole number from {} to {}",
                                    range.start(),
                                    range.end()
                                ),
                            )
                        }),
                }
            };
        let resources = Resources::parse(lookup("OAUTH_RESOURCES").as_deref())
            .map_err(|p| fail("OAUTH_RESOURCES", p))?;
        let registrations = number(
            "OAUTH_REGISTRATIONS_PER_ADDRESS",
            REGISTRATIONS_PER_ADDRESS_PER_DAY,
            1..=10_000,
        )?;
        Ok(Some(Self {
            issuer,
            rsa,
            rsa_published,
            resources,
            registrations_per_address: flag("OAUTH_DYNAMIC_REGISTRATION")?.then_some(registrations),
            metadata_documents: flag("OAUTH_CLIENT_METADATA_DOCUMENTS")?,
            device_code_ttl: number(
                "OAUTH_DEVICE_CODE_TTL_SECONDS",
                DEVICE_CODE_TTL_SECONDS,
                1..=1800,
            )?,
            device_poll_interval: number(
                "OAUTH_DEVICE_POLL_INTERVAL_SECONDS",
                DEVICE_POLL_INTERVAL_SECONDS,
                1..=60,
            )?,
        }))
    }

    /// The JWKS: the access-token keys (`token_keys_jwks`) and the ID-token RSA keys.
    pub fn jwks(&self, token_keys_jwks: &str) -> String {
        let mut set: Value =
            serde_json::from_str(token_keys_jwks).unwrap_or_else(|_| json!({"keys": []}));
        if let Some(keys) = set["keys"].as_array_mut() {
            keys.extend(self.rsa_published.iter().cloned());
        }
        set.to_string()
    }
}

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}

/// An RSA public JWK's `n` and `e` (RFC 7518 §6.3.1), its declared use checked, its kid read or
/// made (RFC 7638 thumbprint).
fn public_key(object: &Map<String, Value>) -> Result<Value, &'static str> {
    if field(object, "kty") != Some("RSA") {
        return Err("must hold RSA keys (`\"kty\": \"RSA\"`)");
    }
    if field(object, "alg").is_some_and(|alg| alg != "RS256")
        || field(object, "use").is_some_and(|u| u != "sig")
    {
        return Err("holds a key declared for another `alg` or `use` than RS256 signatures");
    }
    let (Some(n), Some(e)) = (field(object, "n"), field(object, "e")) else {
        return Err("holds an RSA key without `n` and `e`");
    };
    let modulus =
        Base64UrlUnpadded::decode_vec(n).map_err(|_| "holds an `n` that is not base64url")?;
    if modulus.iter().skip_while(|b| **b == 0).count() < MIN_MODULUS_BYTES {
        return Err("holds an RSA key shorter than 2048 bits (NIST SP 800-131A)");
    }
    Base64UrlUnpadded::decode_vec(e).map_err(|_| "holds an `e` that is not base64url")?;
    let kid = match object.get("kid") {
        None => {
            // RFC 7638 §3.2: the required members, sorted, no whitespace.
            let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
            Base64UrlUnpadded::encode_string(&Sha256::digest(canonical.as_bytes()))
        }
        Some(Value::String(kid))
            if (1..=64).contains(&kid.len())
                && kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
        {
            kid.clone()
        }
        Some(_) => return Err("has a `kid` that is not 1 to 64 letters, digits, `-`, `_` or `.`"),
    };
    Ok(json!({"kty": "RSA", "n": n, "e": e, "kid": kid, "use": "sig", "alg": "RS256"}))
}

/// The private key: every CRT member present (WebCrypto imports nothing less), and its kid.
fn private_key(object: &Map<String, Value>) -> Result<RsaKey, &'static str> {
    let public_jwk = public_key(object)?;
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        let value = field(object, member)
            .ok_or("must be a whole RSA private JWK (`d`, `p`, `q`, `dp`, `dq`, `qi`)")?;
        Base64UrlUnpadded::decode_vec(value)
            .map_err(|_| "holds a private member that is not base64url")?;
    }
    let mut private = Map::new();
    for member in ["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        private.insert(member.to_owned(), object[member].clone());
    }
    private.insert("alg".to_owned(), json!("RS256"));
    private.insert("ext".to_owned(), json!(false));
    Ok(RsaKey {
        kid: public_jwk["kid"].as_str().unwrap_or_default().to_owned(),
        private_jwk: Value::Object(private).to_string(),
        public_jwk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A 2048-bit modulus of 256 bytes (its value is not checked here, only its length).
    fn jwk(extra: &[(&str, &str)]) -> String {
        let n = Base64UrlUnpadded::encode_string(&[0xC5; 256]);
        let mut object = json!({"kty": "RSA", "n": n, "e": "AQAB", "d": "AQ", "p": "AQ", "q": "AQ", "dp": "AQ", "dq": "AQ", "qi": "AQ"});
        for (name, value) in extra {
            object[*name] = json!(value);
        }
        object.to_string()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<ProviderConfig>, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProviderConfig::parse(|name| map.get(name).cloned())
    }

    #[test]
    fn off_unless_turned_on() {
        assert!(parse(&[]).unwrap().is_none());
        assert!(parse(&[("OAUTH_PROVIDER", "false")]).unwrap().is_none());
        assert_eq!(
            parse(&[("OAUTH_PROVIDER", "yes")]).unwrap_err().variable,
            "OAUTH_PROVIDER"
        );
    }

    #[test]
    fn on_it_needs_a_whole_rsa_key_of_2048_bits() {
        let missing = parse(&[("OAUTH_PROVIDER", "true")]).unwrap_err();
        assert_eq!(missing.variable, RSA_KEY_VARIABLE);
        let short = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQ", "p": "AQ", "q": "AQ", "dp": "AQ", "dq": "AQ", "qi": "AQ"}).to_string();
        let refused = parse(&[("OAUTH_PROVIDER", "true"), (RSA_KEY_VARIABLE, &short)]).unwrap_err();
        assert!(refused.problem.contains("2048"), "{}", refused.problem);
        let public_only =
            json!({"kty": "RSA", "n": Base64UrlUnpadded::encode_string(&[0xC5; 256]), "e": "AQAB"})
                .to_string();
        assert!(parse(&[("OAUTH_PROVIDER", "true"), (RSA_KEY_VARIABLE, &public_only)]).is_err());
    }

    #[test]
    fn the_key_is_named_by_its_kid_or_thumbprint_and_published_without_private_members() {
        let named = parse(&[
            ("OAUTH_PROVIDER", "true"),
            (RSA_KEY_VARIABLE, &jwk(&[("kid", "rsa-1")])),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(named.rsa.kid, "rsa-1");
        let published = &named.rsa_published[0];
        assert_eq!(published["alg"], "RS256");
        assert!(published.get("d").is_none() && published.get("p").is_none());
        let unnamed = parse(&[("OAUTH_PROVIDER", "true"), (RSA_KEY_VARIABLE, &jwk(&[]))])
            .unwrap()
            .unwrap();
        assert_eq!(
            unnamed.rsa.kid.len(),
            43,
            "a SHA-256 thumbprint in base64url"
        );
        let jwks: Value =
            serde_json::from_str(&unnamed.jwks(r#"{"keys":[{"kid":"ed"}]}"#)).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn the_issuer_must_be_https() {
        let key = jwk(&[]);
        let bad = parse(&[
            ("OAUTH_PROVIDER", "true"),
            (RSA_KEY_VARIABLE, &key),
            ("OAUTH_ISSUER", "http://auth.example"),
        ]);
        assert_eq!(bad.unwrap_err().variable, "OAUTH_ISSUER");
        let good = parse(&[
            ("OAUTH_PROVIDER", "true"),
            (RSA_KEY_VARIABLE, &key),
            ("OAUTH_ISSUER", "https://auth.example/"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(good.issuer.as_deref(), Some("https://auth.example"));
    }

    #[test]
    fn verify_keys_are_public_rsa_keys() {
        let key = jwk(&[("kid", "new")]);
        let private = jwk(&[("kid", "old")]);
        let refused = parse(&[
            ("OAUTH_PROVIDER", "true"),
            (RSA_KEY_VARIABLE, &key),
            (RSA_VERIFY_KEYS_VARIABLE, &format!("[{private}]")),
        ]);
        assert_eq!(refused.unwrap_err().variable, RSA_VERIFY_KEYS_VARIABLE);
        let old = json!({"kty": "RSA", "kid": "old", "n": Base64UrlUnpadded::encode_string(&[0xC7; 256]), "e": "AQAB"});
        let both = parse(&[
            ("OAUTH_PROVIDER", "true"),
            (RSA_KEY_VARIABLE, &key),
            (RSA_VERIFY_KEYS_VARIABLE, &format!("[{old}]")),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(both.rsa_published.len(), 2);
    }

    #[test]
    fn registration_documents_resources_and_the_device_grant_are_read_and_checked() {
        let key = jwk(&[]);
        let base = [("OAUTH_PROVIDER", "true"), (RSA_KEY_VARIABLE, key.as_str())];
        let defaults = parse(&base).unwrap().unwrap();
        assert_eq!(
            defaults.registrations_per_address, None,
            "off unless turned on"
        );
        assert!(!defaults.metadata_documents);
        assert_eq!(
            (defaults.device_code_ttl, defaults.device_poll_interval),
            (600, 5)
        );
        let on = parse(&[
            base[0],
            base[1],
            ("OAUTH_DYNAMIC_REGISTRATION", "true"),
            ("OAUTH_REGISTRATIONS_PER_ADDRESS", "3"),
            ("OAUTH_CLIENT_METADATA_DOCUMENTS", "true"),
            ("OAUTH_RESOURCES", "https://mcp.example/mcp"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(on.registrations_per_address, Some(3));
        assert!(on.metadata_documents);
        assert!(on.resources.pick(&["https://other.example/"]).is_err());
        for (variable, bad) in [
            ("OAUTH_DYNAMIC_REGISTRATION", "yes"),
            ("OAUTH_REGISTRATIONS_PER_ADDRESS", "0"),
            ("OAUTH_DEVICE_CODE_TTL_SECONDS", "3600"),
            ("OAUTH_DEVICE_POLL_INTERVAL_SECONDS", "0"),
            ("OAUTH_RESOURCES", "mcp.example"),
        ] {
            let refused = parse(&[base[0], base[1], (variable, bad)]).unwrap_err();
            assert_eq!(refused.variable, variable);
        }
    }
}
