//! `POST /oauth2/token` (RFC 6749 §3.2): the `authorization_code` grant (with PKCE, RFC 7636)
//! and the `refresh_token` grant, whose tokens rotate with reuse detection through the same
//! machinery as a first-party session's (`sessions::routes::rotate_refresh`).

use serde_json::{json, Map, Value};
use worker::{Request, Response};

use crate::core::provider::access_token::{self as grant_token, GrantClaims};
use crate::core::provider::config::ProviderConfig;
use crate::core::provider::device::DEVICE_CODE_GRANT;
use crate::core::provider::id_token::{self, IdClaims, ID_TOKEN_TTL_SECONDS};
use crate::core::provider::resource::audience;
use crate::core::provider::scopes::Scopes;
use crate::core::provider::token_request::{
    self, required, same_resource, TokenError, INVALID_CLIENT,
};
use crate::core::random;
use crate::core::sessions::amr;
use crate::core::sessions::refresh_token::digest_of;
use crate::core::sessions::refresh_token::RefreshToken;
use crate::core::social::pkce;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading, took_effect, Db};
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_form, user_agent};
use crate::edge::provider::sql::clients::Client;
use crate::edge::provider::sql::{codes, grants};
use crate::edge::provider::{device, issuer, metadata_document, oauth_error, provider, rsa};
use crate::edge::sessions::routes::rotate_refresh;
use crate::edge::sessions::sql::sessions;

/// The answer to a refused token request: `401` for client authentication, else `400`.
pub fn refused(error: &TokenError) -> Response {
    let status = if error.error == "invalid_client" {
        401
    } else {
        400
    };
    oauth_error(status, error.error, error.description)
}

fn invalid_grant(description: &'static str) -> TokenError {
    TokenError {
        error: "invalid_grant",
        description,
    }
}

/// A back-channel request (token, revocation, introspection) of an authenticated client: a
/// confidential client by its secret (the current one, or the previous during a rotation's
/// overlap), a public one by its id alone.
pub struct BackChannel<'a> {
    pub provider: &'a ProviderConfig,
    pub form: Vec<(String, String)>,
    pub db: Db,
    pub client: Client,
    pub now: i64,
}

/// Reads the form and authenticates its client; `Err` is the answer already (`invalid_client`,
/// `invalid_request`).
pub async fn back_channel<'a>(
    req: &mut Request,
    ctx: &'a RouteContext,
) -> Result<Result<BackChannel<'a>, Response>, ApiError> {
    let provider = provider(ctx)?;
    let form = read_form(req).await?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let authorization = req.headers().get("Authorization").ok().flatten();
    let credentials = match token_request::client(authorization.as_deref(), &form) {
        Ok(credentials) => credentials,
        Err(e) => return Ok(Err(refused(&e))),
    };
    let Some(client) =
        metadata_document::client(req, ctx, &db, &credentials.client_id, now).await?
    else {
        return Ok(Err(refused(&INVALID_CLIENT)));
    };
    let authentic = match (client.is_confidential(), credentials.secret.as_deref()) {
        (true, Some(secret)) => client.secret_matches(&digest_of(secret), now),
        (false, None) => true,
        _ => false,
    };
    if !authentic {
        return Ok(Err(refused(&INVALID_CLIENT)));
    }
    Ok(Ok(BackChannel {
        provider,
        form,
        db,
        client,
        now,
    }))
}

pub async fn token(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let call = match back_channel(&mut req, &ctx).await? {
        Ok(call) => call,
        Err(answer) => return Ok(answer),
    };
    let answer = match token_request::field(&call.form, "grant_type") {
        Ok(Some("authorization_code")) => exchange(&req, &ctx, &call).await?,
        Ok(Some("refresh_token")) => refresh(&req, &ctx, &call).await?,
        Ok(Some(DEVICE_CODE_GRANT)) => device::poll(&req, &ctx, &call).await?,
        Ok(Some(_)) => Err(TokenError {
            error: "unsupported_grant_type",
            description:
                "grant_type must be authorization_code, refresh_token or the device code grant",
        }),
        Ok(None) => Err(TokenError {
            error: "invalid_request",
            description: "grant_type is required",
        }),
        Err(e) => Err(e),
    };
    Ok(match answer {
        Ok(body) => {
            let response = json(200, &Value::Object(body));
            let _ = response.headers().set("Pragma", "no-cache");
            response
        }
        Err(e) => refused(&e),
    })
}

/// The `authorization_code` grant: the code is the client's, for this redirect URI, unexpired,
/// unspent, and answers the PKCE challenge; spending it creates the grant's session and first
/// refresh token in one batch. A code presented again ends the grant it issued.
async fn exchange(
    req: &Request,
    ctx: &RouteContext,
    call: &BackChannel<'_>,
) -> Result<Result<Map<String, Value>, TokenError>, ApiError> {
    let (provider, form, db, client, now) =
        (call.provider, &call.form, &call.db, &call.client, call.now);
    let inputs = (|| {
        Ok::<_, TokenError>((
            required(form, "code", "code is required")?,
            required(form, "redirect_uri", "redirect_uri is required")?,
            required(form, "code_verifier", "code_verifier is required (PKCE)")?,
        ))
    })();
    let (code, redirect_uri, verifier) = match inputs {
        Ok(inputs) => inputs,
        Err(e) => return Ok(Err(e)),
    };
    let digest = digest_of(code);
    let Some(presented) = codes::read(db, &digest).await? else {
        return Ok(Err(invalid_grant("The code is unknown or expired")));
    };
    if presented.used_by.is_some() {
        codes::revoke_reused(db, &digest, now).await?;
        return Ok(Err(invalid_grant(
            "The code was already used; the tokens it issued are revoked",
        )));
    }
    if let Err(e) = same_resource(form, presented.resource.as_deref()) {
        return Ok(Err(e));
    }
    if presented.client_id != client.id
        || presented.redirect_uri != redirect_uri
        || presented.expires_at <= now
        || !pkce::verifies(verifier, &presented.code_challenge)
    {
        return Ok(Err(invalid_grant(
            "The code is not valid for this client, redirect_uri or code_verifier",
        )));
    }
    let session_id = random::identifier();
    let marker = random::identifier();
    let refresh = RefreshToken::generate();
    let agent = user_agent(req);
    let exchange = codes::Exchange {
        digest: &digest,
        marker: &marker,
        session_id: &session_id,
        expires_at: now + ctx.data.config.refresh_token_ttl,
        user_agent: agent.as_deref(),
    };
    let mut statements = codes::exchange(db, &exchange, now)?.to_vec();
    statements.push(sessions::add_refresh_token(
        db,
        &refresh.digest(),
        &session_id,
        now,
    )?);
    let results = batch(db, statements, "exchange code").await?;
    let [_spent, granted] = leading(&results, "exchange code")?;
    if !took_effect(granted, "read grant")? {
        // Another exchange spent it first, or the person signed out or was disabled meanwhile.
        codes::revoke_reused(db, &digest, now).await?;
        return Ok(Err(invalid_grant("The code is no longer valid")));
    }
    ctx.data.log.set_user(presented.user_id);
    let scope = Scopes::parse(&presented.scope).unwrap_or_default();
    let iss = issuer(req, provider);
    let grant = Grant {
        user_id: presented.user_id,
        session_id: &session_id,
        scope: &scope,
        resource: presented.resource.as_deref(),
        auth_time: presented.auth_time,
    };
    let mut body = tokens(ctx, &iss, client, &grant, now);
    body.insert("refresh_token".into(), json!(refresh.expose()));
    let person = Person {
        email: presented.email.clone(),
        name: presented.name.clone(),
        email_verified_at: presented.email_verified_at,
        amr: presented.amr.clone(),
        browser_session: presented.browser_session.clone(),
    };
    if scope.contains("openid") {
        let id_token = id_token_for(
            ctx,
            &iss,
            client,
            &grant,
            &person,
            presented.nonce.clone(),
            now,
        )
        .await?;
        body.insert("id_token".into(), json!(id_token));
    }
    Ok(Ok(body))
}

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

/// What a grant's access token says: whose, which session, for what and for which resource.
pub struct Grant<'a> {
    pub user_id: i64,
    pub session_id: &'a str,
    pub scope: &'a Scopes,
    pub resource: Option<&'a str>,
    pub auth_time: i64,
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
    };
    let access = grant_token::issue(&config.token_keys, claims, now, config.access_token_ttl);
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(config.access_token_ttl));
    body.insert("scope".into(), json!(scope.to_string()));
    body
}

/// The `refresh_token` grant: the client's own grant rotates (one successor, even for
/// concurrent requests within the grace window; reuse ends the grant). A narrower `scope` may
/// be asked for (RFC 6749 §6).
async fn refresh(
    req: &Request,
    ctx: &RouteContext,
    call: &BackChannel<'_>,
) -> Result<Result<Map<String, Value>, TokenError>, ApiError> {
    let (provider, form, db, client, now) =
        (call.provider, &call.form, &call.db, &call.client, call.now);
    let raw = match required(form, "refresh_token", "refresh_token is required") {
        Ok(raw) => raw,
        Err(e) => return Ok(Err(e)),
    };
    let Some(presented) = RefreshToken::parse(raw) else {
        return Ok(Err(invalid_grant("The refresh token is not valid")));
    };
    // A wrong `resource` is refused before the token is spent: refused after, the client would
    // never see the successor and its next refresh would end the grant as a reuse.
    if form.iter().any(|(k, _)| k == "resource") {
        if let Some(live) = grants::live_refresh(db, &presented.digest(), now).await? {
            if let Err(e) = same_resource(form, live.resource.as_deref()) {
                return Ok(Err(e));
            }
        }
    }
    let (rotation, successor) =
        match rotate_refresh(req, &ctx.data, db, &presented, Some(&client.id), now).await {
            Ok(rotated) => rotated,
            Err(ApiError::Unauthorized) => {
                return Ok(Err(invalid_grant(
                    "The refresh token is not valid, spent or revoked",
                )))
            }
            Err(e) => return Err(e),
        };
    if let Err(e) = same_resource(form, rotation.resource.as_deref()) {
        return Ok(Err(e));
    }
    let granted = Scopes::parse(rotation.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    let scope = match token_request::field(form, "scope") {
        Ok(Some(asked)) => match Scopes::parse(asked) {
            Ok(asked) if asked.within(&granted) && !asked.is_empty() => asked,
            _ => {
                return Ok(Err(TokenError {
                    error: "invalid_scope",
                    description: "scope must be within the granted scope",
                }))
            }
        },
        Ok(None) => granted,
        Err(e) => return Ok(Err(e)),
    };
    ctx.data.log.set_user(rotation.user_id);
    let iss = issuer(req, provider);
    let grant = Grant {
        user_id: rotation.user_id,
        session_id: &rotation.session_id,
        scope: &scope,
        resource: rotation.resource.as_deref(),
        auth_time: rotation.auth_time,
    };
    let mut body = tokens(ctx, &iss, client, &grant, now);
    body.insert("refresh_token".into(), json!(successor.expose()));
    Ok(Ok(body))
}
