//! The provider's access tokens: RFC 9068 JWTs (`typ: at+jwt`) for the client's resource
//! servers, signed with the access-token keys (EdDSA) and so verifiable from the JWKS. They carry
//! `client_id` and `scope`, and the grant's session (`sid`), which this worker's UserInfo and
//! introspection check live. They can never pass as a first-party token: those need `typ:
//! access` and this deployment's `JWT_AUDIENCE` (`core/sessions/access_token.rs`).

use chrono::Duration;
use jwt_compact::alg::Ed25519;
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions};
use serde::{Deserialize, Serialize};

use crate::core::sessions::access_token::{at, current, Current, Rejected};
use crate::core::sessions::token_keys::TokenKeys;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GrantClaims {
    pub iss: String,
    pub sub: String,
    /// The resource the token is for: the client itself until resource indicators name another.
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub sid: String,
    pub jti: String,
    pub auth_time: i64,
}

/// A checked provider access token: its claims and `exp`, `iat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub claims: GrantClaims,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Signs `claims` for `ttl_seconds` from `now` with the current access-token key.
pub fn issue(keys: &TokenKeys, claims: GrantClaims, now: i64, ttl_seconds: i64) -> String {
    let clock = TimeOptions::new(Duration::zero(), move || at(now));
    let claims =
        Claims::new(claims).set_duration_and_issuance(&clock, Duration::seconds(ttl_seconds));
    let (kid, key) = keys.signing();
    let header = Header::empty().with_key_id(kid).with_token_type("at+jwt");
    Ed25519
        .token(&header, &claims, key)
        .expect("our claims always serialise")
}

/// Checks a presented provider token: signed by our keys (RFC 8725 as the first-party tokens
/// are), unexpired, issued by `issuer`, with a client and a session.
pub fn verify(keys: &TokenKeys, issuer: &str, token: &str, now: i64) -> Result<Granted, Rejected> {
    let Current {
        claims,
        issued_at,
        expires_at,
    } = current::<GrantClaims>(keys, token, now)?;
    if claims.iss != issuer || claims.client_id.is_empty() || claims.sid.is_empty() {
        return Err(Rejected::WrongClaims);
    }
    Ok(Granted {
        claims,
        issued_at,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::sessions::access_token::{self as first_party, Principal, TokenSettings};
    use crate::core::sessions::token_keys::tests::RFC_8037_PRIVATE;

    const NOW: i64 = 1_800_000_000;

    fn claims() -> GrantClaims {
        GrantClaims {
            iss: "https://auth.example".into(),
            sub: "7".into(),
            aud: "client-1".into(),
            client_id: "client-1".into(),
            scope: "openid email".into(),
            sid: "grant-1".into(),
            jti: "j".into(),
            auth_time: NOW - 10,
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires_and_only_for_its_issuer() {
        let keys = TokenKeys::parse(Some(RFC_8037_PRIVATE), None).unwrap();
        let token = issue(&keys, claims(), NOW, 900);
        let granted = verify(&keys, "https://auth.example", &token, NOW + 10).unwrap();
        assert_eq!(granted.claims, claims());
        assert_eq!(granted.expires_at, NOW + 900);
        assert_eq!(
            verify(&keys, "https://other.example", &token, NOW),
            Err(Rejected::WrongClaims)
        );
        assert_eq!(
            verify(&keys, "https://auth.example", &token, NOW + 2000),
            Err(Rejected::Expired)
        );
    }

    #[test]
    fn provider_and_first_party_tokens_never_pass_for_each_other() {
        let keys = TokenKeys::parse(Some(RFC_8037_PRIVATE), None).unwrap();
        let settings = TokenSettings {
            keys: &keys,
            issuer: "https://auth.example",
            audience: "client-1",
            ttl_seconds: 900,
        };
        let provider = issue(&keys, claims(), NOW, 900);
        assert!(first_party::verify(&settings, &provider, NOW).is_err());
        let principal = Principal {
            user_id: 7,
            session_id: "s".into(),
            auth_time: NOW,
            amr: vec![],
        };
        let own = first_party::issue(&settings, &principal, "j".into(), NOW);
        assert!(verify(&keys, "https://auth.example", &own, NOW).is_err());
    }
}
