//! `POST /login`, `POST /refresh` and `POST /logout`: sessions and their tokens.

use serde_json::json;
use worker::{D1PreparedStatement, Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::passwords::password_hash;
use crate::core::query;
use crate::core::random;
use crate::core::requests::{Login, LogoutRequest, RefreshRequest};
use crate::core::sessions::access_token::Principal;
use crate::core::sessions::amr;
use crate::core::sessions::amr::Method;
use crate::core::sessions::refresh_token::RefreshToken;
use crate::core::violation::Violation;
use crate::edge::accounts::sql::users;
use crate::edge::accounts::sql::users::Credentials;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::db::{batch, leading, rows};
use crate::edge::error::ApiError;
use crate::edge::http::client_address;
use crate::edge::http::{json, read_body, read_optional_body};
use crate::edge::log::Level;
use crate::edge::organizations::org_claims;
use crate::edge::sessions::bearer::principal;
use crate::edge::sessions::sql::login_attempts;
use crate::edge::sessions::sql::sessions;
use crate::edge::sessions::sql::sessions::{Rotation, Successor};
use crate::edge::sessions::start::{issue_access_token, start_session, Start};
use crate::edge::state::State;

/// Two round trips on success (reserve the attempt and read the account; start the session),
/// one on failure. An unknown email costs one dummy verification, like a wrong password
/// (OWASP Authentication Cheat Sheet), and both answer the same `401`.
pub async fn login(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let login = Login::try_from(&read_body(&mut req).await?)?;
    let client = client_address(&req);
    let config = &ctx.data.config;
    let limits = config.lockout_limits();
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let [pair, account_wide] = login_attempts::reserve(&db, &login.email, &client, now, limits)?;
    let first = vec![
        pair,
        account_wide,
        users::find_credentials(&db, &login.email)?,
    ];
    let results = batch(&db, first, "start login").await?;
    let [pair, account_wide, found] = leading(&results, "start login")?;
    let account: Option<Credentials> = rows(found, "read account")?.into_iter().next();
    if let Err(locked) = login_attempts::judge(pair, account_wide, limits, now) {
        let begins = login_attempts::lockout_begins(pair, account_wide, limits)?;
        if let Some(account) = account.as_ref().filter(|_| begins) {
            let detail = Detail::new().with("reason", "too_many_failures");
            ctx.data
                .events
                .by_user(&req, account.id, EventKind::LockedOut, detail, now);
        }
        return Err(locked);
    }
    let password = login.password.expose();
    let verified = match &account {
        // An account a provider made has no password: answered like an unknown email.
        Some(account) if account.password_hash.is_empty() => password_hash::verify_dummy(password),
        Some(account) => {
            password_hash::verify(password, &account.password_hash).unwrap_or_else(|e| {
                ctx.data.log.event(
                    Level::Error,
                    format!("account {}: unreadable password hash: {e}", account.id),
                );
                false
            })
        }
        None => password_hash::verify_dummy(password),
    };
    if !verified {
        // The trail of a known account records the failure's class, never what was typed.
        if let Some(account) = &account {
            let detail = Detail::new().with("reason", "password");
            ctx.data
                .events
                .by_user(&req, account.id, EventKind::SignInFailed, detail, now);
        }
        return Err(ApiError::Unauthorized);
    }
    let Some(account) = account else {
        return Err(ApiError::Unauthorized);
    };
    ctx.data.log.set_user(account.id);
    let session_id = random::identifier();
    let mut extra: Vec<D1PreparedStatement> =
        login_attempts::record_success(&db, &login.email, &client, &session_id)?.into();
    if !password_hash::is_current(&account.password_hash) {
        let upgraded = password_hash::hash(password, random::bytes())
            .map_err(|e| ApiError::internal("rehash password", e))?;
        extra.push(users::upgrade_hash(
            &db,
            account.id,
            &account.password_hash,
            &upgraded,
        )?);
    }
    let start = Start {
        session_id,
        client,
        extra,
        method: Method::Password,
    };
    start_session(&req, &ctx.data, &db, &account, start, now).await
}

/// Exchanges a refresh token for a new access token and its successor, in one D1 batch.
pub async fn refresh(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let request = RefreshRequest::try_from(&read_body(&mut req).await?)?;
    let presented = RefreshToken::parse(request.refresh.expose()).ok_or(ApiError::Unauthorized)?;
    let config = &ctx.data.config;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let switch_to = request.switch_to.as_ref().map(Option::as_deref);
    let (rotation, successor) =
        rotate_refresh(&req, &ctx.data, &db, &presented, None, switch_to, now).await?;
    let org = org_claims(
        config,
        rotation.org_id.as_deref(),
        rotation.org_role.as_deref(),
    );
    let principal = Principal {
        user_id: rotation.user_id,
        session_id: rotation.session_id,
        auth_time: rotation.auth_time,
        amr: amr::claim(rotation.amr.as_deref()),
        org,
    };
    ctx.data.log.set_user(principal.user_id);
    Ok(json(
        200,
        &json!({
            "message": "Token refreshed",
            "token": issue_access_token(config, &principal, now),
            "refresh": successor.expose(),
            "token_type": "Bearer",
            "expires_in": config.access_token_ttl,
        }),
    ))
}

/// Rotates `presented` (RFC 9700 §4.14.2) for a first-party session (`client` `None`) or a
/// client's grant (`edge/provider/token.rs`): the session and the successor, or `401` for a
/// token that is unknown, spent, of another client, or of an ended session. Reuse ends the
/// session and goes on the owner's trail.
pub async fn rotate_refresh(
    req: &Request,
    state: &State,
    db: &Db,
    presented: &RefreshToken,
    client: Option<&str>,
    switch_to: Option<Option<&str>>,
    now: i64,
) -> Result<(Rotation, RefreshToken), ApiError> {
    let config = &state.config;
    let keys = config.keys.current();
    let salt = random::identifier();
    let successor = presented.successor(&keys.refresh_successor, &salt);
    let derived = Successor {
        digest: &successor.digest(),
        salt: &salt,
        key_id: &keys.id,
    };
    let grace = config.refresh_reuse_grace;
    let rotation = sessions::rotate(
        db,
        &presented.digest(),
        &derived,
        client,
        switch_to,
        now,
        grace,
    )
    .await?
    .ok_or(ApiError::Unauthorized)?;
    // A switch to someone else's organization spent nothing: the token still works.
    if rotation.org_allowed == 0 && rotation.revoked_at.is_none() && rotation.expires_at > now {
        return Err(ApiError::NotAMember);
    }
    if !rotation.granted(now, grace) {
        // A token spent before the grace window, presented again: its session was just ended
        // (RFC 9700 §4.14.2). Worth the owner's and the operator's eye.
        if rotation.revoked_at == Some(now)
            && rotation.rotated_at.is_some_and(|at| at < now - grace)
        {
            let detail = Detail::new().with("session", rotation.session_id.as_str());
            let events = &state.events;
            events.by_user(
                req,
                rotation.user_id,
                EventKind::RefreshReuseDetected,
                detail,
                now,
            );
        }
        return Err(ApiError::Unauthorized);
    }
    // A repeat within the grace window: the successor the spending request derived, again.
    let successor = match (&rotation.successor_salt, &rotation.successor_key) {
        (Some(stored), _) if *stored == salt => successor,
        (Some(stored), Some(key_id)) => config
            .keys
            .by_id(key_id)
            .map(|keys| presented.successor(&keys.refresh_successor, stored))
            .ok_or(ApiError::Unauthorized)?,
        _ => return Err(ApiError::Unauthorized),
    };
    Ok((rotation, successor))
}

/// Ends the caller's session (`?scope=all`: every session of the caller), and the session of the
/// `refresh` token in the body if it is the caller's.
pub async fn logout(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let scope = query::value(&query::pairs(&req.inner().url()), "scope");
    let everywhere = match scope.as_deref() {
        None | Some("session") => false,
        Some("all") => true,
        Some(_) => {
            return Err(Violation::new("scope", "invalid", "scope must be all or session").into())
        }
    };
    let request = LogoutRequest::try_from(&read_optional_body(&mut req).await?)?;
    let refresh_digest = request
        .refresh
        .as_ref()
        .and_then(|raw| RefreshToken::parse(raw.expose()))
        .map(|token| token.digest());
    let db = ctx.data.database(&ctx.env)?;
    if !sessions::revoke(&db, &principal, everywhere, refresh_digest.as_deref(), now).await? {
        return Err(ApiError::Unauthorized);
    }
    let detail = Detail::new().with("scope", if everywhere { "all" } else { "session" });
    ctx.data.events.by_user(
        &req,
        principal.user_id,
        EventKind::SessionEnded,
        detail,
        now,
    );
    Ok(json(200, &json!({"message": "Logout successful"})))
}
