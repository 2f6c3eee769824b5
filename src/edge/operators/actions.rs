//! The admin API's actions on an account: disable and enable it, remove its factors, end its
//! sessions, mail it a reset code.

use serde_json::json;
use worker::{Request, Response};

use crate::core::accounts::account_mail;
use crate::core::accounts::email::Email;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::operators::admin_requests;
use crate::core::operators::admin_requests::Disable;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, rfc3339};
use crate::edge::mailer::send_later;
use crate::edge::operators::admin::{admin, query_pairs, record};
use crate::edge::operators::sql::admin_users;
use crate::edge::operators::users::{found, user_answer};
use crate::edge::passwords::reset::mail_reset_code;

/// `POST /admin/users/{id}/disable {reason, until?}`: no sign-in or refresh until `until` (or
/// until enabled); every session ends at once.
pub async fn disable_user(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user_id = ctx.account_id(0)?;
    let disable = Disable::parse(&read_body(&mut req).await?, admin.now)?;
    if !admin_users::disable(
        &admin.db,
        user_id,
        disable.until,
        &disable.reason,
        admin.now,
    )
    .await?
    {
        return Err(ApiError::NotFound);
    }
    let mut detail = Detail::new().with("reason", disable.reason.clone());
    if let Some(until) = disable.until.and_then(rfc3339) {
        detail = detail.with("until", until);
    }
    record(
        &ctx,
        &admin,
        &req,
        user_id,
        EventKind::AccountDisabled,
        detail,
    );
    let user = found(&admin, user_id).await?;
    Ok(user_answer(200, "User disabled", &user, admin.now))
}

/// `POST /admin/users/{id}/enable`.
pub async fn enable_user(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user_id = ctx.account_id(0)?;
    if !admin_users::enable(&admin.db, user_id, admin.now).await? {
        return Err(ApiError::NotFound);
    }
    record(
        &ctx,
        &admin,
        &req,
        user_id,
        EventKind::AccountEnabled,
        Detail::new(),
    );
    let user = found(&admin, user_id).await?;
    Ok(user_answer(200, "User enabled", &user, admin.now))
}

/// `DELETE /admin/users/{id}/factors[?passkeys=true]`: the lost phone. The TOTP factor and its
/// recovery codes go (and the passkeys when asked); the user is told by mail.
pub async fn remove_factors(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user_id = ctx.account_id(0)?;
    let passkeys = match query_pairs(&req).iter().find(|(k, _)| k == "passkeys") {
        None => false,
        Some((_, value)) => admin_requests::yes_no("passkeys", value)?,
    };
    let user = found(&admin, user_id).await?;
    let removed = admin_users::remove_factors(&admin.db, user_id, passkeys).await?;
    if removed.totp {
        let detail = Detail::new().with("factor", "totp");
        record(
            &ctx,
            &admin,
            &req,
            user_id,
            EventKind::FactorRemoved,
            detail,
        );
    }
    if removed.passkeys > 0 {
        let detail = Detail::new()
            .with("factor", "passkey")
            .with("count", removed.passkeys.to_string());
        record(
            &ctx,
            &admin,
            &req,
            user_id,
            EventKind::FactorRemoved,
            detail,
        );
    }
    if (removed.totp || removed.passkeys > 0) && ctx.data.config.mail_transport().is_ok() {
        if let Ok(email) = Email::parse(&user.summary.email) {
            let message = account_mail::factors_removed_by_operator(&email, removed.passkeys > 0);
            send_later(&ctx.data, &ctx.env, message);
        }
    }
    Ok(json(
        200,
        &json!({
            "message": "Second factors removed",
            "totp_removed": removed.totp,
            "passkeys_removed": removed.passkeys,
        }),
    ))
}

/// `DELETE /admin/users/{id}/sessions`: every session of the account ends now.
pub async fn end_sessions(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user_id = ctx.account_id(0)?;
    found(&admin, user_id).await?;
    let ended = admin_users::end_sessions(&admin.db, user_id, admin.now).await?;
    let detail = Detail::new()
        .with("scope", "all")
        .with("count", ended.to_string());
    record(&ctx, &admin, &req, user_id, EventKind::SessionEnded, detail);
    Ok(json(
        200,
        &json!({"message": "Sessions ended", "ended": ended}),
    ))
}

/// `POST /admin/users/{id}/password-reset`: mails the account a reset code (within the same
/// cooldown and caps as `/reset-password`; `mailed` says whether one went).
pub async fn send_reset(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    ctx.data
        .config
        .mail_transport()
        .map_err(ApiError::Misconfigured)?;
    let user_id = ctx.account_id(0)?;
    let user = found(&admin, user_id).await?;
    let email = Email::parse(&user.summary.email)
        .map_err(|e| ApiError::internal("read account email", e.message))?;
    let mailed = mail_reset_code(&ctx, &admin.db, &email, admin.now).await?;
    let detail = Detail::new().with("mailed", mailed.to_string());
    record(
        &ctx,
        &admin,
        &req,
        user_id,
        EventKind::PasswordResetMailed,
        detail,
    );
    Ok(json(
        200,
        &json!({"message": "Reset code requested", "mailed": mailed}),
    ))
}
