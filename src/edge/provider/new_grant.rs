//! What a new grant gets: the spend of the code that makes it (an authorization code, an approved
//! device code), its access token (RFC 9068, `aud` its resource), and its ID token (OpenID Connect
//! Core §2), for the token endpoint's grants alike.

use serde_json::{json, Map, Value};
use worker::{D1PreparedStatement, Request};

use crate::core::organizations::claims::OrgClaims;
use crate::core::provider::access_token::{self as grant_token, GrantClaims};
use crate::core::provider::config::ProviderConfig;
use crate::core::provider::id_token::{self, IdClaims, ID_TOKEN_TTL_SECONDS};
use crate::core::provider::resource::audience;
use crate::core::provider::scopes::Scopes;
use crate::core::random;
use crate::core::sessions::amr;
use crate::core::sessions::refresh_token::RefreshToken;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::http::user_agent;
use crate::edge::provider::sql::clients::Client;
use crate::edge::provider::sql::grants::Spend;
use crate::edge::provider::{provider, rsa};
use crate::edge::sessions::sql::sessions;

/// Who signed in for a grant, as its ID token tells it.
pub struct Person {
    pub email: String,
    pub name: Option<String>,
    pub email_verified_at: Option<i64>,
    pub amr: Option<String>,
    pub browser_session: String,
}

/// The ID token of a new grant (OpenID Connect Core §2), with the claims its scopes allow.
pub async fn id_token_for(
    ctx: &RouteContext,
    iss: &str,
    client: &Client,
    grant: &Grant<'_>,
    person: &Person,
    nonce: Option<String>,
    now: i64,
) -> Result<String, ApiError> {
    let provider = provider(ctx)?;
    let scope = grant.scope;
    let claims = IdClaims {
        iss: iss.to_owned(),
        sub: grant.user_id.to_string(),
        aud: client.id.clone(),
        azp: client.id.clone(),
        exp: now + ID_TOKEN_TTL_SECONDS,
        iat: now,
        auth_time: grant.auth_time,
        nonce,
        amr: amr::claim(person.amr.as_deref()),
        sid: person.browser_session.clone(),
        email: scope.contains("email").then(|| person.email.clone()),
        email_verified: scope
            .contains("email")
            .then_some(person.email_verified_at.is_some()),
        name: scope.contains("profile").then(|| person.name.clone()),
    };
    signed_id_token(ctx, provider, client, &claims).await
}

/// The ID token, signed as the client registered: EdDSA with the access-token key, else RS256
/// through WebCrypto.
async fn signed_id_token(
    ctx: &RouteContext,
    provider: &ProviderConfig,
    client: &Client,
    claims: &IdClaims,
) -> Result<String, ApiError> {
    if client.id_token_alg == "EdDSA" {
        return Ok(id_token::sign_eddsa(&ctx.data.config.token_keys, claims));
    }
    let input = id_token::signing_input("RS256", &provider.rsa.kid, claims);
    let signature = rsa::sign(&provider.rsa, input.as_bytes()).await?;
    Ok(id_token::assemble(&input, &signature))
}

/// A grant about to be made by spending a code: its session id, the spend's marker, its first
/// refresh token and the client's User-Agent.
pub struct NewGrant {
    pub session_id: String,
    pub marker: String,
    pub refresh: RefreshToken,
    pub user_agent: Option<String>,
}

impl NewGrant {
    pub fn new(req: &Request) -> Self {
        Self {
            session_id: random::identifier(),
            marker: random::identifier(),
            refresh: RefreshToken::generate(),
            user_agent: user_agent(req),
        }
    }

    /// The spend of the code whose digest is `digest`, the grant lasting until `expires_at`.
    pub fn spend<'a>(&'a self, digest: &'a str, expires_at: i64) -> Spend<'a> {
        Spend {
            digest,
            marker: &self.marker,
            session_id: &self.session_id,
            expires_at,
            user_agent: self.user_agent.as_deref(),
        }
    }

    /// The grant's first refresh token, stored in the spend's batch.
    pub fn first_refresh_token(&self, db: &Db, now: i64) -> Result<D1PreparedStatement, ApiError> {
        sessions::add_refresh_token(db, &self.refresh.digest(), &self.session_id, now)
    }
}

/// What a grant's access token says: whose, which session, for what, for which resource, and
/// in which organization.
pub struct Grant<'a> {
    pub user_id: i64,
    pub session_id: &'a str,
    pub scope: &'a Scopes,
    pub resource: Option<&'a str>,
    pub auth_time: i64,
    /// The organization chosen at consent with the member's role now (`None` without the
    /// `organization` scope, or once they left it).
    pub org: Option<OrgClaims>,
}

/// The access token and what every token answer says. Its `aud` is the grant's resource
/// (RFC 8707 §2.2), else the client.
pub fn tokens(
    ctx: &RouteContext,
    iss: &str,
    client: &Client,
    grant: &Grant<'_>,
    now: i64,
) -> Map<String, Value> {
    let config = &ctx.data.config;
    let scope = grant.scope;
    let claims = GrantClaims {
        iss: iss.to_owned(),
        sub: grant.user_id.to_string(),
        aud: audience(grant.resource, &client.id).to_owned(),
        client_id: client.id.clone(),
        scope: scope.to_string(),
        sid: grant.session_id.to_owned(),
        jti: random::identifier(),
        auth_time: grant.auth_time,
        org: grant.org.clone(),
    };
    let access = grant_token::issue(&config.token_keys, claims, now, config.access_token_ttl);
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(config.access_token_ttl));
    body.insert("scope".into(), json!(scope.to_string()));
    body
}
