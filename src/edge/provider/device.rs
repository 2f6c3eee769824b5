//! The device authorization grant (RFC 8628): `POST /oauth2/device_authorization` hands a
//! device its codes; the device polls the token endpoint (`poll`), which spends an approved code
//! once into a grant. The person answers on the device page (`device_page.rs`). A device grant
//! carries no organization: its page has no choice to make, so `organization` is refused here.

use serde_json::{json, Map, Value};
use worker::{Request, Response};

use crate::core::provider::device::{answer, PollAnswer, UserCode};
use crate::core::provider::resource::asked;
use crate::core::provider::scopes::{Scopes, ORGANIZATION};
use crate::core::provider::token_request::{field, required, same_resource, TokenError};
use crate::core::random;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading, rows, took_effect};
use crate::edge::error::ApiError;
use crate::edge::http::json;
use crate::edge::provider::issuer;
use crate::edge::provider::new_grant::{id_token_for, tokens, Grant, NewGrant, Person};
use crate::edge::provider::sql::clients;
use crate::edge::provider::sql::device_codes::{self, NewDeviceCode};
use crate::edge::provider::token::{back_channel, refused, BackChannel};
use crate::edge::social::flow::with_query;

/// `POST /oauth2/device_authorization` (RFC 8628 §3.1): for a client allowed the device grant,
/// a device code (256 bits, kept as a digest), a user code, and where the person goes.
pub async fn authorize_device(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let call = match back_channel(&mut req, &ctx).await? {
        Ok(call) => call,
        Err(answer) => return Ok(answer),
    };
    let BackChannel {
        provider,
        form,
        db,
        client,
        now,
    } = call;
    if !client.may_use_device_grant() {
        return Ok(refused(&TokenError {
            error: "unauthorized_client",
            description: "This client is not allowed the device grant",
        }));
    }
    let allowed = Scopes::parse(&client.scopes).unwrap_or_default();
    let scope = match field(&form, "scope") {
        Ok(asked) => Scopes::parse(asked.unwrap_or("openid")).ok(),
        Err(e) => return Ok(refused(&e)),
    };
    let Some(scope) = scope.filter(|s| !s.is_empty() && s.within(&allowed)) else {
        return Ok(refused(&TokenError {
            error: "invalid_scope",
            description: "The client may not ask for these scopes",
        }));
    };
    if scope.contains(ORGANIZATION) {
        return Ok(refused(&TokenError {
            error: "invalid_scope",
            description:
                "The device grant carries no organization: organization is for the code flow",
        }));
    }
    let resource = match provider.resources.pick(&asked(&form)) {
        Ok(resource) => resource,
        Err(description) => {
            return Ok(refused(&TokenError {
                error: "invalid_target",
                description,
            }))
        }
    };
    let device_code = random::secret_256();
    let digest = digest_of(&device_code);
    let scope_text = scope.to_string();
    // A user code already live is drawn again; two draws colliding is a one in 2^34 event.
    let mut user_code = None;
    for _ in 0..3 {
        let Some(candidate) = UserCode::generate(&random::bytes::<32>()) else {
            continue;
        };
        let new = NewDeviceCode {
            digest: &digest,
            user_code: candidate.as_str(),
            client_id: &client.id,
            scope: &scope_text,
            resource,
            expires_at: now + provider.device_code_ttl,
            interval: provider.device_poll_interval,
        };
        let statements = vec![
            device_codes::issue(&db, &new)?,
            clients::used(&db, &client.id, now)?,
        ];
        let results = batch(&db, statements, "issue device code").await?;
        let [issued] = leading(&results, "issue device code")?;
        if took_effect(issued, "read device code")? {
            user_code = Some(candidate);
            break;
        }
    }
    let user_code =
        user_code.ok_or_else(|| ApiError::internal("issue device code", "no free user code"))?;
    let page = format!("{}/oauth2/device", issuer(&req, provider));
    let complete = with_query(&page, &[("user_code", &user_code.display())]);
    let body = json!({
        "device_code": device_code,
        "user_code": user_code.display(),
        "verification_uri": page,
        "verification_uri_complete": complete,
        "expires_in": provider.device_code_ttl,
        "interval": provider.device_poll_interval,
    });
    Ok(json(200, &body))
}

/// The device code grant at the token endpoint (RFC 8628 §3.4, §3.5): pending, slow down,
/// denied, expired, or, once approved, the tokens, spent once into a grant's session.
pub async fn poll(
    req: &Request,
    ctx: &RouteContext,
    call: &BackChannel<'_>,
) -> Result<Result<Map<String, Value>, TokenError>, ApiError> {
    let (form, db, client, now) = (&call.form, &call.db, &call.client, call.now);
    if !client.may_use_device_grant() {
        return Ok(Err(TokenError {
            error: "unauthorized_client",
            description: "This client is not allowed the device grant",
        }));
    }
    let code = match required(form, "device_code", "device_code is required") {
        Ok(code) => code,
        Err(e) => return Ok(Err(e)),
    };
    let digest = digest_of(code);
    let Some((polled, resource)) = device_codes::poll(db, &digest, &client.id, now).await? else {
        return Ok(Err(TokenError {
            error: "invalid_grant",
            description: "The device code is unknown",
        }));
    };
    match answer(&polled, now) {
        PollAnswer::Error(error) => {
            return Ok(Err(TokenError {
                error,
                description: device_description(error),
            }))
        }
        PollAnswer::Issue => {}
    }
    // A `resource` named again must be the one the device asked for (RFC 8707 §2.2).
    if let Err(e) = same_resource(form, resource.as_deref()) {
        return Ok(Err(e));
    }
    let new = NewGrant::new(req);
    let spend = new.spend(&digest, now + ctx.data.config.refresh_token_ttl);
    let mut statements = device_codes::spend(db, &spend, now)?.to_vec();
    statements.push(new.first_refresh_token(db, now)?);
    let results = batch(db, statements, "spend device code").await?;
    let [_spent, granted, approver] = leading(&results, "spend device code")?;
    let Some(granted) = rows::<device_codes::Granted>(granted, "read device grant")?
        .into_iter()
        .next()
    else {
        // Another poll spent it first, or the person signed out or was disabled meanwhile.
        return Ok(Err(TokenError {
            error: "invalid_grant",
            description: "The device code is no longer valid",
        }));
    };
    ctx.data.log.set_user(granted.user_id);
    let scope = Scopes::parse(&granted.scope).unwrap_or_default();
    let grant = Grant {
        user_id: granted.user_id,
        session_id: &granted.id,
        scope: &scope,
        resource: granted.resource.as_deref(),
        auth_time: granted.auth_time,
        org: None,
    };
    let iss = issuer(req, call.provider);
    let mut body = tokens(ctx, &iss, client, &grant, now);
    body.insert("refresh_token".into(), json!(new.refresh.expose()));
    let approver = rows::<device_codes::Approver>(approver, "read device approver")?
        .into_iter()
        .next();
    if let (true, Some(approver)) = (scope.contains("openid"), approver) {
        let person = Person {
            email: approver.email,
            name: approver.name,
            email_verified_at: approver.email_verified_at,
            amr: granted.amr.clone(),
            browser_session: approver.browser_session,
        };
        let id_token = id_token_for(ctx, &iss, client, &grant, &person, None, now).await?;
        body.insert("id_token".into(), json!(id_token));
    }
    Ok(Ok(body))
}

/// What each poll error means, for the device's developer.
fn device_description(error: &str) -> &'static str {
    match error {
        "authorization_pending" => "The person has not answered yet",
        "slow_down" => "Polling too often: wait the interval, 5 seconds longer, between polls",
        "access_denied" => "The person denied the request",
        "expired_token" => "The device code expired; start again",
        _ => "The device code was already used",
    }
}
