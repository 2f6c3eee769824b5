//! The provider's access tokens: RFC 9068 JWTs (`typ: at+jwt`) for the client's resource
//! servers, signed with the access-token keys (EdDSA) and so verifiable from the JWKS. They carry
//! `client_id` and `scope`, and the grant's session (`sid`), which this worker's UserInfo and
//! introspection check live. With the `organization` scope they also carry the organization
//! chosen at consent, as a first-party token carries its active one. They can never pass as a
//! first-party token: those need `typ: access` and this deployment's `JWT_AUDIENCE`
//! (`core/sessions/access_token.rs`).

use chrono::Duration;
use jwt_compact::alg::Ed25519;
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions};
use serde::{Deserialize, Serialize};

use crate::core::organizations::claims::OrgClaims;
use crate::core::sessions::access_token::{at, current, Current, Rejected};
use crate::core::sessions::token_keys::TokenKeys;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(from = "Wire", into = "Wire")]
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
    /// The organization chosen at consent, the member's role now and its permissions, flat
    /// (`org_id`, `org_role`, `org_permissions`); absent without the `organization` scope, and
    /// once the person left it.
    pub org: Option<OrgClaims>,
}

/// The claims as the token carries them: the organization's flat (`claims::Flat`).
#[derive(Serialize, Deserialize)]
struct Wire {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    scope: String,
    sid: String,
    jti: String,
    auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_permissions: Option<Vec<String>>,
}

impl From<Wire> for GrantClaims {
    fn from(w: Wire) -> Self {
        Self {
            iss: w.iss,
            sub: w.sub,
            aud: w.aud,
            client_id: w.client_id,
            scope: w.scope,
            sid: w.sid,
            jti: w.jti,
            auth_time: w.auth_time,
            org: OrgClaims::from_flat((w.org_id, w.org_role, w.org_permissions)),
        }
    }
}

impl From<GrantClaims> for Wire {
    fn from(c: GrantClaims) -> Self {
        let (org_id, org_role, org_permissions) = OrgClaims::flat(c.org.as_ref());
        Self {
            iss: c.iss,
            sub: c.sub,
            aud: c.aud,
            client_id: c.client_id,
            scope: c.scope,
            sid: c.sid,
            jti: c.jti,
            auth_time: c.auth_time,
            org_id,
            org_role,
            org_permissions,
        }
    }
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
            org: None,
        }
    }

    fn payload(token: &str) -> serde_json::Value {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&crate::core::random::base64url_decode(payload).unwrap()).unwrap()
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
    fn an_organization_rides_in_flat_claims_only_when_there_is_one() {
        let keys = TokenKeys::parse(Some(RFC_8037_PRIVATE), None).unwrap();
        let roles = crate::core::organizations::roles::Roles::default();
        let with_org = GrantClaims {
            scope: "openid organization".into(),
            org: Some(OrgClaims::of_member(&roles, "org-1", "member")),
            ..claims()
        };
        let token = issue(&keys, with_org.clone(), NOW, 900);
        let granted = verify(&keys, "https://auth.example", &token, NOW).unwrap();
        assert_eq!(granted.claims, with_org);
        let flat = payload(&token);
        assert_eq!(flat["org_id"], "org-1");
        assert_eq!(flat["org_role"], "member");
        assert_eq!(flat["org_permissions"][0], "org:read");
        assert!(flat.get("org").is_none());
        let plain = payload(&issue(&keys, claims(), NOW, 900));
        for claim in ["org", "org_id", "org_role", "org_permissions"] {
            assert!(plain.get(claim).is_none(), "{claim}");
        }
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
            org: None,
        };
        let own = first_party::issue(&settings, &principal, "j".into(), NOW);
        assert!(verify(&keys, "https://auth.example", &own, NOW).is_err());
    }
}
