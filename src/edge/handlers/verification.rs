//! `POST /verify-email` and `POST /resend-verification`: proving an address with an emailed code.

use serde_json::json;
use worker::{Request, Response};

use crate::core::account_requests::EmailVerification;
use crate::core::otp::OtpCode;
use crate::core::requests::ResetRequest;
use crate::core::{account_mail, random};
use crate::edge::db::email_codes::{self, NewCode, Purpose};
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::mailer::send_later;
use crate::edge::routes::RouteContext;
use crate::edge::state::now;

/// Marks the address verified with its newest code: checked, counted and used in one batch.
/// Unknown, verified and unverified addresses all answer a wrong code alike.
pub async fn verify_email(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let request = EmailVerification::try_from(&read_body(&mut req).await?)?;
    // A code that is not six digits matches nothing and counts as a wrong try.
    let code_hash = request.code.as_ref().map_or_else(String::new, |code| {
        code.purpose_hash(
            &config.keys.otp,
            Purpose::Verify.as_str(),
            request.email.as_str(),
        )
    });
    let db = ctx.data.database(&ctx.env)?;
    let verified = email_codes::verify(
        &db,
        &request.email,
        &code_hash,
        now(),
        &config.otp_policy(),
        &random::identifier(),
    )
    .await?;
    if !verified {
        return Err(ApiError::InvalidCode);
    }
    Ok(json(200, &json!({"message": "Email verified"})))
}

/// Mails a new verification code to an unverified address, within the cooldown and the caps.
/// Every address gets the same answer, so this tells nobody which have accounts.
pub async fn resend_verification(
    mut req: Request,
    ctx: RouteContext,
) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let request = ResetRequest::try_from(&read_body(&mut req).await?)?;
    let policy = config.otp_policy();
    let code = OtpCode::generate();
    let code_hash = code.purpose_hash(
        &config.keys.otp,
        Purpose::Verify.as_str(),
        request.email.as_str(),
    );
    let new_code = NewCode {
        purpose: Purpose::Verify,
        code_hash: &code_hash,
        account_email: &request.email,
        new_email: None,
        only_if_hash: None,
    };
    let db = ctx.data.database(&ctx.env)?;
    if email_codes::issue_now(&db, &new_code, now(), &policy).await? {
        let message =
            account_mail::verification_code(&request.email, code.expose(), policy.ttl_seconds);
        send_later(&ctx.data, &ctx.env, message);
    }
    Ok(json(200, &json!({"message": "Verification code sent"})))
}
