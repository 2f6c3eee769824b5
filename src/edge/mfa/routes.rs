//! `POST /mfa/totp/enroll`, `/mfa/totp/confirm`, `/mfa/totp/disable` and `POST /login/mfa`: an
//! authenticator app as a second factor (RFC 6238), with recovery codes.

use serde_json::json;
use worker::{Request, Response};

use crate::core::accounts::account_mail;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::mfa::mfa_requests::{MfaConfirmation, MfaEnrollment, MfaRemoval};
use crate::core::mfa::recovery_code;
use crate::core::mfa::recovery_code::RecoveryCode;
use crate::core::mfa::totp::TotpSecret;
use crate::core::random;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::batch;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::mailer::send_later;
use crate::edge::mfa::proof as second_factor;
use crate::edge::mfa::proof::{prove, Factor};
use crate::edge::mfa::sql::totp_factors;
use crate::edge::passwords::reauth::{confirm_password, Confirmed};
use crate::edge::sessions::bearer::principal;
use crate::edge::sessions::sql::sessions;

/// Starts an enrolment: a new secret, encrypted at rest, shown once as an `otpauth://` URI and in
/// base32. The factor is off until `/mfa/totp/confirm` proves the app has it.
pub async fn enroll(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let Confirmed {
        input: _,
        principal,
        db,
        now,
        checked,
    } = confirm_password(&mut req, &ctx, |input: &MfaEnrollment| {
        input.password.expose()
    })
    .await?;
    if checked.account.mfa_enabled != 0 {
        return Err(ApiError::MfaAlreadyEnabled);
    }
    // No factor on an address nobody proved to own: whoever registered someone else's address
    // first could otherwise hold its owner's reset hostage with their own authenticator.
    if checked.account.email_verified_at.is_none() {
        return Err(ApiError::FactorNeedsVerifiedEmail);
    }
    let secret = TotpSecret::from_bytes(random::bytes());
    let sealed = second_factor::seal(config, principal.user_id, &secret);
    let statements = vec![totp_factors::enroll(&db, &principal, &sealed, now)?];
    let results = batch(&db, statements, "enroll totp").await?;
    if !totp_factors::took_effect(&results[0])? {
        // Turned on in parallel, or the session ended meanwhile.
        return Err(ApiError::MfaAlreadyEnabled);
    }
    let uri = secret.uri(&config.totp_issuer, checked.email.as_str());
    Ok(json(
        200,
        &json!({
            "message": "Scan the code with your authenticator app, then confirm with a code from it",
            "otpauth_uri": uri,
            "secret": secret.base32(),
            "qr_svg": qr_svg(&uri),
        }),
    ))
}

/// Turns the pending factor on with a code from the app, and answers ten recovery codes, shown
/// this once and stored only as keyed hashes.
pub async fn confirm(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let confirmation = MfaConfirmation::try_from(&read_body(&mut req).await?)?;
    let db = ctx.data.database(&ctx.env)?;
    let account = users::account_by_session(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let (proof, _) = prove(
        &ctx.data,
        &db,
        principal.user_id,
        &confirmation.code,
        Factor::Pending,
        now,
        Vec::new(),
    )
    .await?;
    let codes: Vec<RecoveryCode> = (0..recovery_code::COUNT)
        .map(|_| RecoveryCode::generate())
        .collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|code| {
            config
                .keys
                .stamp(|keys| code.keyed_hash(&keys.recovery_code, principal.user_id))
        })
        .collect();
    let mut statements = proof.statements;
    let enabled_at = statements.len();
    statements.extend(totp_factors::enable(
        &db,
        &principal,
        &proof.marker,
        now,
        &hashes,
    )?);
    // Turning a factor on ends every other session: one opened before it must not skip it.
    statements.push(sessions::end_others(
        &db,
        &principal,
        now,
        &account.password_hash,
    )?);
    let results = batch(&db, statements, "enable totp").await?;
    if !totp_factors::took_effect(&results[enabled_at])? {
        // The code was taken by a parallel request, or the session ended.
        return Err(ApiError::InvalidMfaCode);
    }
    if let Ok(email) = crate::core::accounts::email::Email::parse(&account.email) {
        send_later(
            &ctx.data,
            &ctx.env,
            account_mail::second_factor_changed(&email, true),
        );
    }
    let detail = Detail::new().with("factor", "totp");
    ctx.data
        .events
        .by_user(&req, principal.user_id, EventKind::FactorAdded, detail, now);
    let shown: Vec<String> = codes.iter().map(RecoveryCode::display).collect();
    Ok(json(
        200,
        &json!({
            "message": "Two-step sign-in is on. Keep these recovery codes somewhere safe: each works once, and they are not shown again",
            "recovery_codes": shown,
        }),
    ))
}

/// Turns the factor off, with the password and a TOTP or recovery code.
pub async fn disable(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let Confirmed {
        input: removal,
        principal,
        db,
        now,
        checked,
    } = confirm_password(&mut req, &ctx, |input: &MfaRemoval| input.password.expose()).await?;
    let (proof, _) = prove(
        &ctx.data,
        &db,
        principal.user_id,
        &removal.code,
        Factor::Enabled,
        now,
        Vec::new(),
    )
    .await?;
    let mut statements = proof.statements;
    let disabled_at = statements.len();
    statements.extend(totp_factors::disable(&db, &principal, &proof.marker, now)?);
    // Turning it off ends every other session too (a thief's session must not outlive it).
    statements.push(sessions::end_others(
        &db,
        &principal,
        now,
        &checked.account.password_hash,
    )?);
    let results = batch(&db, statements, "disable totp").await?;
    if !totp_factors::took_effect(&results[disabled_at])? {
        return Err(ApiError::InvalidMfaCode);
    }
    send_later(
        &ctx.data,
        &ctx.env,
        account_mail::second_factor_changed(&checked.email, false),
    );
    let detail = Detail::new().with("factor", "totp");
    ctx.data.events.by_user(
        &req,
        principal.user_id,
        EventKind::FactorRemoved,
        detail,
        now,
    );
    Ok(json(200, &json!({"message": "Two-step sign-in is off"})))
}

/// The URI as an SVG QR code (error correction M), for the page that shows it; `None` if the
/// URI were ever too long for a QR code.
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
    )
}
