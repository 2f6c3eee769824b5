//! Social sign-in (`GET /oauth/{provider}/start`, `/oauth/{provider}/callback`,
//! `POST /oauth/token`); linking a provider to a signed-in account is `links.rs`, on the same
//! callback, and what both share is `flow.rs`. Tokens never travel in a URL: the callback hands
//! the app a one-time code bound to the app's PKCE challenge, which the app exchanges for the
//! usual login answer, second-factor step included (RFC 9700 §2.1.1, §4.3.3). Nothing is linked at the callback:
//! an identity is linked only when its code is spent, by the session it was meant for.

use worker::{Request, Response};

use crate::core::accounts::email::Email;
use crate::core::accounts::name::Name;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::random;
use crate::core::sessions::amr::Method;
use crate::core::sessions::refresh_token::digest_of;
use crate::core::social::oauth_config::Provider;
use crate::core::social::oauth_requests::{Exchange, Start};
use crate::core::social::oidc::Identity;
use crate::core::social::pkce;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, read_body};
use crate::edge::log::Level;
use crate::edge::provider::pages::is_hosted_sign_in;
use crate::edge::sessions::start::{start_session, Start as SessionStart};
use crate::edge::social::flow::{
    begin, oauth, provider, provider_down, redirect, verify_identity, with_query, Called, Flow,
    Returning,
};
use crate::edge::social::sql::codes as oauth_codes;
use crate::edge::social::sql::codes::{NewCode, PendingIdentity, Purpose};
use crate::edge::social::sql::identities;
use crate::edge::social::sql::identities::NewIdentity;
use crate::edge::social::sql::states as oauth_states;
use crate::edge::social::sql::states::Taken;
use crate::edge::state::State;

/// Sends the browser to the provider, with our own state, nonce and PKCE challenge.
pub async fn start(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = oauth(&ctx.data)?;
    let provider = provider(config, &ctx)?;
    let called = Called::from(&req);
    // The allow-list, and the provider's own sign-in page (`edge/provider/pages.rs`).
    let allowed = |to: &str| config.allows_redirect(to) || is_hosted_sign_in(&req, &ctx, to);
    if called.query("redirect_to").is_some_and(|to| !allowed(&to)) {
        return Err(ApiError::RedirectNotAllowed);
    }
    let start = Start::parse(|name| called.query(name), allowed)?;
    let db = ctx.data.database(&ctx.env)?;
    let flow = Flow {
        provider,
        origin: &called.origin,
        start: &start,
        link: None,
        client: &client_address(&req),
    };
    let location = begin(&ctx.data, &db, &flow).await?;
    Ok(redirect(&location))
}

/// The provider sends the browser back here: the state is taken (single use), the code
/// exchanged, the identity verified, and the browser sent to the app's `redirect_to` with a
/// one-time `code` (a sign-in) or `link_code` and `provider` (a link), or with an `error` the
/// app can show. Nothing is linked here.
pub async fn callback(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = oauth(&ctx.data)?;
    let provider = provider(config, &ctx)?;
    let called = Called::from(&req);
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let taken = match called.query("state") {
        Some(state) => oauth_states::take(&db, &digest_of(&state), &provider.name, now).await?,
        None => None,
    };
    // Without our state there is nowhere safe to send the browser back to.
    let taken = taken.ok_or(ApiError::InvalidOAuthState)?;
    let outcome = match provider_identity(&ctx.data, provider, &called, &taken, now).await {
        Err(refused) => Outcome::Refused(refused),
        Ok(identity) => match taken.link_user_id {
            Some(user_id) => link_code(&db, provider, &taken, user_id, &identity, now).await?,
            None => sign_in_code(&ctx, &req, &db, provider, &taken, &identity, now).await?,
        },
    };
    let code;
    let pairs: Vec<(&str, &str)> = match &outcome {
        Outcome::SignIn(one_time) => {
            code = one_time.clone();
            vec![("code", &code)]
        }
        Outcome::Link(one_time) => {
            code = one_time.clone();
            vec![("link_code", &code), ("provider", &provider.name)]
        }
        Outcome::Refused(error) => vec![("error", error)],
    };
    Ok(redirect(&with_query(&taken.redirect_to, &pairs)))
}

/// Where a callback sends the browser back to the app with.
enum Outcome {
    /// A sign-in's one-time code, for `POST /oauth/token`.
    SignIn(String),
    /// A link's one-time code, for `POST /identities`.
    Link(String),
    /// An `error` code the app can show.
    Refused(&'static str),
}

/// The provider's answer at the callback, verified: the identity, or the `error` for the app.
async fn provider_identity(
    state: &State,
    provider: &Provider,
    called: &Called,
    taken: &Taken,
    now: i64,
) -> Result<Identity, &'static str> {
    if let Some(error) = called.query("error") {
        state.log.event(
            Level::Info,
            format!("oauth {}: provider answered {error:?}", provider.name),
        );
        return Err(if error == "access_denied" {
            "access_denied"
        } else {
            "provider_error"
        });
    }
    let code = called.query("code").ok_or("provider_error")?;
    let flow = Returning {
        origin: &called.origin,
        code: &code,
        verifier: &taken.verifier,
        nonce: &taken.nonce,
    };
    verify_identity(state, provider, &flow, now)
        .await
        .map_err(|failure| {
            provider_down(state, provider, failure);
            "provider_error"
        })
}

/// A link's one-time code: the identity waits in it for `POST /identities` from the session that
/// asked (a state from before links were bound to a session cannot complete).
async fn link_code(
    db: &Db,
    provider: &Provider,
    taken: &Taken,
    user_id: i64,
    identity: &Identity,
    now: i64,
) -> Result<Outcome, ApiError> {
    let Some(session_id) = taken.session_id.as_deref() else {
        return Ok(Outcome::Refused("invalid_state"));
    };
    let pending = pending(provider, identity);
    let one_time = random::secret_256();
    let code = NewCode {
        digest: &digest_of(&one_time),
        purpose: Purpose::Link,
        user_id,
        app_challenge: &taken.app_challenge,
        session_id: Some(session_id),
        identity: Some(&pending),
    };
    oauth_codes::create(db, &code, now).await?;
    Ok(Outcome::Link(one_time))
}

/// A sign-in's one-time code for the identity's account: the one it is linked to, one whose
/// address both sides verified (linked when the code is spent), or a new one.
async fn sign_in_code(
    ctx: &RouteContext,
    req: &Request,
    db: &Db,
    provider: &Provider,
    taken: &Taken,
    identity: &Identity,
    now: i64,
) -> Result<Outcome, ApiError> {
    let email = identity.email.as_deref().and_then(|e| Email::parse(e).ok());
    let email_str = email.as_ref().map(Email::as_str);
    let found = identities::look_up(db, &provider.name, &identity.subject, email_str).await?;
    let (user_id, link_later) = match (found.linked, found.by_email, email.as_ref()) {
        (Some(user_id), _, _) => {
            identities::touch(db, &provider.name, &identity.subject, now).await?;
            (user_id, None)
        }
        (None, _, None) => return Ok(Outcome::Refused("email_missing")),
        // An address the provider does not vouch for opens nothing, and answers alike whether or
        // not it has an account here (no enumeration; a new account from it would be a squat).
        _ if !identity.email_verified => return Ok(Outcome::Refused("email_not_verified")),
        // An address that has an account links only when our side proved it too (an
        // unverified account may be a squatter's); linked when the code is spent.
        (None, Some(user_id), Some(_)) if found.by_email_verified == Some(1) => {
            (user_id, Some(pending(provider, identity)))
        }
        (None, Some(_), Some(_)) => return Ok(Outcome::Refused("account_exists")),
        (None, None, Some(email)) => {
            let name = identity.name.as_deref().and_then(Name::from_provider);
            let new = NewIdentity {
                provider: &provider.name,
                subject: &identity.subject,
                email: Some(email.as_str()),
            };
            let created =
                identities::create_account(db, &new, email.as_str(), name.as_deref(), true, now)
                    .await?;
            let Some(user_id) = created else {
                return Ok(Outcome::Refused("account_exists"));
            };
            let detail = Detail::new()
                .with("method", "provider")
                .with("provider", provider.name.as_str());
            ctx.data
                .events
                .by_user(req, user_id, EventKind::AccountCreated, detail, now);
            (user_id, None)
        }
    };
    ctx.data.log.set_user(user_id);
    let one_time = random::secret_256();
    let code = NewCode {
        digest: &digest_of(&one_time),
        purpose: Purpose::SignIn,
        user_id,
        app_challenge: &taken.app_challenge,
        session_id: None,
        identity: link_later.as_ref(),
    };
    oauth_codes::create(db, &code, now).await?;
    Ok(Outcome::SignIn(one_time))
}

/// The provider's account, to link when its code is spent.
fn pending(provider: &Provider, identity: &Identity) -> PendingIdentity {
    PendingIdentity {
        provider: provider.name.clone(),
        subject: identity.subject.clone(),
        email: identity
            .email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .map(|e| e.as_str().to_owned()),
    }
}

/// The app exchanges the one-time code with its PKCE verifier for the login answer (or the
/// second-factor step): the same function that ends a password login makes the session. An
/// identity the code carries is linked now, and not while the account is disabled.
pub async fn exchange(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let exchange = Exchange::try_from(&read_body(&mut req).await?)?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let used = oauth_codes::take(&db, &digest_of(&exchange.code), Purpose::SignIn, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !pkce::verifies(&exchange.code_verifier, &used.app_challenge) {
        return Err(ApiError::Unauthorized);
    }
    let account = users::credentials_by_id(&db, used.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    ctx.data.log.set_user(account.id);
    if account.disabled(now) {
        return Err(ApiError::AccountDisabled);
    }
    if let Some(identity) = used.identity() {
        if link_identity(&db, &identity, account.id, now).await? {
            record_link(&ctx, &req, account.id, &identity.provider, now);
        }
    }
    let start = SessionStart {
        session_id: random::identifier(),
        client: client_address(&req),
        extra: Vec::new(),
        method: Method::Provider,
    };
    start_session(&req, &ctx.data, &db, &account, start, now).await
}

/// Links a pending identity to `user_id` (not while the account is disabled); whether it was.
pub async fn link_identity(
    db: &Db,
    identity: &PendingIdentity,
    user_id: i64,
    now: i64,
) -> Result<bool, ApiError> {
    let new = NewIdentity {
        provider: &identity.provider,
        subject: &identity.subject,
        email: identity.email.as_deref(),
    };
    identities::link(db, &new, user_id, now).await
}

/// Records a provider linked to `user_id` in the trail.
pub fn record_link(ctx: &RouteContext, req: &Request, user_id: i64, provider: &str, now: i64) {
    let detail = Detail::new()
        .with("factor", "provider")
        .with("provider", provider);
    ctx.data
        .events
        .by_user(req, user_id, EventKind::FactorAdded, detail, now);
}
