//! The device authorization grant (RFC 8628): `POST /oauth2/device_authorization` hands a
//! device its codes; `GET /oauth2/device` is the page where the person, signed in, types the
//! user code and `POST /oauth2/device` takes their answer; the device polls the token endpoint
//! (`poll`), which spends an approved code once into a grant.

use serde_json::{json, Map, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::keys::hmac_sha256;
use crate::core::provider::device::{
    answer, Decision, PollAnswer, UserCode, ENTRIES_PER_ACCOUNT, ENTRIES_PER_ADDRESS,
    ENTRY_WINDOW_SECONDS,
};
use crate::core::provider::scopes::Scopes;
use crate::core::provider::token_request::{field, required, TokenError};
use crate::core::query;
use crate::core::random;
use crate::core::secret::constant_time_eq;
use crate::core::sessions::refresh_token::{digest_of, RefreshToken};
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading, rows, took_effect};
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_form, user_agent};
use crate::edge::provider::browser::{same_origin, signed_in};
use crate::edge::provider::pages::{device_confirm_page, device_page, error_page, notice_page};
use crate::edge::provider::sql::device_codes::{self, EntryLimits, NewDeviceCode, Spend};
use crate::edge::provider::sql::grants::Browser;
use crate::edge::provider::sql::{clients, consents};
use crate::edge::provider::token::{
    back_channel, id_token_for, refused, tokens, BackChannel, Grant, Person,
};
use crate::edge::provider::{issuer, provider};
use crate::edge::sessions::sql::sessions;
use crate::edge::social::flow::{redirect, with_query};

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
    let asked: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "resource")
        .map(|(_, v)| v.as_str())
        .collect();
    let resource = match provider.resources.pick(&asked) {
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

/// The device form's CSRF token: bound to the browser session and the user code (OWASP CSRF
/// Prevention Cheat Sheet, "Synchronizer token" with an HMAC).
fn form_token(ctx: &RouteContext, browser: &Browser, user_code: &UserCode) -> String {
    let message = format!("device\n{}\n{}", browser.id, user_code.as_str());
    random::base64url(&hmac_sha256(
        &ctx.data.config.keys.current().provider_form,
        message.as_bytes(),
    ))
}

/// To the sign-in page, which comes back to the device page with what was typed.
fn to_sign_in(typed: Option<&str>) -> Response {
    let back = match typed {
        Some(code) => with_query("/oauth2/device", &[("user_code", code)]),
        None => "/oauth2/device".to_owned(),
    };
    redirect(&with_query("/oauth2/sign-in", &[("return_to", &back)]))
}

/// `GET /oauth2/device[?user_code=…]`: signed in, the form; with a code, counted against the
/// entry limits and looked up, the consent page for its device.
pub async fn page(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    provider(&ctx)?;
    let pairs = query::pairs(&req.inner().url());
    let typed = query::value(&pairs, "user_code").filter(|t| !t.trim().is_empty());
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let Some(browser) = signed_in(&req, &db, now).await? else {
        return Ok(to_sign_in(typed.as_deref()));
    };
    let Some(typed) = typed else {
        return Ok(device_page(200, &browser.email, "", None));
    };
    let limits = EntryLimits {
        window: ENTRY_WINDOW_SECONDS,
        per_account: ENTRIES_PER_ACCOUNT,
        per_address: ENTRIES_PER_ADDRESS,
    };
    let address = client_address(&req);
    if !device_codes::count_entry(&db, browser.user_id, address.as_str(), &limits, now).await? {
        return Ok(device_page(
            429,
            &browser.email,
            "",
            Some("Too many codes were entered. Wait 15 minutes, then try again."),
        ));
    }
    let wrong = "That code is not right, or it has expired. Check the code on your device.";
    let Some(user_code) = UserCode::parse(&typed) else {
        return Ok(device_page(400, &browser.email, &typed, Some(wrong)));
    };
    let Some(pending) = device_codes::find(&db, user_code.as_str(), now).await? else {
        return Ok(device_page(400, &browser.email, &typed, Some(wrong)));
    };
    let Some(client) = clients::get(&db, &pending.client_id).await? else {
        return Ok(device_page(400, &browser.email, &typed, Some(wrong)));
    };
    let scope = Scopes::parse(&pending.scope).unwrap_or_default();
    Ok(device_confirm_page(
        &client.shown_name(),
        &browser.email,
        &user_code.display(),
        &scope,
        pending.resource.as_deref(),
        &form_token(&ctx, &browser, &user_code),
    ))
}

/// `POST /oauth2/device`: the person's answer for the code on the consent page; allowed, the
/// consent is remembered in the same batch.
pub async fn decide(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    provider(&ctx)?;
    if !same_origin(&req) {
        return Ok(error_page(
            403,
            "This form did not come from this site",
            "Open the device page again and enter the code.",
        ));
    }
    let form = read_form(&mut req).await?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let expired = || {
        error_page(
            400,
            "This page expired",
            "Open the device page again and enter the code your device shows.",
        )
    };
    let decision = match query::value(&form, "decision").as_deref() {
        Some("allow") => Decision::Allow,
        Some("deny") => Decision::Deny,
        _ => return Ok(expired()),
    };
    let (Some(typed), Some(sent)) = (
        query::value(&form, "user_code"),
        query::value(&form, "csrf"),
    ) else {
        return Ok(expired());
    };
    let Some(browser) = signed_in(&req, &db, now).await? else {
        return Ok(to_sign_in(Some(&typed)).with_status(303));
    };
    let Some(user_code) = UserCode::parse(&typed) else {
        return Ok(expired());
    };
    let expected = form_token(&ctx, &browser, &user_code);
    if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Ok(expired());
    }
    let Some(pending) = device_codes::find(&db, user_code.as_str(), now).await? else {
        return Ok(expired());
    };
    let mut statements = vec![device_codes::decide(
        &db,
        &pending.digest,
        decision,
        &browser.id,
        now,
    )?];
    if decision == Decision::Allow {
        let before = consents::read(&db, browser.user_id, &pending.client_id)
            .await?
            .filter(|c| c.resource == pending.resource)
            .and_then(|c| Scopes::parse(&c.scope).ok());
        let scope = Scopes::parse(&pending.scope).unwrap_or_default();
        let remembered = before.map_or_else(|| scope.clone(), |b| b.union(&scope));
        statements.push(consents::record(
            &db,
            browser.user_id,
            &pending.client_id,
            &remembered.to_string(),
            pending.resource.as_deref(),
            &pending.digest,
            now,
        )?);
    }
    let results = batch(&db, statements, "decide device code").await?;
    let [decided] = leading(&results, "decide device code")?;
    if !took_effect(decided, "read device decision")? {
        return Ok(expired());
    }
    if decision == Decision::Deny {
        return Ok(notice_page(
            "Access denied",
            "The device was not connected. You can close this page.",
        ));
    }
    let detail = Detail::new()
        .with("client", pending.client_id.as_str())
        .with("scope", pending.scope.as_str());
    ctx.data
        .events
        .by_user(&req, browser.user_id, EventKind::AppAuthorized, detail, now);
    Ok(notice_page(
        "Your device is connected",
        "Go back to your device to continue. You can close this page.",
    ))
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
    let Some(polled) = device_codes::poll(db, &digest, &client.id, now).await? else {
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
    let session_id = random::identifier();
    let marker = random::identifier();
    let refresh = RefreshToken::generate();
    let agent = user_agent(req);
    let spend = Spend {
        digest: &digest,
        marker: &marker,
        session_id: &session_id,
        expires_at: now + ctx.data.config.refresh_token_ttl,
        user_agent: agent.as_deref(),
    };
    let mut statements = device_codes::spend(db, &spend, now)?.to_vec();
    statements.push(sessions::add_refresh_token(
        db,
        &refresh.digest(),
        &session_id,
        now,
    )?);
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
    };
    let iss = issuer(req, call.provider);
    let mut body = tokens(ctx, &iss, client, &grant, now);
    body.insert("refresh_token".into(), json!(refresh.expose()));
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
