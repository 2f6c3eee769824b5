//! The parts of a provider flow that sign-in and linking share: leaving for the provider with
//! our state, nonce and PKCE challenge (`begin`), the identity verified on the way back, the
//! provider's configuration, and the URLs and redirects of the dance.

use worker::{Headers, Request, Response};

use crate::core::client_address::ClientAddress;
use crate::core::query;
use crate::core::random;
use crate::core::sessions::access_token::Principal;
use crate::core::sessions::refresh_token::digest_of;
use crate::core::social::oauth_config::{OAuthConfig, Provider, ProviderKind};
use crate::core::social::oauth_requests::Start;
use crate::core::social::oidc;
use crate::core::social::oidc::{Expected, Identity};
use crate::core::social::pkce;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::log::Level;
use crate::edge::social::provider as oauth_client;
use crate::edge::social::provider::ProviderFailure;
use crate::edge::social::sql::states as oauth_states;
use crate::edge::social::sql::states::NewState;
use crate::edge::state::State;

/// How long a sign-in may take at the provider.
pub const STATE_TTL_SECONDS: i64 = 600;

/// A sign-in or link about to leave for the provider.
pub struct Flow<'a> {
    pub provider: &'a Provider,
    /// This worker's origin, for the callback's URI.
    pub origin: &'a str,
    /// The app's `redirect_to` and PKCE challenge.
    pub start: &'a Start,
    /// A link's account and session.
    pub link: Option<&'a Principal>,
    pub client: &'a ClientAddress,
}

/// Stores the flow's state (at most `LIVE_PER_CLIENT` in flight per client address) and answers
/// the provider's authorization URL.
pub async fn begin(state: &State, db: &Db, flow: &Flow<'_>) -> Result<String, ApiError> {
    let now = now();
    let provider = flow.provider;
    let state_token = random::secret_256();
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
    let stored = oauth_states::create(
        db,
        &NewState {
            digest: &digest_of(&state_token),
            provider: &provider.name,
            nonce: &nonce,
            verifier: &verifier,
            redirect_to: &flow.start.redirect_to,
            app_challenge: &flow.start.code_challenge,
            link: flow.link,
            expires_at: now + STATE_TTL_SECONDS,
            client: flow.client.as_str(),
        },
        now,
    )
    .await?;
    if !stored {
        return Err(ApiError::TooManyAttempts {
            retry_after: STATE_TTL_SECONDS,
        });
    }
    Ok(with_query(
        &authorize,
        &[
            ("response_type", "code"),
            ("client_id", &provider.client_id),
            ("redirect_uri", &callback_uri(flow.origin, provider)),
            ("scope", &provider.scopes),
            ("state", &state_token),
            ("nonce", &nonce),
            ("code_challenge", &pkce::challenge(&verifier)),
            ("code_challenge_method", "S256"),
        ],
    ))
}

/// What the browser brought back, and what our state kept for it.
pub struct Returning<'a> {
    pub origin: &'a str,
    pub code: &'a str,
    pub verifier: &'a str,
    pub nonce: &'a str,
}

pub async fn verify_identity(
    state: &State,
    provider: &Provider,
    flow: &Returning<'_>,
    now: i64,
) -> Result<Identity, ProviderFailure> {
    let Returning {
        origin,
        code,
        verifier,
        nonce,
    } = *flow;
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
pub fn refuse_unlisted(config: &OAuthConfig, redirect_to: Option<&str>) -> Result<(), ApiError> {
    match redirect_to {
        Some(to) if !config.allows_redirect(to) => Err(ApiError::RedirectNotAllowed),
        _ => Ok(()),
    }
}

pub fn oauth(state: &State) -> Result<&OAuthConfig, ApiError> {
    state
        .config
        .oauth
        .as_ref()
        .map_err(|e| ApiError::Misconfigured(e.clone()))
}

/// The provider the path names; an unknown or unconfigured one is `404`.
pub fn provider<'a>(config: &'a OAuthConfig, ctx: &RouteContext) -> Result<&'a Provider, ApiError> {
    ctx.id()
        .and_then(|name| config.provider(name))
        .ok_or(ApiError::NotFound)
}

/// Where the provider sends the browser back: this worker's own callback route.
pub fn callback_uri(origin: &str, provider: &Provider) -> String {
    format!("{origin}/oauth/{}/callback", provider.name)
}

/// What the route needs of the request's URL: its origin and its query, percent-decoded.
pub struct Called {
    /// This worker's origin.
    pub origin: String,
    query: Vec<(String, String)>,
}

impl Called {
    pub fn from(req: &Request) -> Self {
        let url = req.inner().url();
        Self {
            origin: query::origin(&url).to_owned(),
            query: query::pairs(&url),
        }
    }

    pub fn query(&self, name: &str) -> Option<String> {
        query::value(&self.query, name)
    }
}

/// `base` with `pairs` added to its query (before any fragment).
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
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

pub fn provider_down(state: &State, provider: &Provider, failure: ProviderFailure) -> ApiError {
    state.log.event(
        Level::Error,
        format!("oauth {}: provider failed: {}", provider.name, failure.0),
    );
    ApiError::ProviderUnavailable
}

pub fn redirect(location: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Location", location);
    Response::empty()
        .expect("an empty response always builds")
        .with_status(302)
        .with_headers(headers)
}
