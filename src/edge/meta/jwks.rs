//! `GET /.well-known/jwks.json`: the public keys that verify our access tokens and, with the
//! provider on, its ID tokens (RFC 7517 §5).

use worker::{Request, Response};

use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::body;

/// How long verifiers may cache the key set. The rotation procedure (README, "Signing keys and
/// rotation") publishes a new key at least this long before it signs anything, so no verifier
/// meets a `kid` its cached set lacks; and five minutes is the longest that a key dropped in an
/// emergency stays trusted by a cache, a third of an access token's life.
pub const MAX_AGE_SECONDS: u32 = 300;

/// The only cacheable answer: public keys, the same for everyone, readable from any origin
/// (no credentials, so `*` is right here, unlike the credentialed routes).
pub async fn jwks(_req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let response = body(
        200,
        "application/jwk-set+json; charset=utf-8",
        ctx.data.config.jwks.as_bytes().to_vec(),
    );
    let headers = response.headers();
    let _ = headers.set(
        "Cache-Control",
        &format!("public, max-age={MAX_AGE_SECONDS}"),
    );
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    Ok(response)
}
