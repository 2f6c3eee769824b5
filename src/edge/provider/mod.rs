//! The OAuth 2.1 authorization server and OpenID provider (docs/provider.md): discovery, the
//! authorize endpoint with its hosted pages (and the organization chosen at consent), the token
//! endpoint, UserInfo, revocation, introspection, the apps a user granted, and the operator's
//! clients.

pub mod admin;
pub mod authorize;
pub mod browser;
pub mod device;
pub mod device_page;
pub mod discovery;
pub mod grants;
pub mod metadata_document;
pub mod new_grant;
pub mod organization;
pub mod pages;
pub mod register;
pub mod rsa;
pub mod sql;
pub mod token;
pub mod token_info;

use serde_json::json;
use worker::{Request, Response};

use crate::core::provider::config::ProviderConfig;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::json;

/// The provider's settings; its routes do not exist (`404`) unless `OAUTH_PROVIDER` is `true`.
pub fn provider(ctx: &RouteContext) -> Result<&ProviderConfig, ApiError> {
    match &ctx.data.config.provider {
        Ok(Some(provider)) => Ok(provider),
        Ok(None) => Err(ApiError::NotFound),
        Err(e) => Err(ApiError::Misconfigured(e.clone())),
    }
}

/// The issuer: `OAUTH_ISSUER`, or the origin the request came to.
pub fn issuer(req: &Request, provider: &ProviderConfig) -> String {
    provider
        .issuer
        .clone()
        .unwrap_or_else(|| crate::core::query::origin(&req.inner().url()).to_owned())
}

/// An OAuth error answer (RFC 6749 §5.2): `{"error", "error_description"}`.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let response = json(
        status,
        &json!({"error": error, "error_description": description}),
    );
    if status == 401 {
        // RFC 6749 §5.2: a failed client authentication names the scheme it expects.
        let _ = response
            .headers()
            .set("WWW-Authenticate", "Basic realm=\"oauth2\"");
    }
    response
}
