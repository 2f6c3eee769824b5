//! `POST /mfa/totp/enroll`, `/mfa/totp/confirm`, `/mfa/totp/disable` and `POST /login/mfa`: an
//! authenticator app as a second factor (RFC 6238), with recovery codes.

use serde_json::{json, Map, Value};
use worker::{D1PreparedStatement, D1Result, Request, Response};

use crate::core::accounts::account_mail;
use crate::core::config::Config;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::mfa::mfa_requests::{MfaConfirmation, MfaEnrollment, MfaLogin, MfaRemoval};
use crate::core::mfa::recovery_code;
use crate::core::mfa::recovery_code::RecoveryCode;
use crate::core::mfa::totp::TotpSecret;
use crate::core::random;
use crate::core::sessions::access_token::Principal;
use crate::core::sessions::amr;
use crate::core::sessions::refresh_token::RefreshToken;
use crate::edge::accounts::sql::users;
use crate::edge::accounts::sql::users::Shown;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, rows, Db};
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_body, user_agent};
use crate::edge::mailer::send_later;
use crate::edge::mfa::proof as second_factor;
use crate::edge::mfa::proof::{prove, Factor};
use crate::edge::mfa::sql::challenges::{Proved, Tried, TryingClient};
use crate::edge::mfa::sql::{challenges as mfa_challenges, totp_factors};
use crate::edge::passwords::reauth::{confirm_password, Confirmed};
use crate::edge::sessions::bearer::principal;
use crate::edge::sessions::routes::{login_answer, Signed};
use crate::edge::sessions::sql::{login_attempts, sessions};

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

/// Completes a password login with a second-factor code: three round trips (count the try on
/// the `mfa_token`; reserve a wrong try and read the factor and the account; take the code,
/// use the token and start the session in one batch).
pub async fn login_mfa(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let login = MfaLogin::try_from(&read_body(&mut req).await?)?;
    let digest = mfa_digest(login.mfa_token.expose())?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let challenge = try_mfa_token(&req, &ctx, &db, &digest, now).await?;
    let proved = prove(
        &ctx.data,
        &db,
        challenge.user_id,
        &login.code,
        Factor::Enabled,
        now,
        vec![users::shown(&db, challenge.user_id)?],
    )
    .await;
    if let Err(ApiError::InvalidMfaCode) = &proved {
        let detail = Detail::new().with("reason", "mfa_code");
        ctx.data.events.by_user(
            &req,
            challenge.user_id,
            EventKind::SignInFailed,
            detail,
            now,
        );
    }
    let (proof, extra) = proved?;
    let account: Shown = rows(&extra[0], "read account")?
        .into_iter()
        .next()
        .ok_or(ApiError::Unauthorized)?;
    let mut after = Vec::new();
    if proof.recovery {
        after.push(mfa_challenges::give_back(&db, &digest, &proof.marker)?);
        after.push(totp_factors::recovery_left(&db, challenge.user_id)?);
    }
    let finish = TwoStep {
        digest: &digest,
        challenge: &challenge,
        account: &account,
        proved: Proved::Code,
        marker: &proof.marker,
    };
    let (mut answer, results) = finish_two_step(config, &db, &finish, proof.statements, after, now)
        .await?
        // A wrong recovery code, a code taken in parallel, or a password reset meanwhile.
        .ok_or(ApiError::InvalidMfaCode)?;
    if proof.recovery {
        let left = results.last().map(totp_factors::left).transpose()?;
        answer.insert("recovery_codes_left".into(), Value::from(left.unwrap_or(0)));
    }
    let second = if proof.recovery {
        "recovery_code"
    } else {
        "totp"
    };
    signed_in_two_steps(&ctx, &req, &challenge, second, now);
    Ok(json(200, &Value::Object(answer)))
}

/// Counts one try at the `mfa_token` of `digest`, from this request's client (its address and
/// User-Agent must be the login's): `401` when it is unknown, used, expired, out of tries or
/// another client's.
pub async fn try_mfa_token(
    req: &Request,
    ctx: &RouteContext,
    db: &Db,
    digest: &str,
    now: i64,
) -> Result<Tried, ApiError> {
    let max_tries = ctx.data.config.otp_max_attempts;
    let tried = mfa_challenges::try_once(db, digest, now, max_tries, &trying_client(req))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    ctx.data.log.set_user(tried.user_id);
    Ok(tried)
}

/// The account of the `mfa_token` of `digest`, under the same rules as `try_mfa_token`, but
/// counting no try (asking for passkey options is not an attempt).
pub async fn peek_mfa_token(
    req: &Request,
    ctx: &RouteContext,
    db: &Db,
    digest: &str,
    now: i64,
) -> Result<i64, ApiError> {
    let max_tries = ctx.data.config.otp_max_attempts;
    let user_id = mfa_challenges::peek(db, digest, now, max_tries, &trying_client(req))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    ctx.data.log.set_user(user_id);
    Ok(user_id)
}

/// The client of `req` as an `mfa_token` is bound to it: its address and User-Agent.
fn trying_client(req: &Request) -> TryingClient {
    TryingClient {
        address: client_address(req).as_str().to_owned(),
        user_agent: user_agent(req),
    }
}

/// The stored digest of an `mfa_token`: an opaque 256-bit token of the refresh token's shape.
/// Any string that is not one answers `401` like an unknown token.
pub fn mfa_digest(raw: &str) -> Result<String, ApiError> {
    Ok(RefreshToken::parse(raw)
        .ok_or(ApiError::Unauthorized)?
        .digest())
}

/// Records a completed two-step sign-in in the trail.
pub fn signed_in_two_steps(
    ctx: &RouteContext,
    req: &Request,
    challenge: &Tried,
    second: &'static str,
    now: i64,
) {
    let detail = Detail::new()
        .with("method", "password")
        .with("second_factor", second)
        .with("session", challenge.session_id.as_str());
    ctx.data
        .events
        .by_user(req, challenge.user_id, EventKind::SignedIn, detail, now);
}

/// A two-step sign-in whose second step was just proved.
pub struct TwoStep<'a> {
    pub digest: &'a str,
    pub challenge: &'a Tried,
    pub account: &'a Shown,
    pub proved: Proved,
    /// This request's marker: what its proof was recorded under, and what uses the challenge.
    pub marker: &'a str,
}

/// The end of a two-step sign-in, however its second step was proved: in one batch after
/// `before` (the proof's own statements) and before `after`, the challenge is used, its session
/// starts with a first refresh token and the login's attempt count is released. The login answer
/// and the results of `after`; `None` when the session did not start (the challenge used in
/// parallel, the code not this request's, or the password reset meanwhile).
pub async fn finish_two_step(
    config: &Config,
    db: &Db,
    two_step: &TwoStep<'_>,
    before: Vec<D1PreparedStatement>,
    after: Vec<D1PreparedStatement>,
    now: i64,
) -> Result<Option<(Map<String, Value>, Vec<D1Result>)>, ApiError> {
    let TwoStep {
        digest,
        challenge,
        account,
        proved,
        marker,
    } = two_step;
    let email = crate::core::accounts::email::Email::parse(&account.email)
        .map_err(|e| ApiError::internal("read account email", e.message))?;
    let client = crate::core::client_address::ClientAddress::from_stored(&challenge.client);
    let refresh = RefreshToken::generate();
    let mut statements = before;
    let started_at = statements.len() + 1;
    let second_step = amr::second_step(proved.method());
    statements.extend(mfa_challenges::complete(
        db,
        digest,
        *proved,
        marker,
        now,
        now + config.refresh_token_ttl,
        &second_step,
    )?);
    statements.push(sessions::add_refresh_token(
        db,
        &refresh.digest(),
        &challenge.session_id,
        now,
    )?);
    statements.extend(login_attempts::record_success(
        db,
        &email,
        &client,
        &challenge.session_id,
    )?);
    let tail = after.len();
    statements.extend(after);
    let mut results = batch(db, statements, "complete two-step sign-in").await?;
    if !mfa_challenges::started(&results[started_at])? {
        return Ok(None);
    }
    let signed = Signed {
        user_id: account.id,
        email: &account.email,
        name: account.name.as_deref(),
        email_verified: account.email_verified_at.is_some(),
    };
    // As START_SESSION_SQL stored it: the first step's, then the second's.
    let first_step = challenge.amr.as_deref().unwrap_or("pwd");
    let principal = Principal {
        user_id: account.id,
        session_id: challenge.session_id.clone(),
        auth_time: now,
        amr: amr::claim(Some(&format!("{first_step} {second_step}"))),
    };
    let answer = login_answer(config, &signed, &principal, refresh.expose(), now);
    let after_results = results.split_off(results.len() - tail);
    Ok(Some((answer, after_results)))
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
