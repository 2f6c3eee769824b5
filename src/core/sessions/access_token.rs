//! Access tokens: EdDSA (Ed25519) JWTs naming a user and a session, checked as RFC 8725 advises.
//! Any backend can verify them with the public keys of `/.well-known/jwks.json`.

use chrono::{DateTime, Duration, Utc};
use jwt_compact::alg::Ed25519;
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken};
use serde::{Deserialize, Serialize};

use crate::core::organizations::claims::OrgClaims;
use crate::core::sessions::token_keys::TokenKeys;

/// The `typ` header of our access tokens (RFC 9068 §2.1; RFC 8725 §3.11 explicit typing).
const HEADER_TYPE: &str = "at+jwt";
/// The claim that tells an access token from anything else we sign (API.md "Tokens and sessions").
const TOKEN_KIND: &str = "access";
/// Clock skew tolerated on `exp` and `iat`, for tokens checked on another edge machine.
const LEEWAY_SECONDS: i64 = 5;

/// Every header field jwt-compact does not name itself (it names `alg`, `typ`, `kid`, `jku`,
/// `x5u`, `x5t` and `x5t#S256`), so that the header can be held to an allow-list.
pub type OtherHeaderFields = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Serialize, Deserialize)]
struct AccessClaims {
    sub: String,
    sid: String,
    jti: String,
    iss: String,
    aud: String,
    typ: String,
    /// When the session's user signed in (OpenID Connect Core §2); absent in tokens issued
    /// before it was added, read as 0 (long ago).
    #[serde(default)]
    auth_time: i64,
    /// How they signed in (RFC 8176).
    #[serde(default)]
    amr: Vec<String>,
    /// The session's active organization, the member's role and its permissions
    /// (`core/organizations/claims.rs`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_permissions: Option<Vec<String>>,
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub session_id: String,
    /// When the session's sign-in happened (Unix seconds): its `auth_time`.
    pub auth_time: i64,
    /// How the user signed in: its `amr` (RFC 8176 values).
    pub amr: Vec<String>,
    /// The active organization when the token was issued, with the member's role then (routes
    /// of this worker read the membership again; the token's word lasts until it expires).
    pub org: Option<OrgClaims>,
}

/// The parts of the configuration a token is issued and checked against.
pub struct TokenSettings<'a> {
    pub keys: &'a TokenKeys,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub ttl_seconds: i64,
}

/// Why a token was refused. Clients see one `401` for all of them; the reason is for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    Malformed,
    ForbiddenHeader,
    UnknownKey,
    BadSignature,
    Expired,
    WrongClaims,
}

pub fn at(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Signs an access token for `principal` with the current key, valid from `now` for the
/// configured lifetime. The header is `{"alg": "EdDSA", "kid", "typ": "at+jwt"}`.
pub fn issue(settings: &TokenSettings, principal: &Principal, jti: String, now: i64) -> String {
    let (org_id, org_role, org_permissions) = OrgClaims::flat(principal.org.as_ref());
    let custom = AccessClaims {
        sub: principal.user_id.to_string(),
        sid: principal.session_id.clone(),
        jti,
        iss: settings.issuer.to_owned(),
        aud: settings.audience.to_owned(),
        typ: TOKEN_KIND.to_owned(),
        auth_time: principal.auth_time,
        amr: principal.amr.clone(),
        org_id,
        org_role,
        org_permissions,
    };
    let clock = TimeOptions::new(Duration::zero(), move || at(now));
    let claims = Claims::new(custom)
        .set_duration_and_issuance(&clock, Duration::seconds(settings.ttl_seconds));
    let (kid, key) = settings.keys.signing();
    let header = Header::empty()
        .with_key_id(kid)
        .with_token_type(HEADER_TYPE);
    Ed25519
        .token(&header, &claims, key)
        .expect("our claims always serialise")
}

/// Checks a presented token: the algorithm is pinned to EdDSA (`none`, HS256 and every other `alg`
/// fail), `kid` must name one of our keys, key-location headers are refused, and `exp`, `iat`,
/// `iss`, `aud` and the type are required (RFC 8725 §2.1, §3.1, §3.8–3.11).
pub fn verify(settings: &TokenSettings, token: &str, now: i64) -> Result<Principal, Rejected> {
    verify_until(settings, token, now).map(|(principal, _)| principal)
}

/// Like [`verify`], with the token's `exp` (Unix seconds).
pub fn verify_until(
    settings: &TokenSettings,
    token: &str,
    now: i64,
) -> Result<(Principal, i64), Rejected> {
    let Current {
        claims: custom,
        expires_at,
        ..
    } = current::<AccessClaims>(settings.keys, token, now)?;
    if custom.typ != TOKEN_KIND
        || custom.iss != settings.issuer
        || custom.aud != settings.audience
        || custom.sid.is_empty()
    {
        return Err(Rejected::WrongClaims);
    }
    let user_id = custom.sub.parse().map_err(|_| Rejected::WrongClaims)?;
    let principal = Principal {
        user_id,
        session_id: custom.sid,
        auth_time: custom.auth_time,
        amr: custom.amr,
        org: OrgClaims::from_flat((custom.org_id, custom.org_role, custom.org_permissions)),
    };
    Ok((principal, expires_at))
}

/// A current access token of ours: its own claims (not yet checked), `iat` and `exp` (Unix
/// seconds).
pub struct Current<T> {
    pub claims: T,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A token signed by one of our access-token keys and current at `now`: `exp` present and not
/// past (`Expired`), `iat` present and not in the future (`WrongClaims`), each with the leeway
/// for another machine's clock. Shared by the first-party access tokens and the provider's
/// (`core/provider/access_token.rs`), which check their own claims after it.
pub fn current<T: serde::de::DeserializeOwned>(
    keys: &TokenKeys,
    token: &str,
    now: i64,
) -> Result<Current<T>, Rejected> {
    let (_, claims) = signed_by_us::<T>(keys, token)?.into_parts();
    let clock = TimeOptions::new(Duration::seconds(LEEWAY_SECONDS), move || at(now));
    claims
        .validate_expiration(&clock)
        .map_err(|_| Rejected::Expired)?;
    let expires_at = claims
        .expiration
        .map(|exp| exp.timestamp())
        .ok_or(Rejected::Expired)?;
    let issued_at = match claims.issued_at.map(|iat| iat.timestamp()) {
        Some(iat) if iat <= now + LEEWAY_SECONDS => iat,
        _ => return Err(Rejected::WrongClaims),
    };
    Ok(Current {
        claims: claims.custom,
        issued_at,
        expires_at,
    })
}

/// A token signed by one of our access-token keys, its claims parsed as `T` but not yet checked:
/// the algorithm is pinned to EdDSA (`none`, HS256 and every other `alg` fail), `kid` must name
/// one of our keys, and the header is held to `alg`, `typ: at+jwt` and `kid`.
fn signed_by_us<T: serde::de::DeserializeOwned>(
    keys: &TokenKeys,
    token: &str,
) -> Result<jwt_compact::Token<T, OtherHeaderFields>, Rejected> {
    let untrusted =
        UntrustedToken::<OtherHeaderFields>::try_from(token).map_err(|_| Rejected::Malformed)?;
    let header = untrusted.header();
    // The header allow-list is `alg`, `typ` and `kid`: anything else, above all a field that
    // points at a key of the sender's choosing (`jku`, `jwk`, `x5u`, `x5c`) or demands extensions
    // (`crit`), is refused (RFC 7515 §4.1; RFC 8725 §3.10).
    if !header.other_fields.is_empty()
        || header.key_set_url.is_some()
        || header.certificate_url.is_some()
        || header.certificate_sha1_thumbprint.is_some()
        || header.certificate_thumbprint.is_some()
        || header.token_type.as_deref() != Some(HEADER_TYPE)
    {
        return Err(Rejected::ForbiddenHeader);
    }
    // The kid only selects among our own keys; it is never a path, URL or query (RFC 8725 §3.10).
    let key = header
        .key_id
        .as_deref()
        .and_then(|kid| keys.verifying(kid))
        .ok_or(Rejected::UnknownKey)?;
    // The validator checks that the token's `alg` is exactly "EdDSA" before the signature.
    Ed25519
        .validator::<T>(key)
        .validate(&untrusted)
        .map_err(|_| Rejected::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::random::base64url;
    use crate::core::sessions::token_keys::tests::{NEXT_PRIVATE, NEXT_PUBLIC, RFC_8037_PRIVATE};
    use jwt_compact::{Algorithm, AlgorithmSignature};
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    /// The RFC 8037 key signs; `next` is honoured too.
    fn keys() -> TokenKeys {
        TokenKeys::parse(Some(RFC_8037_PRIVATE), Some(&format!("[{NEXT_PUBLIC}]"))).unwrap()
    }

    fn settings(keys: &TokenKeys) -> TokenSettings<'_> {
        TokenSettings {
            keys,
            issuer: "edge-auth",
            audience: "edge-auth",
            ttl_seconds: 900,
        }
    }

    fn principal() -> Principal {
        Principal {
            user_id: 42,
            session_id: "sess-1".to_owned(),
            auth_time: 1_700_000_000,
            amr: vec!["pwd".to_owned(), "otp".to_owned(), "mfa".to_owned()],
            org: None,
        }
    }

    fn kid() -> String {
        keys().signing().0.to_owned()
    }

    /// Signs arbitrary header and claims JSON with Ed25519 under the signing key of `private_jwk`,
    /// as an attacker holding a key would.
    fn forge(header: serde_json::Value, claims: serde_json::Value, private_jwk: &str) -> String {
        let signer = TokenKeys::parse(Some(private_jwk), None).unwrap();
        let signing_input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let signature = Ed25519.sign(signer.signing().1, signing_input.as_bytes());
        format!("{signing_input}.{}", base64url(&signature.as_bytes()))
    }

    /// Signs arbitrary header and claims with HMAC-SHA256 under `key`.
    fn forge_hmac(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
        let signing_input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let mac = crate::core::keys::hmac_sha256(key, signing_input.as_bytes());
        format!("{signing_input}.{}", base64url(&mac))
    }

    fn good_header() -> serde_json::Value {
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid()})
    }

    fn good_claims() -> serde_json::Value {
        json!({"sub": "42", "sid": "sess-1", "jti": "j", "iss": "edge-auth", "aud": "edge-auth",
               "typ": "access", "iat": NOW, "exp": NOW + 900,
               "auth_time": 1_700_000_000, "amr": ["pwd", "otp", "mfa"]})
    }

    #[test]
    fn a_fresh_token_round_trips_with_its_kid() {
        let keys = keys();
        let token = issue(&settings(&keys), &principal(), "jti-1".to_owned(), NOW);
        assert_eq!(verify(&settings(&keys), &token, NOW + 10), Ok(principal()));
        let header = UntrustedToken::<OtherHeaderFields>::try_from(token.as_str()).unwrap();
        assert_eq!(header.algorithm(), "EdDSA");
        assert_eq!(header.header().key_id.as_deref(), Some(kid().as_str()));
        assert_eq!(header.header().token_type.as_deref(), Some("at+jwt"));
    }

    #[test]
    fn an_active_organization_rides_in_flat_claims_and_round_trips() {
        let keys = keys();
        let roles = crate::core::organizations::roles::Roles::default();
        let role = roles.get("admin").unwrap();
        let with_org = Principal {
            org: Some(OrgClaims::new("org-1", &role)),
            ..principal()
        };
        let token = issue(&settings(&keys), &with_org, "jti-1".to_owned(), NOW);
        assert_eq!(verify(&settings(&keys), &token, NOW + 10), Ok(with_org));
        let payload = token.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&crate::core::random::base64url_decode(payload).unwrap())
                .unwrap();
        assert_eq!(claims["org_id"], "org-1");
        assert_eq!(claims["org_role"], "admin");
        assert_eq!(claims["org_permissions"][0], "org:read");
        let plain = issue(&settings(&keys), &principal(), "jti-2".to_owned(), NOW);
        let payload = plain.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&crate::core::random::base64url_decode(payload).unwrap())
                .unwrap();
        assert!(claims.get("org_id").is_none());
    }

    #[test]
    fn forged_tokens_with_the_right_key_and_shape_pass() {
        // The forge helper is trusted only because this control case passes.
        let token = forge(good_header(), good_claims(), RFC_8037_PRIVATE);
        assert_eq!(verify(&settings(&keys()), &token, NOW), Ok(principal()));
        // So does a token of the honoured key `next`, named by its kid.
        let next = forge(
            json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "next"}),
            good_claims(),
            NEXT_PRIVATE,
        );
        assert_eq!(verify(&settings(&keys()), &next, NOW), Ok(principal()));
    }

    #[test]
    fn attacks_are_rejected() {
        let keys = keys();
        let s = settings(&keys);
        let valid = issue(&s, &principal(), "j".to_owned(), NOW);
        let mut claims_without_exp = good_claims();
        claims_without_exp.as_object_mut().unwrap().remove("exp");
        let ed = |header: serde_json::Value| forge(header, good_claims(), RFC_8037_PRIVATE);
        let with_claim = |name: &str, value: serde_json::Value| {
            let mut claims = good_claims();
            claims[name] = value;
            forge(good_header(), claims, RFC_8037_PRIVATE)
        };
        let public_x = b"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let unsigned = format!(
            "{}.{}.",
            base64url(
                json!({"alg": "none", "typ": "at+jwt", "kid": kid()})
                    .to_string()
                    .as_bytes()
            ),
            base64url(good_claims().to_string().as_bytes())
        );
        let cases: Vec<(String, Rejected, &str)> = vec![
            (unsigned, Rejected::BadSignature, "alg none"),
            (
                forge_hmac(
                    json!({"alg": "HS256", "typ": "at+jwt", "kid": kid()}),
                    good_claims(),
                    public_x,
                ),
                Rejected::BadSignature,
                "HS256 keyed with the public key (algorithm confusion)",
            ),
            (
                ed(json!({"alg": "Ed25519", "typ": "at+jwt", "kid": kid()})),
                Rejected::BadSignature,
                "another name for the algorithm",
            ),
            (
                forge(good_header(), good_claims(), NEXT_PRIVATE),
                Rejected::BadSignature,
                "another honoured key's signature under this kid",
            ),
            (
                ed(json!({"alg": "EdDSA", "typ": "at+jwt"})),
                Rejected::UnknownKey,
                "no kid",
            ),
            (
                ed(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "../../dev/null"})),
                Rejected::UnknownKey,
                "kid of no key of ours",
            ),
            (
                ed(
                    json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(), "jku": "https://evil.example/jwks"}),
                ),
                Rejected::ForbiddenHeader,
                "jku",
            ),
            (
                ed(
                    json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(), "x5u": "https://evil.example/cert"}),
                ),
                Rejected::ForbiddenHeader,
                "x5u",
            ),
            (
                ed(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(), "jwk": {"kty": "OKP"}})),
                Rejected::ForbiddenHeader,
                "embedded jwk",
            ),
            (
                ed(json!({"alg": "EdDSA", "kid": kid()})),
                Rejected::ForbiddenHeader,
                "no typ header",
            ),
            (
                ed(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(), "crit": ["exp"]})),
                Rejected::ForbiddenHeader,
                "crit",
            ),
            (
                ed(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(), "x5c": ["MIIB"]})),
                Rejected::ForbiddenHeader,
                "x5c",
            ),
            (
                ed(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(), "zip": "DEF"})),
                Rejected::ForbiddenHeader,
                "a header outside the allow-list (zip)",
            ),
            (
                ed(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(), "cty": "JWT"})),
                Rejected::Malformed,
                "a nested token (cty), which jwt-compact does not parse",
            ),
            (
                forge(good_header(), claims_without_exp, RFC_8037_PRIVATE),
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
            ("garbage".to_owned(), Rejected::Malformed, "garbage"),
            (String::new(), Rejected::Malformed, "empty"),
        ];
        for (token, expected, why) in cases {
            assert_eq!(verify(&s, &token, NOW), Err(expected), "{why}");
        }
        // A signature of the wrong length: refused before or by the signature check.
        let truncated = verify(&s, &valid[..valid.len() - 3], NOW);
        assert!(
            matches!(truncated, Err(Rejected::Malformed | Rejected::BadSignature)),
            "truncated: {truncated:?}"
        );
    }

    #[test]
    fn a_dropped_key_no_longer_verifies_its_tokens() {
        let rotated = TokenKeys::parse(Some(NEXT_PRIVATE), None).unwrap();
        let old = issue(&settings(&keys()), &principal(), "j".to_owned(), NOW);
        assert_eq!(
            verify(&settings(&rotated), &old, NOW),
            Err(Rejected::UnknownKey)
        );
        let overlap = TokenKeys::parse(
            Some(NEXT_PRIVATE),
            Some(&format!("[{}]", public_of_rfc_key())),
        )
        .unwrap();
        assert_eq!(verify(&settings(&overlap), &old, NOW), Ok(principal()));
    }

    fn public_of_rfc_key() -> String {
        let jwks: serde_json::Value = serde_json::from_str(keys().jwks()).unwrap();
        jwks["keys"][0].to_string()
    }

    #[test]
    fn tampering_with_the_payload_breaks_the_signature() {
        let keys = keys();
        let token = issue(&settings(&keys), &principal(), "j".to_owned(), NOW);
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
            verify(&settings(&keys), &tampered, NOW),
            Err(Rejected::BadSignature)
        );
    }

    #[test]
    fn expiry_allows_the_leeway_and_no_more() {
        let keys = keys();
        let token = issue(&settings(&keys), &principal(), "j".to_owned(), NOW);
        assert!(verify(&settings(&keys), &token, NOW + 900 + LEEWAY_SECONDS).is_ok());
        assert_eq!(
            verify(&settings(&keys), &token, NOW + 901 + LEEWAY_SECONDS),
            Err(Rejected::Expired)
        );
    }
}
