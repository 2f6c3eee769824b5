//! Access tokens: HS256 JWTs naming a user and a session, checked as RFC 8725 advises.

use chrono::{DateTime, Duration, Utc};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken};
use serde::{Deserialize, Serialize};

/// The `typ` header of our access tokens (RFC 9068 §2.1; RFC 8725 §3.11 explicit typing).
const HEADER_TYPE: &str = "at+jwt";
/// The claim that tells an access token from anything else we sign (API.md "Tokens and sessions").
const TOKEN_KIND: &str = "access";
/// Clock skew tolerated on `exp` and `iat`, for tokens checked on another edge machine.
const LEEWAY_SECONDS: i64 = 5;

/// Header fields jwt-compact does not name but that an attacker may use to point at a key of their
/// own choosing (RFC 7515 §4.1.3, §4.1.6) or demand extensions we do not implement (§4.1.11).
#[derive(Debug, Clone, Default, Deserialize)]
struct KeyHints {
    #[serde(default)]
    jwk: Option<serde_json::Value>,
    #[serde(default)]
    x5c: Option<serde_json::Value>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessClaims {
    sub: String,
    sid: String,
    jti: String,
    iss: String,
    aud: String,
    typ: String,
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub session_id: String,
}

/// The parts of the configuration a token is issued and checked against.
pub struct TokenSettings<'a> {
    pub key: &'a Hs256Key,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub ttl_seconds: i64,
}

/// Why a token was refused. Clients see one `401` for all of them; the reason is for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    Malformed,
    ForbiddenHeader,
    BadSignature,
    Expired,
    WrongClaims,
}

fn at(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Signs an access token for `principal`, valid from `now` for the configured lifetime.
pub fn issue(settings: &TokenSettings, principal: &Principal, jti: String, now: i64) -> String {
    let custom = AccessClaims {
        sub: principal.user_id.to_string(),
        sid: principal.session_id.clone(),
        jti,
        iss: settings.issuer.to_owned(),
        aud: settings.audience.to_owned(),
        typ: TOKEN_KIND.to_owned(),
    };
    let clock = TimeOptions::new(Duration::zero(), move || at(now));
    let claims = Claims::new(custom)
        .set_duration_and_issuance(&clock, Duration::seconds(settings.ttl_seconds));
    Hs256
        .token(
            &Header::empty().with_token_type(HEADER_TYPE),
            &claims,
            settings.key,
        )
        .expect("our claims always serialise")
}

/// Checks a presented token: the algorithm is pinned to HS256 (`none` and every other `alg` fail),
/// key-location headers are refused, and `exp`, `iat`, `iss`, `aud` and the type are required
/// (RFC 8725 §2.1, §3.1, §3.8–3.11).
pub fn verify(settings: &TokenSettings, token: &str, now: i64) -> Result<Principal, Rejected> {
    let untrusted = UntrustedToken::<KeyHints>::try_from(token).map_err(|_| Rejected::Malformed)?;
    let header = untrusted.header();
    let hints = &header.other_fields;
    if hints.jwk.is_some()
        || hints.x5c.is_some()
        || hints.crit.is_some()
        || header.key_set_url.is_some()
        || header.key_id.is_some()
        || header.certificate_url.is_some()
        || header.certificate_sha1_thumbprint.is_some()
        || header.certificate_thumbprint.is_some()
        || header.token_type.as_deref() != Some(HEADER_TYPE)
    {
        return Err(Rejected::ForbiddenHeader);
    }
    let token = Hs256
        .validator::<AccessClaims>(settings.key)
        .validate(&untrusted)
        .map_err(|_| Rejected::BadSignature)?;
    let claims = token.claims();
    let clock = TimeOptions::new(Duration::seconds(LEEWAY_SECONDS), move || at(now));
    claims
        .validate_expiration(&clock)
        .map_err(|_| Rejected::Expired)?;
    let issued_in_future = claims
        .issued_at
        .is_none_or(|iat| iat.timestamp() > now + LEEWAY_SECONDS);
    let custom = &claims.custom;
    if issued_in_future
        || custom.typ != TOKEN_KIND
        || custom.iss != settings.issuer
        || custom.aud != settings.audience
        || custom.sid.is_empty()
    {
        return Err(Rejected::WrongClaims);
    }
    let user_id = custom.sub.parse().map_err(|_| Rejected::WrongClaims)?;
    Ok(Principal {
        user_id,
        session_id: custom.sid.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::random::base64url;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn key() -> Hs256Key {
        Hs256Key::new([9u8; 32])
    }

    fn settings(key: &Hs256Key) -> TokenSettings<'_> {
        TokenSettings {
            key,
            issuer: "edge-auth",
            audience: "edge-auth",
            ttl_seconds: 900,
        }
    }

    fn principal() -> Principal {
        Principal {
            user_id: 42,
            session_id: "sess-1".to_owned(),
        }
    }

    /// Signs arbitrary header and claims JSON with HS256 under `key`, as an attacker with a key would.
    fn forge(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
        let signing_input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let mac = crate::core::keys::hmac_sha256(key, signing_input.as_bytes());
        format!("{signing_input}.{}", base64url(&mac))
    }

    fn good_claims() -> serde_json::Value {
        json!({"sub": "42", "sid": "sess-1", "jti": "j", "iss": "edge-auth", "aud": "edge-auth",
               "typ": "access", "iat": NOW, "exp": NOW + 900})
    }

    #[test]
    fn a_fresh_token_round_trips() {
        let key = key();
        let token = issue(&settings(&key), &principal(), "jti-1".to_owned(), NOW);
        assert_eq!(verify(&settings(&key), &token, NOW + 10), Ok(principal()));
    }

    #[test]
    fn forged_tokens_with_the_right_key_and_shape_pass() {
        // The forge helper is trusted only because this control case passes.
        let token = forge(
            json!({"alg": "HS256", "typ": "at+jwt"}),
            good_claims(),
            &[9u8; 32],
        );
        assert_eq!(verify(&settings(&key()), &token, NOW), Ok(principal()));
    }

    #[test]
    fn attacks_are_rejected() {
        let key = key();
        let s = settings(&key);
        let valid = issue(&s, &principal(), "j".to_owned(), NOW);
        let mut claims_without_exp = good_claims();
        claims_without_exp.as_object_mut().unwrap().remove("exp");
        let hs = |header: serde_json::Value| forge(header, good_claims(), &[9u8; 32]);
        let with_claim = |name: &str, value: serde_json::Value| {
            let mut claims = good_claims();
            claims[name] = value;
            forge(json!({"alg": "HS256", "typ": "at+jwt"}), claims, &[9u8; 32])
        };
        let unsigned = format!(
            "{}.{}.",
            base64url(br#"{"alg":"none","typ":"at+jwt"}"#),
            base64url(good_claims().to_string().as_bytes())
        );
        let cases: Vec<(String, Rejected, &str)> = vec![
            (unsigned, Rejected::BadSignature, "alg none"),
            (
                hs(json!({"alg": "HS384", "typ": "at+jwt"})),
                Rejected::BadSignature,
                "other alg",
            ),
            (
                hs(json!({"alg": "RS256", "typ": "at+jwt"})),
                Rejected::BadSignature,
                "asymmetric alg",
            ),
            (
                forge(
                    json!({"alg": "HS256", "typ": "at+jwt"}),
                    good_claims(),
                    &[8u8; 32],
                ),
                Rejected::BadSignature,
                "other key",
            ),
            (
                hs(json!({"alg": "HS256", "typ": "at+jwt", "kid": "../../dev/null"})),
                Rejected::ForbiddenHeader,
                "kid",
            ),
            (
                hs(json!({"alg": "HS256", "typ": "at+jwt", "jku": "https://evil.example/jwks"})),
                Rejected::ForbiddenHeader,
                "jku",
            ),
            (
                hs(json!({"alg": "HS256", "typ": "at+jwt", "x5u": "https://evil.example/cert"})),
                Rejected::ForbiddenHeader,
                "x5u",
            ),
            (
                hs(json!({"alg": "HS256"})),
                Rejected::ForbiddenHeader,
                "no typ header",
            ),
            (
                forge(
                    json!({"alg": "HS256", "typ": "at+jwt"}),
                    claims_without_exp,
                    &[9u8; 32],
                ),
                Rejected::Expired,
                "missing exp",
            ),
            (
                with_claim("exp", json!(NOW - 6)),
                Rejected::Expired,
                "expired beyond leeway",
            ),
            (
                with_claim("iat", json!(NOW + 60)),
                Rejected::WrongClaims,
                "issued in the future",
            ),
            (
                with_claim("iss", json!("someone-else")),
                Rejected::WrongClaims,
                "wrong iss",
            ),
            (
                with_claim("aud", json!("another-app")),
                Rejected::WrongClaims,
                "wrong aud",
            ),
            (
                with_claim("typ", json!("refresh")),
                Rejected::WrongClaims,
                "wrong type",
            ),
            (
                with_claim("sub", json!("not-a-number")),
                Rejected::WrongClaims,
                "bad sub",
            ),
            (
                valid[..valid.len() - 3].to_owned(),
                Rejected::BadSignature,
                "truncated",
            ),
            ("garbage".to_owned(), Rejected::Malformed, "garbage"),
            (String::new(), Rejected::Malformed, "empty"),
        ];
        for (token, expected, why) in cases {
            assert_eq!(verify(&s, &token, NOW), Err(expected), "{why}");
        }
    }

    #[test]
    fn tampering_with_the_payload_breaks_the_signature() {
        let key = key();
        let token = issue(&settings(&key), &principal(), "j".to_owned(), NOW);
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims = good_claims();
        claims["sub"] = json!("1");
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            base64url(claims.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(
            verify(&settings(&key), &tampered, NOW),
            Err(Rejected::BadSignature)
        );
    }

    #[test]
    fn expiry_allows_the_leeway_and_no_more() {
        let key = key();
        let token = issue(&settings(&key), &principal(), "j".to_owned(), NOW);
        assert!(verify(&settings(&key), &token, NOW + 900 + LEEWAY_SECONDS).is_ok());
        assert_eq!(
            verify(&settings(&key), &token, NOW + 901 + LEEWAY_SECONDS),
            Err(Rejected::Expired)
        );
    }
}
