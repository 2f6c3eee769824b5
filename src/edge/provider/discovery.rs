//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3) and
//! `GET /.well-known/oauth-authorization-server` (RFC 8414): one document, what the provider does.

use serde_json::json;
use worker::{Request, Response};

use crate::core::provider::clients::ID_TOKEN_ALGS;
use crate::core::provider::device::DEVICE_CODE_GRANT;
use crate::core::provider::scopes::KNOWN;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::json;
use crate::edge::provider::{issuer, provider};

/// The same for everyone: cacheable for five minutes, readable from any origin.
pub async fn metadata(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let provider = provider(&ctx)?;
    let iss = issuer(&req, provider);
    let mut document = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth2/authorize"),
        "token_endpoint": format!("{iss}/oauth2/token"),
        "userinfo_endpoint": format!("{iss}/oauth2/userinfo"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{iss}/oauth2/revoke"),
        "introspection_endpoint": format!("{iss}/oauth2/introspect"),
        "scopes_supported": KNOWN,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_CODE_GRANT],
        "device_authorization_endpoint": format!("{iss}/oauth2/device_authorization"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ID_TOKEN_ALGS,
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": ["sub", "iss", "aud", "azp", "exp", "iat", "auth_time", "nonce", "amr", "sid", "email", "email_verified", "name"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    // RFC 7591 §3, and draft-ietf-oauth-client-id-metadata-document §4: only when turned on.
    if provider.registrations_per_address.is_some() {
        document["registration_endpoint"] = json!(format!("{iss}/oauth2/register"));
    }
    if provider.metadata_documents {
        document["client_id_metadata_document_supported"] = json!(true);
    }
    let response = json(200, &document);
    let headers = response.headers();
    let _ = headers.set("Cache-Control", "public, max-age=300");
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    Ok(response)
}
