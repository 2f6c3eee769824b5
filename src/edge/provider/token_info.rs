//! What a client or resource server asks about tokens: UserInfo (OpenID Connect Core §5.3),
//! revocation (RFC 7009) and introspection (RFC 7662). Each checks the grant live in D1, so a
//! revoked grant's tokens stop working here at once.

use serde_json::{json, Map, Value};
use worker::{Method, Request, Response};

use crate::core::provider::access_token::{self as grant_token, Granted};
use crate::core::provider::config::ProviderConfig;
use crate::core::provider::scopes::Scopes;
use crate::core::provider::token_request::{required, INVALID_CLIENT};
use crate::core::sessions::refresh_token::RefreshToken;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{bearer_credential, body, json, read_form};
use crate::edge::provider::sql::grants;
use crate::edge::provider::token::{back_channel, refused};
use crate::edge::provider::{issuer, provider};

fn checked(
    req: &Request,
    ctx: &RouteContext,
    provider: &ProviderConfig,
    token: &str,
    now: i64,
) -> Option<Granted> {
    grant_token::verify(
        &ctx.data.config.token_keys,
        &issuer(req, provider),
        token,
        now,
    )
    .ok()
}

/// A refused bearer token (RFC 6750 §3.1).
fn bearer_refused(status: u16, error: &str, description: &str) -> Response {
    let response = json(
        status,
        &json!({"error": error, "error_description": description}),
    );
    let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    let _ = response.headers().set("WWW-Authenticate", &challenge);
    response
}

/// `GET|POST /oauth2/userinfo` with the client's access token: the claims its scopes allow.
pub async fn userinfo(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let provider = provider(&ctx)?;
    let now = now();
    // RFC 6750 §2.1 header, or §2.2 form body for a POST.
    let token = match bearer_credential(&req) {
        Some(token) => Some(token),
        None if req.method() == Method::Post => read_form(&mut req)
            .await?
            .into_iter()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v),
        None => None,
    };
    let Some(token) = token else {
        let response = json(
            401,
            &json!({"error": "invalid_token", "error_description": "An access token is required"}),
        );
        let _ = response.headers().set("WWW-Authenticate", "Bearer");
        return Ok(response);
    };
    // A token bound to another resource server (RFC 8707) is not for UserInfo.
    let Some(granted) = checked(&req, &ctx, provider, &token, now)
        .filter(|granted| granted.claims.aud == granted.claims.client_id)
    else {
        return Ok(bearer_refused(
            401,
            "invalid_token",
            "The access token is not valid",
        ));
    };
    let scope = Scopes::parse(&granted.claims.scope).unwrap_or_default();
    if !scope.contains("openid") {
        return Ok(bearer_refused(
            403,
            "insufficient_scope",
            "The openid scope is required",
        ));
    }
    let db = ctx.data.database(&ctx.env)?;
    let Some(account) =
        grants::live_grant(&db, &granted.claims.sid, &granted.claims.client_id, now).await?
    else {
        return Ok(bearer_refused(
            401,
            "invalid_token",
            "The grant was revoked",
        ));
    };
    ctx.data.log.set_user(account.user_id);
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(account.user_id.to_string()));
    if scope.contains("email") {
        claims.insert("email".into(), json!(account.email));
        claims.insert(
            "email_verified".into(),
            json!(account.email_verified_at.is_some()),
        );
    }
    if scope.contains("profile") {
        claims.insert("name".into(), json!(account.name));
    }
    Ok(json(200, &Value::Object(claims)))
}

/// `POST /oauth2/revoke {token, token_type_hint?}`: ends the grant of a refresh or access token
/// of the calling client. `200` whatever the token was (RFC 7009 §2.2).
pub async fn revoke(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let call = match back_channel(&mut req, &ctx).await? {
        Ok(call) => call,
        Err(answer) => return Ok(answer),
    };
    let (provider, form, db, client, now) =
        (call.provider, call.form, call.db, call.client, call.now);
    let token = match required(&form, "token", "token is required") {
        Ok(token) => token,
        Err(e) => return Ok(refused(&e)),
    };
    if let Some(granted) = checked(&req, &ctx, provider, token, now) {
        grants::revoke_by_id(&db, &granted.claims.sid, &client.id, now).await?;
    } else if let Some(refresh) = RefreshToken::parse(token) {
        grants::revoke_by_refresh(&db, &refresh.digest(), &client.id, now).await?;
    }
    Ok(body(200, "application/json; charset=utf-8", b"{}".to_vec()))
}

/// `POST /oauth2/introspect {token}` by a confidential client (a resource server registers as
/// one): whether the token is active, and what it grants. Any client's access tokens (they are
/// presented to resource servers); refresh tokens only the caller's own.
pub async fn introspect(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let call = match back_channel(&mut req, &ctx).await? {
        Ok(call) => call,
        Err(answer) => return Ok(answer),
    };
    let (provider, form, db, client, now) =
        (call.provider, call.form, call.db, call.client, call.now);
    if !client.is_confidential() {
        return Ok(refused(&INVALID_CLIENT));
    }
    let token = match required(&form, "token", "token is required") {
        Ok(token) => token,
        Err(e) => return Ok(refused(&e)),
    };
    let iss = issuer(&req, provider);
    let inactive = json!({"active": false});
    if let Some(granted) = checked(&req, &ctx, provider, token, now) {
        let claims = &granted.claims;
        let live = grants::live_grant(&db, &claims.sid, &claims.client_id, now).await?;
        if live.is_none() {
            return Ok(json(200, &inactive));
        }
        let mut active = json!({
            "active": true,
            "token_type": "Bearer",
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": iss,
            "exp": granted.expires_at,
            "iat": granted.issued_at,
            "jti": claims.jti,
            "auth_time": claims.auth_time,
        });
        // The organization as the token carries it (as issued, like its scope).
        if let Some(org) = &claims.org {
            active["org_id"] = json!(org.org_id);
            active["org_role"] = json!(org.org_role);
            active["org_permissions"] = json!(org.org_permissions);
        }
        return Ok(json(200, &active));
    }
    let live = match RefreshToken::parse(token) {
        Some(refresh) => grants::live_refresh(&db, &refresh.digest(), now).await?,
        None => None,
    };
    Ok(json(
        200,
        &match live.filter(|grant| grant.client_id == client.id) {
            Some(grant) => json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": grant.scope,
                "client_id": grant.client_id,
                "sub": grant.user_id.to_string(),
                "iss": iss,
                "exp": grant.expires_at,
                "iat": grant.issued_at,
            }),
            None => inactive,
        },
    ))
}
