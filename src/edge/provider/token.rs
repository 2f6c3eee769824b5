//! `POST /oauth2/token` (RFC 6749 §3.2): the `authorization_code` grant (with PKCE, RFC 7636)
//! and the `refresh_token` grant, whose tokens rotate with reuse detection through the same
//! machinery as a first-party session's (`sessions::routes::rotate_refresh`).

use serde_json::{json, Map, Value};
use worker::{Request, Response};

use crate::core::organizations::claims::OrgClaims;
use crate::core::provider::config::ProviderConfig;
use crate::core::provider::device::DEVICE_CODE_GRANT;
use crate::core::provider::resource::asked;
use crate::core::provider::scopes::{Scopes, ORGANIZATION};
use crate::core::provider::token_request::{
    self, required, same_resource, TokenError, INVALID_CLIENT,
};
use crate::core::sessions::refresh_token::digest_of;
use crate::core::sessions::refresh_token::RefreshToken;
use crate::core::social::pkce;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading, took_effect, Db};
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_form};
use crate::edge::organizations::org_claims;
use crate::edge::provider::new_grant::{id_token_for, tokens, Grant, NewGrant, Person};
use crate::edge::provider::sql::clients::Client;
use crate::edge::provider::sql::{codes, grants};
use crate::edge::provider::{device, issuer, metadata_document, oauth_error, provider};
use crate::edge::sessions::routes::rotate_refresh;

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
    let new = NewGrant::new(req);
    let spend = new.spend(&digest, now + ctx.data.config.refresh_token_ttl);
    let mut statements = codes::exchange(db, &spend, now)?.to_vec();
    statements.push(new.first_refresh_token(db, now)?);
    let results = batch(db, statements, "exchange code").await?;
    let [_spent, granted, org] = leading(&results, "exchange code")?;
    if !took_effect(granted, "read grant")? {
        // Another exchange spent it first, or the person signed out or was disabled meanwhile.
        codes::revoke_reused(db, &digest, now).await?;
        return Ok(Err(invalid_grant("The code is no longer valid")));
    }
    ctx.data.log.set_user(presented.user_id);
    let scope = Scopes::parse(&presented.scope).unwrap_or_default();
    let org = codes::granted_org(org)?;
    let iss = issuer(req, provider);
    let grant = Grant {
        user_id: presented.user_id,
        session_id: &new.session_id,
        scope: &scope,
        resource: presented.resource.as_deref(),
        auth_time: presented.auth_time,
        org: grant_org(ctx, &scope, org.org_id.as_deref(), org.org_role.as_deref()),
    };
    let mut body = tokens(ctx, &iss, client, &grant, now);
    body.insert("refresh_token".into(), json!(new.refresh.expose()));
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

/// The organization claims of a grant's token: the organization chosen at consent with the
/// member's role as just read (none once they left it), for a token whose scope still has
/// `organization` (a refresh may narrow it away).
fn grant_org(
    ctx: &RouteContext,
    scope: &Scopes,
    org_id: Option<&str>,
    role: Option<&str>,
) -> Option<OrgClaims> {
    if !scope.contains(ORGANIZATION) {
        return None;
    }
    org_claims(&ctx.data.config, org_id, role)
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
    if !asked(form).is_empty() {
        if let Some(live) = grants::live_refresh(db, &presented.digest(), now).await? {
            if let Err(e) = same_resource(form, live.resource.as_deref()) {
                return Ok(Err(e));
            }
        }
    }
    let (rotation, successor) =
        match rotate_refresh(req, &ctx.data, db, &presented, Some(&client.id), None, now).await {
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
    let org = grant_org(
        ctx,
        &scope,
        rotation.org_id.as_deref(),
        rotation.org_role.as_deref(),
    );
    let grant = Grant {
        user_id: rotation.user_id,
        session_id: &rotation.session_id,
        scope: &scope,
        resource: rotation.resource.as_deref(),
        auth_time: rotation.auth_time,
        org,
    };
    let mut body = tokens(ctx, &iss, client, &grant, now);
    body.insert("refresh_token".into(), json!(successor.expose()));
    Ok(Ok(body))
}
