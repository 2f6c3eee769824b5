//! The admin API's accounts: list, read, create, update and delete them.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::accounts::account_mail;
use crate::core::accounts::email::Email;
use crate::core::codes::otp::OtpCode;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::operators::admin_requests::{NewUser, UserEdits, UserQuery};
use crate::core::passwords::password_hash;
use crate::core::random;
use crate::edge::accounts::sql::{deletion as account_deletion, users};
use crate::edge::codes::sql::email_codes;
use crate::edge::codes::sql::email_codes::{NewCode, Purpose};
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, rfc3339};
use crate::edge::mailer::send_later;
use crate::edge::operators::admin::{admin, query_pairs, record, Admin};
use crate::edge::operators::sql::admin_users;
use crate::edge::operators::sql::admin_users::{Detailed, Edits, Filters, Summary};
use crate::edge::passwords::breach_check::refuse_breached;

pub fn summary_json(user: &Summary, now: i64) -> Value {
    let disabled = user
        .disabled_at
        .filter(|_| users::is_disabled(user.disabled_at, user.disabled_until, now));
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
        "email_verified": user.email_verified_at.is_some(),
        "has_password": user.has_password != 0,
        "disabled": disabled.map(|at| json!({
            "at": rfc3339(at),
            "until": user.disabled_until.and_then(rfc3339),
            "reason": user.disabled_reason,
        })),
    })
}

pub fn detailed_json(user: &Detailed, now: i64) -> Value {
    let mut shown = summary_json(&user.summary, now);
    let providers: Value = serde_json::from_str(&user.providers).unwrap_or_else(|_| json!([]));
    shown["factors"] = json!({
        "totp": user.totp != 0,
        "recovery_codes_left": user.recovery_codes_left,
        "passkeys": user.passkeys,
    });
    shown["providers"] = providers;
    shown["live_sessions"] = json!(user.live_sessions);
    shown["last_sign_in_at"] = json!(user.last_sign_in_at.and_then(rfc3339));
    shown
}

pub async fn found(admin: &Admin, user_id: i64) -> Result<Detailed, ApiError> {
    admin_users::get(&admin.db, user_id, admin.now)
        .await?
        .ok_or(ApiError::NotFound)
}

pub fn user_answer(status: u16, message: &str, user: &Detailed, now: i64) -> Response {
    json(
        status,
        &json!({"message": message, "user": detailed_json(user, now)}),
    )
}

/// `GET /admin/users`: a page of accounts by id, filtered.
pub async fn list_users(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let pairs = query_pairs(&req);
    let query = UserQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let filters = Filters {
        after_id: query.cursor,
        email_range: query.email_range(),
        created_from: query.created_after,
        created_before: query.created_before,
        disabled: query.disabled,
        verified: query.verified,
        // One more than the page: whether another page follows.
        limit: query.limit + 1,
    };
    let mut users = admin_users::list(&admin.db, &filters, admin.now).await?;
    let more = users.len() as i64 > query.limit;
    users.truncate(query.limit as usize);
    let next = more
        .then(|| users.last().map(|u| u.id.to_string()))
        .flatten();
    let shown: Vec<Value> = users.iter().map(|u| summary_json(u, admin.now)).collect();
    Ok(json(200, &json!({"users": shown, "next_cursor": next})))
}

/// `GET /admin/users/{id}`.
pub async fn get_user(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user = found(&admin, ctx.account_id(0)?).await?;
    Ok(json(200, &json!({"user": detailed_json(&user, admin.now)})))
}

/// `POST /admin/users`: an account with or without a password, verified or not, optionally
/// mailed a verification code.
pub async fn create_user(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let new = NewUser::try_from(&read_body(&mut req).await?)?;
    let config = &ctx.data.config;
    if new.send_verification {
        config.mail_transport().map_err(ApiError::Misconfigured)?;
    }
    let hash = match &new.password {
        Some(password) => {
            refuse_breached(&ctx.data, "password", password.expose()).await?;
            password_hash::hash(password.expose(), random::bytes())
                .map_err(|e| ApiError::internal("hash password", e))?
        }
        // `''` verifies no password: the account signs in another way until a reset sets one.
        None => String::new(),
    };
    let user_id = admin_users::create(
        &admin.db,
        new.email.as_str(),
        &hash,
        new.name.as_deref(),
        new.email_verified,
        admin.now,
    )
    .await?
    .ok_or(ApiError::UserExists)?;
    ctx.data.log.set_user(user_id);
    if new.send_verification {
        let policy = config.otp_policy();
        let code = OtpCode::generate();
        let code_hash = config.keys.stamp(|keys| {
            code.purpose_hash(&keys.otp, Purpose::Verify.as_str(), new.email.as_str())
        });
        let issue = NewCode {
            purpose: Purpose::Verify,
            code_hash: &code_hash,
            account_email: &new.email,
            new_email: None,
            only_if_hash: Some(&hash),
        };
        if email_codes::issue_now(&admin.db, &issue, admin.now, &policy).await? {
            let message =
                account_mail::verification_code(&new.email, code.expose(), policy.ttl_seconds);
            send_later(&ctx.data, &ctx.env, message);
        }
    }
    let detail = Detail::new()
        .with(
            "password",
            if new.password.is_some() {
                "set"
            } else {
                "none"
            },
        )
        .with("email_verified", new.email_verified.to_string());
    record(
        &ctx,
        &admin,
        &req,
        user_id,
        EventKind::AccountCreated,
        detail,
    );
    let user = found(&admin, user_id).await?;
    Ok(user_answer(201, "User created", &user, admin.now))
}

/// `PATCH /admin/users/{id} {name?, email?, email_verified?}`.
pub async fn update_user(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user_id = ctx.account_id(0)?;
    let edits = UserEdits::try_from(&read_body(&mut req).await?)?;
    let before = found(&admin, user_id).await?;
    let changes = Edits {
        name: edits.name.as_ref().map(|n| n.as_deref()),
        email: edits.email.as_ref().map(Email::as_str),
        verified: edits.email_verified,
    };
    if !admin_users::update(&admin.db, user_id, &changes, admin.now).await? {
        // The account is there (read above): the new address is another account's.
        return Err(ApiError::EmailTaken);
    }
    let mut fields = Vec::new();
    if edits.name.is_some() {
        fields.push("name");
    }
    if edits.email.is_some() {
        fields.push("email");
    }
    if edits.email_verified.is_some() {
        fields.push("email_verified");
    }
    let detail = Detail::new().with("fields", fields.join(","));
    record(
        &ctx,
        &admin,
        &req,
        user_id,
        EventKind::AccountUpdated,
        detail,
    );
    if edits
        .email
        .as_ref()
        .is_some_and(|e| e.as_str() != before.summary.email)
    {
        record(
            &ctx,
            &admin,
            &req,
            user_id,
            EventKind::EmailChanged,
            Detail::new(),
        );
    }
    let user = found(&admin, user_id).await?;
    Ok(user_answer(200, "User updated", &user, admin.now))
}

/// `DELETE /admin/users/{id}`: the account and everything it owns, as `DELETE /me`; the
/// address is told.
pub async fn delete_user(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    let user_id = ctx.account_id(0)?;
    let user = found(&admin, user_id).await?;
    if !account_deletion::delete_by_admin(&admin.db, user_id, &user.summary.email, admin.now)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    // The trail of a deleted account goes with it; this one event stays, without client data.
    ctx.data.events.record(
        None,
        user_id,
        EventKind::AccountDeleted,
        admin.actor(),
        Detail::new(),
        admin.now,
    );
    if ctx.data.config.mail_transport().is_ok() {
        if let Ok(email) = Email::parse(&user.summary.email) {
            send_later(
                &ctx.data,
                &ctx.env,
                account_mail::account_deleted_by_operator(&email),
            );
        }
    }
    Ok(json(200, &json!({"message": "User deleted"})))
}
