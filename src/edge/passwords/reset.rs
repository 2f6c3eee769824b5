//! `POST /reset-password` and `POST /update-password`: password reset by an emailed code.

use serde_json::json;
use worker::{Request, Response};

use crate::core::accounts::email::Email;
use crate::core::codes::otp::OtpCode;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::passwords::password_hash;
use crate::core::requests::{PasswordUpdate, ResetRequest};
use crate::core::violation::Violation;
use crate::core::{mail, random};
use crate::edge::bindings::now;
use crate::edge::codes::sql::email_codes::{self, NewCode, Purpose};
use crate::edge::codes::sql::reset::{self as password_resets, FactorProof, Redeemed, Redemption};
use crate::edge::codes::verification::tell_what_first_proof_removed;
use crate::edge::context::RouteContext;
use crate::edge::db::{Db, NO_CANDIDATES};
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::mailer::send_later;
use crate::edge::mfa::proof::{prove, Factor};
use crate::edge::mfa::sql::totp_factors;
use crate::edge::passwords::breach_check::refuse_breached;

/// Issues and mails a code. Known and unknown emails, and requests inside the cooldown, past the
/// mail cap or the budget of wrong tries, get the same answer after the same single batch; the
/// mail leaves after the response.
pub async fn request_code(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    // Before anything is stored: a code that cannot be mailed must not exist.
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let request = ResetRequest::try_from(&read_body(&mut req).await?)?;
    let db = ctx.data.database(&ctx.env)?;
    mail_reset_code(&ctx, &db, &request.email, now()).await?;
    Ok(json(200, &json!({"message": "OTP sent successfully"})))
}

/// Issues a reset code for `email` within the cooldown, mail cap and budget, and mails it after
/// the response; whether one was issued (never for an unknown email). The admin API's "mail a
/// reset code" is this too.
pub async fn mail_reset_code(
    ctx: &RouteContext,
    db: &Db,
    email: &Email,
    now: i64,
) -> Result<bool, ApiError> {
    let config = &ctx.data.config;
    let policy = config.otp_policy();
    let code = OtpCode::generate();
    // A reset code's keyed hash is bound to the address (`OtpCode::keyed_hash`), as it was when
    // reset codes had a table of their own, so codes mailed before the move still work.
    let code_hash = config.keys.stamp(|keys| code.keyed_hash(&keys.otp, email));
    let new_code = NewCode {
        purpose: Purpose::Reset,
        code_hash: &code_hash,
        account_email: email,
        new_email: None,
        only_if_hash: None,
    };
    let issued = email_codes::issue_now(db, &new_code, now, &policy).await?;
    if issued {
        let message = mail::reset_code(email, code.expose(), policy.ttl_seconds);
        send_later(&ctx.data, &ctx.env, message);
    }
    Ok(issued)
}

/// Sets a new password with the account's newest code: checked, counted and used in one D1
/// batch that also revokes every session and clears the login lockout. No tokens are returned.
pub async fn update_password(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    // The change notice must be able to leave before the password changes.
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let update = PasswordUpdate::try_from(&read_body(&mut req).await?)?;
    refuse_breached(&ctx.data, "new_password", update.new_password.expose()).await?;
    let new_hash = password_hash::hash(update.new_password.expose(), random::bytes())
        .map_err(|e| ApiError::internal("hash password", e))?;
    // A code that is not six digits matches nothing and counts as a wrong try.
    let code_hash = update.otp.as_ref().map_or_else(
        || NO_CANDIDATES.to_owned(),
        |code| {
            config
                .keys
                .candidates(|keys| code.keyed_hash(&keys.otp, &update.email))
        },
    );
    let db = ctx.data.database(&ctx.env)?;
    let now = now();
    let policy = config.otp_policy();
    let marker = random::identifier();
    let redemption = Redemption {
        email: &update.email,
        code_hash: &code_hash,
        new_password_hash: &new_hash,
        marker: &marker,
    };
    let (first, _) = password_resets::redeem(&db, &redemption, now, &policy, None, None).await?;
    let (user_id, recovery_left) = match first {
        Redeemed::Accepted { user_id, removed } => {
            tell_what_first_proof_removed(&ctx, &update.email, &removed);
            (user_id, None)
        }
        Redeemed::Refused => return Err(ApiError::InvalidOtp),
        // The emailed code is right (so only the mailbox's holder gets here) and the account
        // has a second factor: the code is not spent, and the factor is asked for.
        Redeemed::NeedsSecondFactor { user_id } => {
            let Some(mfa_code) = &update.mfa_code else {
                return Err(Violation::new(
                    "mfa_code",
                    "missing",
                    "mfa_code is required: this account has two-step sign-in on",
                )
                .into());
            };
            let (proof, _) = prove(
                &ctx.data,
                &db,
                user_id,
                mfa_code,
                Factor::Enabled,
                now,
                Vec::new(),
            )
            .await?;
            let recovery = proof.recovery;
            let factor_proof = FactorProof {
                statements: proof.statements,
                marker: proof.marker,
            };
            let after = recovery
                .then(|| totp_factors::recovery_left(&db, user_id))
                .transpose()?;
            let (second, left) =
                password_resets::redeem(&db, &redemption, now, &policy, Some(factor_proof), after)
                    .await?;
            match second {
                Redeemed::Accepted { user_id, .. } => {
                    (user_id, left.as_ref().map(totp_factors::left).transpose()?)
                }
                Redeemed::NeedsSecondFactor { .. } => return Err(ApiError::InvalidMfaCode),
                Redeemed::Refused => return Err(ApiError::InvalidOtp),
            }
        }
    };
    send_later(&ctx.data, &ctx.env, mail::password_changed(&update.email));
    ctx.data.log.set_user(user_id);
    let detail = Detail::new().with("method", "emailed_code");
    ctx.data
        .events
        .by_user(&req, user_id, EventKind::PasswordReset, detail, now);
    let mut answer = json!({"message": "Password updated successfully"});
    if let Some(left) = recovery_left {
        answer["recovery_codes_left"] = left.into();
    }
    Ok(json(200, &answer))
}
