//! The device page (RFC 8628 §3.3, a hosted page): `GET /oauth2/device` is where the person,
//! signed in, types the user code a device shows and sees its consent page; `POST
//! /oauth2/device` takes their answer.

use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::provider::device::{
    Decision, UserCode, ENTRIES_PER_ACCOUNT, ENTRIES_PER_ADDRESS, ENTRY_WINDOW_SECONDS,
};
use crate::core::provider::scopes::Scopes;
use crate::core::query;
use crate::core::secret::constant_time_eq;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading, took_effect};
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, read_form};
use crate::edge::provider::browser::{form_mac, same_origin, signed_in};
use crate::edge::provider::pages::{device_confirm_page, device_page, error_page, notice_page};
use crate::edge::provider::provider;
use crate::edge::provider::sql::device_codes::{self, EntryLimits};
use crate::edge::provider::sql::grants::Browser;
use crate::edge::provider::sql::{clients, consents};
use crate::edge::social::flow::{redirect, with_query};

/// The device form's CSRF token: bound to the browser session and the user code (OWASP CSRF
/// Prevention Cheat Sheet, "Synchronizer token" with an HMAC).
fn form_token(ctx: &RouteContext, browser: &Browser, user_code: &UserCode) -> String {
    form_mac(
        ctx,
        &format!("device\n{}\n{}", browser.id, user_code.as_str()),
    )
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
    // From another site's link, the code is shown for the person to send, not looked up: another
    // site could otherwise spend the account's entries (browsers say where a navigation came from,
    // `Sec-Fetch-Site`; a QR code or a typed address says `none`).
    let from_elsewhere = req
        .headers()
        .get("Sec-Fetch-Site")
        .ok()
        .flatten()
        .is_some_and(|site| site == "cross-site" || site == "same-site");
    if from_elsewhere {
        return Ok(device_page(200, &browser.email, &typed, None));
    }
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
        let before = consents::remembered(
            &db,
            browser.user_id,
            &pending.client_id,
            pending.resource.as_deref(),
        )
        .await?;
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
