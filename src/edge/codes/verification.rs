//! `POST /verify-email` and `POST /resend-verification`: proving an address with an emailed code.

use serde_json::json;
use worker::{Request, Response};

use crate::core::accounts::account_mail;
use crate::core::accounts::account_requests::{EmailVerification, VerificationResend};
use crate::core::accounts::email::Email;
use crate::core::codes::otp::OtpCode;
use crate::core::codes::verification_token;
use crate::core::config::Config;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::random;
use crate::core::violation::Violation;
use crate::edge::bindings::now;
use crate::edge::codes::sql::email_codes;
use crate::edge::codes::sql::email_codes::{NewCode, Purpose};
use crate::edge::codes::sql::first_proof::Removed;
use crate::edge::context::RouteContext;
use crate::edge::db::NO_CANDIDATES;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::mailer::send_later;

/// Marks the address verified with its newest code: checked, counted and used in one batch.
/// Unknown, verified and unverified addresses all answer a wrong code alike. With a
/// `verification_token`, the code is the owner's own one (`Purpose::VerifyOwner`).
pub async fn verify_email(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let request = EmailVerification::try_from(&read_body(&mut req).await?)?;
    let now = now();
    let purpose = purpose_of(
        config,
        request.verification_token.as_deref(),
        &request.email,
        now,
    )?;
    // A code that is not six digits matches nothing and counts as a wrong try.
    let code_hash = request.code.as_ref().map_or_else(
        || NO_CANDIDATES.to_owned(),
        |code| {
            config.keys.candidates(|keys| {
                code.purpose_hash(&keys.otp, purpose.as_str(), request.email.as_str())
            })
        },
    );
    let db = ctx.data.database(&ctx.env)?;
    let verified = email_codes::verify(
        &db,
        &request.email,
        &code_hash,
        now,
        &config.otp_policy(),
        &random::identifier(),
        purpose,
    )
    .await?;
    let (user_id, removed) = verified.ok_or(ApiError::InvalidCode)?;
    ctx.data.log.set_user(user_id);
    tell_what_first_proof_removed(&ctx, &request.email, &removed);
    let events = &ctx.data.events;
    events.by_user(&req, user_id, EventKind::EmailVerified, Detail::new(), now);
    Ok(json(200, &json!({"message": "Email verified"})))
}

/// Mails the owner what the first proof of their address removed, if anything (`db/first_proof.rs`).
pub fn tell_what_first_proof_removed(ctx: &RouteContext, email: &Email, removed: &Removed) {
    if removed.is_empty() {
        return;
    }
    let message = account_mail::ways_in_removed(
        email,
        &removed.providers,
        &removed.passkeys,
        removed.authenticator_app,
    );
    send_later(&ctx.data, &ctx.env, message);
}

/// Mails a new verification code to an unverified address, within the cooldown and the caps.
/// Every address gets the same answer, so this tells nobody which have accounts.
pub async fn resend_verification(
    mut req: Request,
    ctx: RouteContext,
) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let request = VerificationResend::try_from(&read_body(&mut req).await?)?;
    let now = now();
    let purpose = purpose_of(
        config,
        request.verification_token.as_deref(),
        &request.email,
        now,
    )?;
    let policy = config.otp_policy();
    let code = OtpCode::generate();
    let code_hash = config
        .keys
        .stamp(|keys| code.purpose_hash(&keys.otp, purpose.as_str(), request.email.as_str()));
    let new_code = NewCode {
        purpose,
        code_hash: &code_hash,
        account_email: &request.email,
        new_email: None,
        only_if_hash: None,
    };
    let db = ctx.data.database(&ctx.env)?;
    if email_codes::issue_now(&db, &new_code, now, &policy).await? {
        let message =
            account_mail::verification_code(&request.email, code.expose(), policy.ttl_seconds);
        send_later(&ctx.data, &ctx.env, message);
    }
    Ok(json(200, &json!({"message": "Verification code sent"})))
}

/// Whose budget a try spends: the anonymous one, or with a live `verification_token` for this
/// address, the owner's own. A token that is not (or no longer) good is refused, never quietly
/// counted as anonymous.
fn purpose_of(
    config: &Config,
    token: Option<&str>,
    email: &Email,
    now: i64,
) -> Result<Purpose, ApiError> {
    match token {
        None => Ok(Purpose::Verify),
        Some(token)
            if config.keys.all().iter().any(|keys| {
                verification_token::is_valid(&keys.verification_token, token, email.as_str(), now)
            }) =>
        {
            Ok(Purpose::VerifyOwner)
        }
        Some(_) => Err(Violation::new(
            "verification_token",
            "invalid",
            "verification_token is expired or not for this email; sign in again for a new one",
        )
        .into()),
    }
}
