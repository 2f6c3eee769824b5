use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use jwt_compact::alg::{Rsa, RsaPrivateKey, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};

use super::*;

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://accounts.example";
const CLIENT: &str = "our-client";

fn keys() -> &'static (RsaPrivateKey, RsaPrivateKey) {
    static KEYS: OnceLock<(RsaPrivateKey, RsaPrivateKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = rand_core::OsRng;
        (
            RsaPrivateKey::new(&mut rng, 2048).unwrap(),
            RsaPrivateKey::new(&mut rng, 2048).unwrap(),
        )
    })
}

fn jwks() -> Value {
    let public = RsaPublicKey::from(&keys().0);
    let mut jwk = serde_json::to_value(JsonWebKey::from(&public)).unwrap();
    jwk["kid"] = json!("k1");
    jwk["use"] = json!("sig");
    json!({"keys": [jwk]})
}

fn claims(overrides: Value) -> Value {
    let mut base = json!({
        "iss": ISSUER, "sub": "user-1", "aud": CLIENT, "nonce": "n-1",
        "email": "a@x.io", "email_verified": true, "name": "A",
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

fn sign_with(key: &RsaPrivateKey, kid: &str, custom: Value, exp: i64, iat: i64) -> String {
    let mut claims = Claims::new(custom);
    claims.expiration = Some(Utc.timestamp_opt(exp, 0).unwrap());
    claims.issued_at = Some(Utc.timestamp_opt(iat, 0).unwrap());
    Rsa::rs256()
        .token(&Header::empty().with_key_id(kid), &claims, key)
        .unwrap()
}

fn sign(custom: Value) -> String {
    sign_with(&keys().0, "k1", custom, NOW + 300, NOW)
}

fn expected() -> Expected<'static> {
    Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: "n-1",
        now: NOW,
    }
}

#[test]
fn a_valid_token_gives_the_identity() {
    let identity = verify(&sign(claims(json!({}))), &jwks(), &expected()).unwrap();
    assert_eq!(
        identity,
        Identity {
            subject: "user-1".into(),
            email: Some("a@x.io".into()),
            email_verified: true,
            name: Some("A".into()),
        }
    );
    let text = verify(
        &sign(claims(
            json!({"email_verified": "true", "aud": [CLIENT, "other"], "azp": CLIENT}),
        )),
        &jwks(),
        &expected(),
    )
    .unwrap();
    assert!(text.email_verified, "the string form some providers send");
    let unverified = verify(
        &sign(claims(json!({"email_verified": null}))),
        &jwks(),
        &expected(),
    );
    assert!(
        !unverified.unwrap().email_verified,
        "absent is not verified"
    );
}

#[test]
fn every_claim_rule_refuses_with_its_name() {
    let cases = [
        (claims(json!({"iss": "https://evil.example"})), "iss"),
        (claims(json!({"aud": "another-client"})), "aud"),
        (claims(json!({"aud": [CLIENT, "other"]})), "azp"),
        (claims(json!({"azp": "other"})), "azp"),
        (claims(json!({"nonce": "n-2"})), "nonce"),
        (claims(json!({"nonce": null})), "nonce"),
        (claims(json!({"sub": ""})), "sub"),
    ];
    for (custom, claim) in cases {
        assert_eq!(
            verify(&sign(custom), &jwks(), &expected()),
            Err(IdTokenError::Claim(claim)),
            "{claim}"
        );
    }
    let expired = sign_with(
        &keys().0,
        "k1",
        claims(json!({})),
        NOW - LEEWAY_SECONDS,
        NOW - 600,
    );
    assert_eq!(
        verify(&expired, &jwks(), &expected()),
        Err(IdTokenError::Claim("exp"))
    );
    let future = sign_with(&keys().0, "k1", claims(json!({})), NOW + 900, NOW + 600);
    assert_eq!(
        verify(&future, &jwks(), &expected()),
        Err(IdTokenError::Claim("iat"))
    );
}

#[test]
fn keys_and_algorithms_are_checked_before_claims() {
    let other_key = sign_with(&keys().1, "k1", claims(json!({})), NOW + 300, NOW);
    assert_eq!(
        verify(&other_key, &jwks(), &expected()),
        Err(IdTokenError::BadSignature)
    );
    let unknown_kid = sign_with(&keys().0, "k9", claims(json!({})), NOW + 300, NOW);
    assert_eq!(
        verify(&unknown_kid, &jwks(), &expected()),
        Err(IdTokenError::UnknownKey)
    );
    let hs256 = jwt_compact::alg::Hs256
        .token(
            &Header::empty().with_key_id("k1"),
            &Claims::new(claims(json!({}))),
            &jwt_compact::alg::Hs256Key::new(b"k"),
        )
        .unwrap();
    assert!(matches!(
        verify(&hs256, &jwks(), &expected()),
        Err(IdTokenError::UnknownKey | IdTokenError::Algorithm(_))
    ));
    let none = format!(
        "{}.{}.",
        crate::core::random::base64url(br#"{"alg":"none"}"#),
        crate::core::random::base64url(claims(json!({})).to_string().as_bytes())
    );
    assert!(verify(&none, &jwks(), &expected()).is_err());
    assert_eq!(
        verify("not a token", &jwks(), &expected()),
        Err(IdTokenError::Malformed)
    );
}
