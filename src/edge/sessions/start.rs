//! The one function that makes every session (`start_session`): whatever proved the user (a
//! password, a provider, a passkey, an emailed code) ends here, so the disabled check, the
//! verified-address rule, the second-factor step, the session with its first refresh token, the
//! token's `auth_time` and `amr`, the login answer and the sign-in event come with every way in.

use serde_json::{json, Map, Value};
use worker::{D1PreparedStatement, Request, Response};

use crate::core::client_address::ClientAddress;
use crate::core::codes::verification_token;
use crate::core::config::Config;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::random;
use crate::core::sessions::access_token;
use crate::core::sessions::access_token::Principal;
use crate::core::sessions::amr;
use crate::core::sessions::amr::Method;
use crate::core::sessions::refresh_token::RefreshToken;
use crate::edge::accounts::sql::users::Credentials;
use crate::edge::db::{batch, rows, Db};
use crate::edge::error::ApiError;
use crate::edge::http::json;
use crate::edge::http::user_agent;
use crate::edge::mfa::sql::challenges as mfa_challenges;
use crate::edge::mfa::sql::challenges::NewChallenge;
use crate::edge::sessions::bearer::token_settings;
use crate::edge::sessions::sql::sessions;
use crate::edge::sessions::sql::sessions::NewSession;
use crate::edge::state::State;

/// The session a sign-in would start: its id (chosen first, so `extra` can be gated on its
/// creation), the client, and statements for the batch that starts it.
pub struct Start {
    pub session_id: String,
    pub client: ClientAddress,
    pub extra: Vec<D1PreparedStatement>,
    /// How the user proved who they are: the trail's `method`, the token's `amr`; a passkey with
    /// user verification is two factors itself (no TOTP step).
    pub method: Method,
}

/// How every sign-in method ends, once it proved who the user is (a password, a provider):
/// `403 email_not_verified` while the address must be verified first, the second-factor step
/// when a factor is on, else a new session (created only if the account's password hash is still
/// the one `account` holds, so it cannot outlive a reset that raced it) and the login answer.
/// `start.extra` joins the batch that starts the session (releasing a password login's attempt
/// count, upgrading its hash).
pub async fn start_session(
    req: &Request,
    state: &State,
    db: &Db,
    account: &Credentials,
    start: Start,
    now: i64,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let Start {
        session_id,
        client,
        extra,
        method,
    } = start;
    let second_factor_done = matches!(
        method,
        Method::Passkey {
            user_verified: true,
            ..
        }
    );
    // Only after the identity was proven, so the answer tells nothing to someone who lacks it.
    if account.disabled(now) {
        return Err(ApiError::AccountDisabled);
    }
    if config.require_email_verification && account.email_verified_at.is_none() {
        let verification_token = verification_token::issue(
            &config.keys.current().verification_token,
            &account.email,
            now,
        );
        return Err(ApiError::EmailNotVerified { verification_token });
    }
    if account.mfa_enabled != 0 && !second_factor_done {
        return challenge(req, db, account, &client, method, now).await;
    }
    let refresh = RefreshToken::generate();
    let amr = amr::stored(method, None);
    let agent = user_agent(req);
    let new_session = NewSession {
        id: &session_id,
        user_id: account.id,
        expires_at: now + config.refresh_token_ttl,
        verified_hash: &account.password_hash,
        user_agent: agent.as_deref(),
        amr: &amr,
    };
    let mut statements = vec![
        sessions::create(db, &new_session, now)?,
        sessions::add_refresh_token(db, &refresh.digest(), &session_id, now)?,
    ];
    statements.extend(extra);
    let started = batch(db, statements, "start session").await?;
    // No session row: the password changed while this sign-in was checking the old one.
    if rows::<SessionId>(&started[0], "read new session")?.is_empty() {
        return Err(ApiError::Unauthorized);
    }
    let signed = Signed {
        user_id: account.id,
        email: &account.email,
        name: account.name.as_deref(),
        email_verified: account.email_verified_at.is_some(),
    };
    let principal = Principal {
        user_id: account.id,
        session_id: session_id.clone(),
        auth_time: now,
        amr: amr::claim(Some(&amr)),
        org: None,
    };
    let answer = login_answer(config, &signed, &principal, refresh.expose(), now);
    let detail = Detail::new()
        .with("method", method.event_name())
        .with("session", session_id.as_str());
    state
        .events
        .by_user(req, account.id, EventKind::SignedIn, detail, now);
    Ok(json(200, &Value::Object(answer)))
}

/// How long an `mfa_token` lasts: long enough to open the app and type a code.
pub const MFA_TOKEN_TTL_SECONDS: i64 = 300;

/// The right password of an account with a second factor: no session yet, but a single-use
/// `mfa_token` for `/login/mfa`, bound to the account, this login's future session and the
/// password hash it verified. The lockout count stays until the code completes the login.
pub async fn challenge(
    req: &Request,
    db: &Db,
    account: &Credentials,
    client: &ClientAddress,
    first_step: Method,
    now: i64,
) -> Result<Response, ApiError> {
    let token = RefreshToken::generate();
    let amr = amr::stored(first_step, None);
    let session_id = random::identifier();
    let agent = user_agent(req);
    let challenge = NewChallenge {
        digest: &token.digest(),
        user_id: account.id,
        session_id: &session_id,
        verified_hash: &account.password_hash,
        client: client.as_str(),
        user_agent: agent.as_deref(),
        expires_at: now + MFA_TOKEN_TTL_SECONDS,
        amr: &amr,
    };
    mfa_challenges::create(db, &challenge).await?;
    Ok(json(
        200,
        &Value::Object(challenge_answer(token.expose(), MFA_TOKEN_TTL_SECONDS)),
    ))
}

/// The answer that tells a login to continue with `/login/mfa`.
pub fn challenge_answer(mfa_token: &str, expires_in: i64) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "message": "Enter the code from your authenticator app",
        "mfa_required": true,
        "mfa_token": mfa_token,
        "expires_in": expires_in,
    }) else {
        unreachable!("a JSON object literal")
    };
    map
}

/// Who a login answer is for.
pub struct Signed<'a> {
    pub user_id: i64,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub email_verified: bool,
}

/// The answer of a completed login: tokens of the new session, and who signed in.
pub fn login_answer(
    config: &Config,
    who: &Signed<'_>,
    principal: &Principal,
    refresh: &str,
    now: i64,
) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "message": "Login successful",
        "token": issue_access_token(config, principal, now),
        "refresh": refresh,
        "username": who.name,
        "email": who.email,
        "email_verified": who.email_verified,
        "token_type": "Bearer",
        "expires_in": config.access_token_ttl,
    }) else {
        unreachable!("a JSON object literal")
    };
    map
}

/// The id a new session's `RETURNING` gives back.
#[derive(serde::Deserialize)]
pub struct SessionId {
    #[allow(dead_code)]
    id: String,
}

pub fn issue_access_token(config: &Config, principal: &Principal, now: i64) -> String {
    access_token::issue(
        &token_settings(config),
        principal,
        random::identifier(),
        now,
    )
}
