//! Social sign-in (`GET /oauth/{provider}/start`, `/oauth/{provider}/callback`,
//! `POST /oauth/token`) and linked identities (`POST /oauth/{provider}/link`, `GET /identities`,
//! `DELETE /identities/{provider}`). Tokens never travel in a URL: the callback hands the app a
//! one-time code bound to the app's PKCE challenge, which the app exchanges for the usual login
//! answer, second-factor step included (RFC 9700 §2.1.1, §4.3.3).

use serde_json::{json, Value};
use worker::{Headers, Request, Response};

use crate::core::email::Email;
use crate::core::oauth_config::{OAuthConfig, Provider, ProviderKind};
use crate::core::oauth_requests::{Exchange, Link, Start};
use crate::core::oidc::{self, Expected, Identity};
use crate::core::query;
use crate::core::refresh_token::digest_of;
use crate::core::security_event::{Detail, EventKind};
use crate::core::{pkce, random};
use crate::edge::auth::{live_caller, live_reader, principal, LiveCaller};
use crate::edge::db::identities::{self, NewIdentity, Unlinked};
use crate::edge::db::oauth_states::{self, NewState};
use crate::edge::db::{batch, oauth_codes, rows, users, Db};
use crate::edge::error::ApiError;
use crate::edge::handlers::session::{start_session, Start as SessionStart};
use crate::edge::http::{client_address, json, read_body, rfc3339};
use crate::edge::log::Level;
use crate::edge::oauth_client::{self, ProviderFailure};
use crate::edge::routes::RouteContext;
use crate::edge::state::{now, State};

/// How long a sign-in may take at the provider.
const STATE_TTL_SECONDS: i64 = 600;

/// Sends the browser to the provider, with our own state, nonce and PKCE challenge.
pub async fn start(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = oauth(&ctx.data)?;
    let provider = provider(config, &ctx)?;
    let called = Called::from(&req);
    refuse_unlisted(config, called.query("redirect_to").as_deref())?;
    let start = Start::parse(|name| called.query(name), |to| config.allows_redirect(to))?;
    let db = ctx.data.database(&ctx.env)?;
    let location = begin(
        &ctx.data,
        &db,
        provider,
        &called.origin,
        &start.redirect_to,
        &start.code_challenge,
        None,
    )
    .await?;
    Ok(redirect(&location))
}

/// A signed-in user links a provider: the URL to send the browser to (the callback then comes
/// back to `redirect_to` with `linked` or an `error`).
pub async fn link(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let config = oauth(&ctx.data)?;
    let provider = provider(config, &ctx)?;
    let body = read_body(&mut req).await?;
    refuse_unlisted(config, body.optional_string("redirect_to").ok().flatten())?;
    let link = Link::parse(&body, |to| config.allows_redirect(to))?;
    let db = ctx.data.database(&ctx.env)?;
    users::account_by_session(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let called = Called::from(&req);
    // A link needs no app code; its challenge is of a verifier nobody keeps.
    let unused = pkce::challenge(&pkce::new_verifier());
    let location = begin(
        &ctx.data,
        &db,
        provider,
        &called.origin,
        &link.redirect_to,
        &unused,
        Some(principal.user_id),
    )
    .await?;
    Ok(json(200, &json!({"url": location})))
}

async fn begin(
    state: &State,
    db: &Db,
    provider: &Provider,
    origin: &str,
    redirect_to: &str,
    app_challenge: &str,
    link_user_id: Option<i64>,
) -> Result<String, ApiError> {
    let now = now();
    let state_token = random::base64url(&random::bytes::<32>());
    let nonce = random::identifier();
    let verifier = pkce::new_verifier();
    let authorize = match &provider.kind {
        ProviderKind::Oidc { issuer } => {
            oauth_client::discovery(issuer, now)
                .await
                .map_err(|f| provider_down(state, provider, f))?
                .authorization_endpoint
        }
        ProviderKind::GitHub { web_base, .. } => format!("{web_base}/login/oauth/authorize"),
    };
    oauth_states::create(
        db,
        &NewState {
            digest: &digest_of(&state_token),
            provider: &provider.name,
            nonce: &nonce,
            verifier: &verifier,
            redirect_to,
            app_challenge,
            link_user_id,
            expires_at: now + STATE_TTL_SECONDS,
        },
    )
    .await?;
    Ok(with_query(
        &authorize,
        &[
            ("response_type", "code"),
            ("client_id", &provider.client_id),
            ("redirect_uri", &callback_uri(origin, provider)),
            ("scope", &provider.scopes),
            ("state", &state_token),
            ("nonce", &nonce),
            ("code_challenge", &pkce::challenge(&verifier)),
            ("code_challenge_method", "S256"),
        ],
    ))
}

/// The provider sends the browser back here: the state is taken (single use), the code
/// exchanged, the identity verified, the account found, created or linked, and the browser sent
/// to the app's `redirect_to` with a one-time `code`, or with an `error` the app can show.
pub async fn callback(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = oauth(&ctx.data)?;
    let provider = provider(config, &ctx)?;
    let called = Called::from(&req);
    let query = |name: &str| called.query(name);
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let taken = match query("state") {
        Some(state) => oauth_states::take(&db, &digest_of(&state), &provider.name, now).await?,
        None => None,
    };
    // Without our state there is nowhere safe to send the browser back to.
    let taken = taken.ok_or(ApiError::InvalidOAuthState)?;
    let back = |outcome: &[(&str, &str)]| -> Result<Response, ApiError> {
        Ok(redirect(&with_query(&taken.redirect_to, outcome)))
    };
    if let Some(error) = query("error") {
        let code = if error == "access_denied" {
            "access_denied"
        } else {
            "provider_error"
        };
        ctx.data.log.event(
            Level::Info,
            format!("oauth {}: provider answered {error:?}", provider.name),
        );
        return back(&[("error", code)]);
    }
    let Some(code) = query("code") else {
        return back(&[("error", "provider_error")]);
    };
    let identity = match verify_identity(
        &ctx.data,
        provider,
        &called.origin,
        &code,
        &taken.verifier,
        &taken.nonce,
        now,
    )
    .await
    {
        Ok(identity) => identity,
        Err(failure) => {
            provider_down(&ctx.data, provider, failure);
            return back(&[("error", "provider_error")]);
        }
    };
    let email = identity.email.as_deref().and_then(|e| Email::parse(e).ok());
    let new = NewIdentity {
        provider: &provider.name,
        subject: &identity.subject,
        email: email.as_ref().map(Email::as_str),
    };
    let found = identities::look_up(&db, &provider.name, &identity.subject, new.email).await?;
    if let Some(user_id) = taken.link_user_id {
        let outcome = match found.linked {
            Some(owner) if owner == user_id => "linked",
            Some(_) => "identity_taken",
            None if identities::link(&db, &new, user_id, now).await? => "linked",
            None => "already_linked",
        };
        return if outcome == "linked" {
            let detail = Detail::new()
                .with("factor", "provider")
                .with("provider", provider.name.as_str());
            ctx.data
                .events
                .by_user(&req, user_id, EventKind::FactorAdded, detail, now);
            back(&[("linked", &provider.name)])
        } else {
            back(&[("error", outcome)])
        };
    }
    let user_id = match (found.linked, found.by_email) {
        (Some(user_id), _) => {
            identities::touch(&db, &provider.name, &identity.subject, now).await?;
            user_id
        }
        // An address that has an account links only when both sides proved it (an unverified
        // provider email must never open someone's account).
        (None, Some(user_id)) => {
            if !(identity.email_verified && found.by_email_verified == Some(1)) {
                return back(&[("error", "account_exists")]);
            }
            if !identities::link(&db, &new, user_id, now).await? {
                return back(&[("error", "account_exists")]);
            }
            let detail = Detail::new()
                .with("factor", "provider")
                .with("provider", provider.name.as_str());
            ctx.data
                .events
                .by_user(&req, user_id, EventKind::FactorAdded, detail, now);
            user_id
        }
        (None, None) => {
            let Some(email) = email.as_ref() else {
                return back(&[("error", "email_missing")]);
            };
            // A new account from an address the provider has not verified would let anyone
            // squat it (the real owner's reset would hand them an account the squatter keeps).
            if !identity.email_verified {
                return back(&[("error", "email_not_verified")]);
            }
            let created = identities::create_account(
                &db,
                &new,
                email.as_str(),
                identity.name.as_deref(),
                true,
                now,
            )
            .await?;
            let Some(user_id) = created else {
                return back(&[("error", "account_exists")]);
            };
            let detail = Detail::new()
                .with("method", "provider")
                .with("provider", provider.name.as_str());
            ctx.data
                .events
                .by_user(&req, user_id, EventKind::AccountCreated, detail, now);
            user_id
        }
    };
    ctx.data.log.set_user(user_id);
    let one_time = random::base64url(&random::bytes::<32>());
    oauth_codes::create(
        &db,
        &digest_of(&one_time),
        user_id,
        &taken.app_challenge,
        now,
    )
    .await?;
    back(&[("code", &one_time)])
}

/// The app exchanges the one-time code with its PKCE verifier for the login answer (or the
/// second-factor step): the same function that ends a password login makes the session.
pub async fn exchange(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let exchange = Exchange::try_from(&read_body(&mut req).await?)?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let used = oauth_codes::take(&db, &digest_of(&exchange.code), now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !pkce::verifies(&exchange.code_verifier, &used.app_challenge) {
        return Err(ApiError::Unauthorized);
    }
    let account = users::credentials_by_id(&db, used.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    ctx.data.log.set_user(account.id);
    let start = SessionStart {
        session_id: random::identifier(),
        client: client_address(&req),
        extra: Vec::new(),
        second_factor_done: false,
        method: "provider",
    };
    start_session(&req, &ctx.data, &db, &account, start, now).await
}

/// `GET /identities`: the caller's linked providers.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let LiveCaller { principal, db, .. } = live_reader(&req, &ctx).await?;
    let results = batch(
        &db,
        vec![identities::list(&db, principal.user_id)?],
        "list identities",
    )
    .await?;
    let listed: Vec<identities::Listed> = rows(&results[0], "list identities")?;
    let shown: Vec<Value> = listed
        .into_iter()
        .map(|i| {
            json!({
                "provider": i.provider,
                "email": i.email,
                "created_at": rfc3339(i.created_at),
                "last_used_at": i.last_used_at.and_then(rfc3339),
            })
        })
        .collect();
    Ok(json(200, &json!({"identities": shown})))
}

/// `DELETE /identities/{provider}`: unlinks one, never the account's last way to sign in.
pub async fn unlink(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let name = ctx.id().ok_or(ApiError::NotFound)?.to_owned();
    let LiveCaller { principal, db, .. } = live_caller(&req, &ctx).await?;
    match identities::unlink(&db, principal.user_id, &name).await? {
        Unlinked::Done => {
            let detail = Detail::new()
                .with("factor", "provider")
                .with("provider", name.as_str());
            let events = &ctx.data.events;
            events.by_user(
                &req,
                principal.user_id,
                EventKind::FactorRemoved,
                detail,
                now(),
            );
            Ok(json(200, &json!({"message": "Unlinked"})))
        }
        Unlinked::LastWayIn => Err(ApiError::LastSignInMethod),
        Unlinked::NotLinked => Err(ApiError::NotFound),
    }
}

async fn verify_identity(
    state: &State,
    provider: &Provider,
    origin: &str,
    code: &str,
    verifier: &str,
    nonce: &str,
    now: i64,
) -> Result<Identity, ProviderFailure> {
    let redirect_uri = callback_uri(origin, provider);
    match &provider.kind {
        ProviderKind::GitHub { web_base, api_base } => {
            oauth_client::github_identity(
                provider,
                web_base,
                api_base,
                code,
                &redirect_uri,
                verifier,
            )
            .await
        }
        ProviderKind::Oidc { issuer } => {
            let discovery = oauth_client::discovery(issuer, now).await?;
            let id_token = oauth_client::exchange_for_id_token(
                provider,
                &discovery,
                code,
                &redirect_uri,
                verifier,
            )
            .await?;
            let expected = Expected {
                issuer,
                client_id: &provider.client_id,
                nonce,
                now,
            };
            let keys = oauth_client::key_set(&discovery.jwks_uri, now, false).await?;
            match oidc::verify(&id_token, &keys, &expected) {
                // A key we do not know yet: the provider may have rotated; fetch once more.
                Err(oidc::IdTokenError::UnknownKey) => {
                    let keys = oauth_client::key_set(&discovery.jwks_uri, now, true).await?;
                    oidc::verify(&id_token, &keys, &expected)
                }
                other => other,
            }
            .map_err(|e| {
                state.log.event(
                    Level::Warn,
                    format!("oauth {}: ID token refused: {e}", provider.name),
                );
                ProviderFailure(format!("ID token refused: {e}"))
            })
        }
    }
}

/// A `redirect_to` off the allow-list: refused before anything is stored (no open redirect).
fn refuse_unlisted(config: &OAuthConfig, redirect_to: Option<&str>) -> Result<(), ApiError> {
    match redirect_to {
        Some(to) if !config.allows_redirect(to) => Err(ApiError::RedirectNotAllowed),
        _ => Ok(()),
    }
}

fn oauth(state: &State) -> Result<&OAuthConfig, ApiError> {
    state
        .config
        .oauth
        .as_ref()
        .map_err(|e| ApiError::Misconfigured(e.clone()))
}

/// The provider the path names; an unknown or unconfigured one is `404`.
fn provider<'a>(config: &'a OAuthConfig, ctx: &RouteContext) -> Result<&'a Provider, ApiError> {
    ctx.id()
        .and_then(|name| config.provider(name))
        .ok_or(ApiError::NotFound)
}

/// Where the provider sends the browser back: this worker's own callback route.
fn callback_uri(origin: &str, provider: &Provider) -> String {
    format!("{origin}/oauth/{}/callback", provider.name)
}

/// What the route needs of the request's URL: its origin and its query, percent-decoded.
struct Called {
    origin: String,
    query: Vec<(String, String)>,
}

impl Called {
    fn from(req: &Request) -> Self {
        let url = req.inner().url();
        Self {
            origin: query::origin(&url).to_owned(),
            query: query::pairs(&url),
        }
    }

    fn query(&self, name: &str) -> Option<String> {
        query::value(&self.query, name)
    }
}

/// `base` with `pairs` added to its query (before any fragment).
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = base
        .split_once('#')
        .map_or((base, None), |(b, f)| (b, Some(f)));
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{separator}{}", query.finish());
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn provider_down(state: &State, provider: &Provider, failure: ProviderFailure) -> ApiError {
    state.log.event(
        Level::Error,
        format!("oauth {}: provider failed: {}", provider.name, failure.0),
    );
    ApiError::ProviderUnavailable
}

fn redirect(location: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Location", location);
    Response::empty()
        .expect("an empty response always builds")
        .with_status(302)
        .with_headers(headers)
}
