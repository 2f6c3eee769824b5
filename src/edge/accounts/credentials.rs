//! `POST /change-password`, `POST /change-email` and `POST /confirm-email-change`: a signed-in
//! caller changes what they sign in with, after giving their password again.

use serde_json::json;
use worker::{Request, Response};

use crate::core::accounts::account_mail;
use crate::core::accounts::account_requests::{
    EmailChange, EmailChangeConfirmation, PasswordChange,
};
use crate::core::accounts::email::Email;
use crate::core::codes::otp::OtpCode;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::keys::KeySet;
use crate::core::passwords::password_hash;
use crate::core::random;
use crate::core::violation::Violation;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::codes::sql::email_codes;
use crate::edge::codes::sql::email_codes::{NewCode, Purpose};
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading, rows, NO_CANDIDATES};
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::mailer::send_later;
use crate::edge::passwords::breach_check::refuse_breached;
use crate::edge::passwords::reauth::{confirm_password_and_factor, Confirmed};
use crate::edge::sessions::bearer::principal;
use crate::edge::sessions::sql::sessions;

/// Sets a new password; every other session of the account ends, the caller's stays (OWASP
/// Session Management: end other sessions after a password change). One batch after the check.
pub async fn change_password(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let Confirmed {
        input: change,
        principal,
        db,
        now,
        checked,
    } = confirm_password_and_factor(
        &mut req,
        &ctx,
        |input: &PasswordChange| input.current_password.expose(),
        |input| input.mfa_code.as_ref(),
    )
    .await?;
    refuse_breached(&ctx.data, "new_password", change.new_password.expose()).await?;
    let new_hash = password_hash::hash(change.new_password.expose(), random::bytes())
        .map_err(|e| ApiError::internal("hash password", e))?;
    let statements = vec![
        users::change_password(
            &db,
            &principal,
            now,
            &new_hash,
            &checked.account.password_hash,
        )?,
        sessions::end_others(&db, &principal, now, &new_hash)?,
    ];
    let results = batch(&db, statements, "change password").await?;
    // No row: the session ended, or the password changed, while this request checked it.
    if rows::<Changed>(&results[0], "read password change")?.is_empty() {
        return Err(ApiError::Unauthorized);
    }
    send_later(
        &ctx.data,
        &ctx.env,
        account_mail::password_changed_signed_in(&checked.email),
    );
    let events = &ctx.data.events;
    events.by_user(
        &req,
        principal.user_id,
        EventKind::PasswordChanged,
        Detail::new(),
        now,
    );
    Ok(json(200, &json!({"message": "Password changed"})))
}

/// Mails a code to the new address; the account moves only when it comes back. A taken address
/// answers `409` like sign-up, or with `REQUIRE_EMAIL_VERIFICATION` exactly like a free one
/// (and nothing is mailed), so that it tells nobody which addresses have accounts.
pub async fn change_email(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let Confirmed {
        input: change,
        principal,
        db,
        now,
        checked,
    } = confirm_password_and_factor(
        &mut req,
        &ctx,
        |input: &EmailChange| input.password.expose(),
        |input| input.mfa_code.as_ref(),
    )
    .await?;
    if change.new_email == checked.email {
        return Err(
            Violation::new("new_email", "unchanged", "new_email is the current email").into(),
        );
    }
    let policy = config.otp_policy();
    let code = OtpCode::generate();
    let code_hash = config
        .keys
        .stamp(|keys| change_code_hash(keys, principal.user_id, &code));
    let new_code = NewCode {
        purpose: Purpose::Change,
        code_hash: &code_hash,
        account_email: &checked.email,
        new_email: Some(&change.new_email),
        only_if_hash: Some(&checked.account.password_hash),
    };
    let mut statements = vec![users::find_credentials(&db, &change.new_email)?];
    statements.extend(email_codes::issue(&db, &new_code, now, &policy)?);
    let results = batch(&db, statements, "issue email change code").await?;
    let [holder, code_issued] = leading(&results, "issue email change code")?;
    let taken = !rows::<users::Credentials>(holder, "read new address")?.is_empty();
    if taken && !config.require_email_verification {
        return Err(ApiError::UserExists);
    }
    if !taken && email_codes::took_effect(code_issued)? {
        let message =
            account_mail::email_change_code(&change.new_email, code.expose(), policy.ttl_seconds);
        send_later(&ctx.data, &ctx.env, message);
    }
    Ok(json(
        200,
        &json!({"message": "Check the new address for a code"}),
    ))
}

/// Moves the account to the new address with the code mailed there: checked, counted, used, and
/// the other sessions ended in one batch; the old address is told.
pub async fn confirm_email_change(
    mut req: Request,
    ctx: RouteContext,
) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let confirmation = EmailChangeConfirmation::try_from(&read_body(&mut req).await?)?;
    let code_hash = confirmation.code.as_ref().map_or_else(
        || NO_CANDIDATES.to_owned(),
        |code| {
            config
                .keys
                .candidates(|keys| change_code_hash(keys, principal.user_id, code))
        },
    );
    let db = ctx.data.database(&ctx.env)?;
    let confirmed = email_codes::confirm_change(
        &db,
        &principal,
        &code_hash,
        now,
        &config.otp_policy(),
        &random::identifier(),
    )
    .await?;
    let outcome = confirmed.outcome;
    if outcome.live == 0 {
        return Err(ApiError::Unauthorized);
    }
    if outcome.taken != 0 {
        return Err(ApiError::EmailTaken);
    }
    let new_email = outcome.switched_to.ok_or(ApiError::InvalidCode)?;
    let old = confirmed.old_email.as_deref().map(Email::parse);
    if let (Some(Ok(old)), Ok(new)) = (old, Email::parse(&new_email)) {
        send_later(&ctx.data, &ctx.env, account_mail::email_changed(&old, &new));
    }
    let events = &ctx.data.events;
    events.by_user(
        &req,
        principal.user_id,
        EventKind::EmailChanged,
        Detail::new(),
        now,
    );
    Ok(json(
        200,
        &json!({"message": "Email changed", "email": new_email}),
    ))
}

/// An email-change code is bound to its account (the confirmation names no address).
fn change_code_hash(keys: &KeySet, user_id: i64, code: &OtpCode) -> String {
    code.purpose_hash(&keys.otp, Purpose::Change.as_str(), &user_id.to_string())
}

/// The account a password change updated (`RETURNING id`); only its presence matters.
#[derive(serde::Deserialize)]
struct Changed {
    #[allow(dead_code)]
    id: i64,
}
