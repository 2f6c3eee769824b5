//! `POST /register` and `DELETE /me`: an account's start and end.

use crate::edge::organizations::sql::members as organization_members;
use serde_json::json;
use worker::{Request, Response};

use crate::core::accounts::account_mail;
use crate::core::accounts::account_requests::AccountDeletion;
use crate::core::codes::otp::OtpCode;
use crate::core::events::security_event::{Actor, Detail, EventKind};
use crate::core::passwords::password_hash;
use crate::core::random;
use crate::core::requests::Registration;
use crate::edge::accounts::sql::{deletion as account_deletion, users};
use crate::edge::bindings::now;
use crate::edge::codes::sql::email_codes;
use crate::edge::codes::sql::email_codes::{NewCode, Purpose};
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading};
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::mailer::send_later;
use crate::edge::passwords::breach_check::refuse_breached;
use crate::edge::passwords::reauth::{confirm_password_and_factor, Confirmed};

/// Creates the account and its verification code in one batch; the code is mailed after the
/// response. With `REQUIRE_EMAIL_VERIFICATION`, a taken email gets the very answer of a new one
/// after the same work (the password is hashed either way), and its owner a notice instead.
pub async fn register(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let require_verification = config.require_email_verification;
    // Where sign-up depends on mail, nothing is stored that cannot be mailed; otherwise an
    // account is created, and its address verified once mail works (`/resend-verification`).
    let can_mail = match config.mail_transport() {
        Ok(_) => true,
        Err(e) if require_verification => return Err(ApiError::Misconfigured(e)),
        Err(_) => false,
    };
    let registration = Registration::try_from(&read_body(&mut req).await?)?;
    refuse_breached(&ctx.data, "password", registration.password.expose()).await?;
    let hash = password_hash::hash(registration.password.expose(), random::bytes())
        .map_err(|e| ApiError::internal("hash password", e))?;
    let now = now();
    let policy = config.otp_policy();
    let email = &registration.email;
    let code = OtpCode::generate();
    let code_hash = config
        .keys
        .stamp(|keys| code.purpose_hash(&keys.otp, Purpose::Verify.as_str(), email.as_str()));
    let db = ctx.data.database(&ctx.env)?;
    let mut statements = vec![users::insert(
        &db,
        email,
        &hash,
        registration.name.as_deref(),
        now,
    )?];
    if can_mail {
        let new_code = NewCode {
            purpose: Purpose::Verify,
            code_hash: &code_hash,
            account_email: email,
            new_email: None,
            // Only the account this sign-up created: never a code for someone else's.
            only_if_hash: Some(&hash),
        };
        statements.extend(email_codes::issue(&db, &new_code, now, &policy)?);
    }
    if require_verification {
        statements.push(email_codes::sign_up_notice(
            &db, email, &hash, now, &policy,
        )?);
    }
    let results = batch(&db, statements, "register").await?;
    // The insert first; the code's issue next when mail can go (without a transport, nothing).
    let [inserted] = leading(&results, "register")?;
    let created_id = users::inserted(inserted)?;
    let created = created_id.is_some();
    if let Some(user_id) = created_id {
        // Not in the log's user_id: the answer must look alike whether the address was free (no
        // bookmark either, which goes only to answers for a proven user).
        let detail = Detail::new().with("method", "password");
        ctx.data
            .events
            .by_user(&req, user_id, EventKind::AccountCreated, detail, now);
    }
    let code_issued = results.get(1).filter(|_| can_mail);
    if created && code_issued.map(email_codes::took_effect).transpose()? == Some(true) {
        let message = account_mail::verification_code(email, code.expose(), policy.ttl_seconds);
        send_later(&ctx.data, &ctx.env, message);
    }
    if !created {
        if !require_verification {
            return Err(ApiError::UserExists);
        }
        let notice = results.last().map(email_codes::took_effect).transpose()?;
        if notice == Some(true) {
            send_later(&ctx.data, &ctx.env, account_mail::sign_up_attempt(email));
        }
    }
    Ok(json(
        201,
        &json!({"message": "User registered successfully"}),
    ))
}

/// Deletes the caller's account and everything it owns, after the password is checked again;
/// its tokens stop working at once, and the address is told.
pub async fn delete_me(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let Confirmed {
        input: _,
        principal,
        db,
        now,
        checked,
    } = confirm_password_and_factor(
        &mut req,
        &ctx,
        |input: &AccountDeletion| input.password.expose(),
        |input| input.mfa_code.as_ref(),
    )
    .await?;
    let deleted = account_deletion::delete(
        &db,
        &principal,
        checked.email.as_str(),
        &checked.account.password_hash,
        now,
    )
    .await?;
    if !deleted {
        // An organization's last owner hands it over (or deletes it) first.
        if organization_members::last_owner(&db, principal.user_id).await? {
            return Err(ApiError::LastOwner);
        }
        return Err(ApiError::Unauthorized);
    }
    // The trail of a deleted account goes with it; this one event stays, without client data.
    let events = &ctx.data.events;
    events.record(
        None,
        principal.user_id,
        EventKind::AccountDeleted,
        Actor::User,
        Detail::new(),
        now,
    );
    send_later(
        &ctx.data,
        &ctx.env,
        account_mail::account_deleted(&checked.email),
    );
    Ok(json(200, &json!({"message": "Account deleted"})))
}
