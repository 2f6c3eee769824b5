//! The second step of a sign-in (`POST /login/mfa`): the `mfa_token` tried once per request,
//! bound to its client, and the end every two-step sign-in shares (`finish_two_step`), however
//! its second step was proved (a TOTP or recovery code here, a passkey in `passkeys/`).

use serde_json::{Map, Value};
use worker::{D1PreparedStatement, D1Result, Request, Response};

use crate::core::config::Config;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::mfa::mfa_requests::MfaLogin;
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
use crate::edge::mfa::proof::{prove, Factor};
use crate::edge::mfa::sql::challenges::{Proved, Tried, TryingClient};
use crate::edge::mfa::sql::{challenges as mfa_challenges, totp_factors};
use crate::edge::sessions::sql::{login_attempts, sessions};
use crate::edge::sessions::start::{login_answer, Signed};

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
pub fn trying_client(req: &Request) -> TryingClient {
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
    let Some(stored_amr) = mfa_challenges::started(&results[started_at])? else {
        return Ok(None);
    };
    let signed = Signed {
        user_id: account.id,
        email: &account.email,
        name: account.name.as_deref(),
        email_verified: account.email_verified_at.is_some(),
    };
    let principal = Principal {
        user_id: account.id,
        session_id: challenge.session_id.clone(),
        auth_time: now,
        amr: amr::claim(Some(&stored_amr)),
        org: None,
    };
    let answer = login_answer(config, &signed, &principal, refresh.expose(), now);
    let after_results = results.split_off(results.len() - tail);
    Ok(Some((answer, after_results)))
}
