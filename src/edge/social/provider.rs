//! The outbound half of social sign-in: a provider's discovery document and key set (cached per
//! isolate for their `Cache-Control: max-age`), the code exchange, and GitHub's user API. Every
//! request goes out with redirects not followed (a provider that redirects its token endpoint is
//! refused, RFC 9700 §4.11) and a short answer read as JSON.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response};

use crate::core::social::oauth_config::Provider;
use crate::core::social::oidc::Identity;
use crate::edge::error::ApiError;

/// What sign-in needs of a provider's discovery document (OpenID Connect Discovery 1.0 §3).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// How long a document is kept when its answer gives no `max-age`.
const DEFAULT_MAX_AGE: i64 = 3600;
/// Never longer than a day, so a provider's key rotation reaches us.
const LONGEST_MAX_AGE: i64 = 86_400;

thread_local! {
    static CACHE: RefCell<HashMap<String, (Value, i64)>> = RefCell::new(HashMap::new());
}

/// A provider's failure (its answer, our network), for the log; the user sees `provider_error`.
#[derive(Debug)]
pub struct ProviderFailure(pub String);

impl From<worker::Error> for ProviderFailure {
    fn from(e: worker::Error) -> Self {
        Self(e.to_string())
    }
}

/// The discovery document of `issuer`, whose `issuer` must be `issuer` exactly (§4.3).
pub async fn discovery(issuer: &str, now: i64) -> Result<Discovery, ProviderFailure> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let document = cached_json(&url, now, false).await?;
    let discovery: Discovery = serde_json::from_value(document)
        .map_err(|e| ProviderFailure(format!("discovery document: {e}")))?;
    if discovery.issuer != issuer {
        return Err(ProviderFailure(format!(
            "discovery document names issuer {:?}",
            discovery.issuer
        )));
    }
    Ok(discovery)
}

/// The key set at `uri`; `fresh` skips the cache (a token names a key we do not have yet).
pub async fn key_set(uri: &str, now: i64, fresh: bool) -> Result<Value, ProviderFailure> {
    cached_json(uri, now, fresh).await
}

async fn cached_json(url: &str, now: i64, fresh: bool) -> Result<Value, ProviderFailure> {
    if !fresh {
        let hit = CACHE.with(|cache| {
            cache
                .borrow()
                .get(url)
                .filter(|(_, until)| *until > now)
                .map(|(value, _)| value.clone())
        });
        if let Some(value) = hit {
            return Ok(value);
        }
    }
    let mut response = send(Method::Get, url, Headers::new(), None).await?;
    let max_age = max_age(response.headers()).unwrap_or(DEFAULT_MAX_AGE);
    let value = read_json(&mut response, url).await?;
    CACHE.with(|cache| {
        cache.borrow_mut().insert(
            url.to_owned(),
            (value.clone(), now + max_age.min(LONGEST_MAX_AGE)),
        )
    });
    Ok(value)
}

fn max_age(headers: &Headers) -> Option<i64> {
    let control = headers.get("Cache-Control").ok().flatten()?;
    if control.contains("no-store") || control.contains("no-cache") {
        return Some(0);
    }
    control
        .split(',')
        .find_map(|part| part.trim().strip_prefix("max-age="))
        .and_then(|age| age.trim().parse().ok())
}

/// Exchanges the authorization code at an OpenID provider's token endpoint (client_secret_basic,
/// RFC 6749 §2.3.1) and returns the ID token.
pub async fn exchange_for_id_token(
    provider: &Provider,
    discovery: &Discovery,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<String, ProviderFailure> {
    let form = form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ]);
    let headers = Headers::new();
    let credentials = format!(
        "{}:{}",
        form_encode(&provider.client_id),
        form_encode(provider.client_secret.expose())
    );
    let basic = <base64ct::Base64 as base64ct::Encoding>::encode_string(credentials.as_bytes());
    headers.set("Authorization", &format!("Basic {basic}"))?;
    headers.set("Content-Type", "application/x-www-form-urlencoded")?;
    headers.set("Accept", "application/json")?;
    let mut response = send(Method::Post, &discovery.token_endpoint, headers, Some(form)).await?;
    let answer = read_json(&mut response, "token endpoint").await?;
    answer["id_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ProviderFailure(format!("token endpoint answered {}", error_of(&answer))))
}

/// GitHub: exchanges the code for an access token, then reads the user and their primary email
/// (its `verified` flag is GitHub's own).
pub async fn github_identity(
    provider: &Provider,
    web_base: &str,
    api_base: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<Identity, ProviderFailure> {
    let form = form(&[
        ("client_id", &provider.client_id),
        ("client_secret", provider.client_secret.expose()),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ]);
    let headers = Headers::new();
    headers.set("Content-Type", "application/x-www-form-urlencoded")?;
    headers.set("Accept", "application/json")?;
    let url = format!("{web_base}/login/oauth/access_token");
    let mut response = send(Method::Post, &url, headers, Some(form)).await?;
    let answer = read_json(&mut response, "GitHub token endpoint").await?;
    let token = answer["access_token"]
        .as_str()
        .ok_or_else(|| {
            ProviderFailure(format!(
                "GitHub token endpoint answered {}",
                error_of(&answer)
            ))
        })?
        .to_owned();
    let api = |path: &str| {
        let headers = Headers::new();
        let url = format!("{api_base}{path}");
        let token = token.clone();
        async move {
            headers.set("Authorization", &format!("Bearer {token}"))?;
            headers.set("Accept", "application/vnd.github+json")?;
            // GitHub refuses API requests without a User-Agent.
            headers.set("User-Agent", "edge-auth")?;
            let mut response = send(Method::Get, &url, headers, None).await?;
            read_json(&mut response, "GitHub API").await
        }
    };
    let user = api("/user").await?;
    let emails = api("/user/emails").await?;
    let subject = match &user["id"] {
        Value::Number(id) => id.to_string(),
        _ => return Err(ProviderFailure("GitHub user without an id".into())),
    };
    let primary = emails
        .as_array()
        .and_then(|list| list.iter().find(|e| e["primary"] == true));
    Ok(Identity {
        subject,
        email: primary.and_then(|e| e["email"].as_str()).map(str::to_owned),
        email_verified: primary.is_some_and(|e| e["verified"] == true),
        name: user["name"]
            .as_str()
            .or_else(|| user["login"].as_str())
            .map(str::to_owned),
    })
}

async fn send(
    method: Method,
    url: &str,
    headers: Headers,
    body: Option<String>,
) -> Result<Response, ProviderFailure> {
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(body.map(|b| JsValue::from_str(&b)));
    let request = Request::new_with_init(url, &init)?;
    let response = Fetch::Request(request).send().await?;
    match response.status_code() {
        200..=299 => Ok(response),
        status => Err(ProviderFailure(format!("{url} answered {status}"))),
    }
}

async fn read_json(response: &mut Response, what: &str) -> Result<Value, ProviderFailure> {
    let text = response.text().await?;
    if text.len() > 256 * 1024 {
        return Err(ProviderFailure(format!("{what}: answer too large")));
    }
    serde_json::from_str(&text).map_err(|e| ProviderFailure(format!("{what}: not JSON ({e})")))
}

/// The `error` of an OAuth error answer, for the log (never the whole answer: it may hold a token).
fn error_of(answer: &Value) -> String {
    answer["error"]
        .as_str()
        .map_or_else(|| "no token".to_owned(), |e| format!("error {e:?}"))
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `application/x-www-form-urlencoded` of one value.
pub fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl From<ProviderFailure> for ApiError {
    fn from(failure: ProviderFailure) -> Self {
        ApiError::internal("social sign-in provider", failure.0)
    }
}
