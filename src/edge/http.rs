//! HTTP plumbing: JSON responses, bounded body reading, CORS and the headers every response carries.

use futures_util::StreamExt;
use worker::{Headers, Request, Response};

use crate::core::body::{Body, BodyError};
use crate::core::client_address::ClientAddress;
use crate::core::config::AllowedOrigins;
use crate::core::violation::Violation;
use crate::edge::error::ApiError;

pub use crate::edge::response::{body, json};

/// API.md "Conventions": bodies are at most 64 KiB (OWASP REST Security: limit request sizes).
const MAX_BODY_BYTES: usize = 64 * 1024;
const ALLOWED_HEADERS: &str = "Content-Type, Authorization, X-D1-Bookmark";

/// The request's User-Agent as sessions store it (shortened).
pub fn user_agent(req: &Request) -> Option<String> {
    let raw = req.headers().get("User-Agent").ok().flatten()?;
    crate::core::user_agent::shorten(&raw)
}

/// Reads the body as a JSON object, refusing more than 64 KiB before reading it whole: a declared
/// `Content-Length` is checked first, and a streamed body is cut off at the limit.
pub async fn read_body(req: &mut Request) -> Result<Body, ApiError> {
    Body::parse(&read_bytes(req).await?).map_err(body_error)
}

/// Like `read_body`, but an empty body is an empty object.
pub async fn read_optional_body(req: &mut Request) -> Result<Body, ApiError> {
    Body::parse_optional(&read_bytes(req).await?).map_err(body_error)
}

/// Reads a JSON body of any shape under the same limit; `None` if it is not JSON (for endpoints
/// whose errors are not this API's, such as RFC 7591 registration).
pub async fn read_json(req: &mut Request) -> Result<Option<serde_json::Value>, ApiError> {
    Ok(serde_json::from_slice(&read_bytes(req).await?).ok())
}

/// Reads an `application/x-www-form-urlencoded` body (OAuth's endpoints, RFC 6749 §3.2, and the
/// hosted pages' forms), under the same 64 KiB limit, as its decoded pairs in order.
pub async fn read_form(req: &mut Request) -> Result<Vec<(String, String)>, ApiError> {
    let bytes = read_bytes(req).await?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

fn body_error(error: BodyError) -> ApiError {
    match error {
        BodyError::InvalidJson => ApiError::InvalidJson,
        BodyError::NotAnObject => ApiError::Validation(
            Violation::new(
                "body",
                "not_an_object",
                "Request body must be a JSON object",
            )
            .into(),
        ),
    }
}

async fn read_bytes(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|len| len.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut bytes = Vec::new();
    let Ok(mut stream) = req.stream() else {
        return Ok(bytes); // no body at all
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::internal("read request body", e))?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The client address of a request, from `CF-Connecting-IP` (set by Cloudflare's edge).
/// A stored Unix time as the RFC 3339 text the API answers with (`2026-01-02T03:04:05Z`).
pub fn rfc3339(seconds: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

pub fn client_address(req: &Request) -> ClientAddress {
    ClientAddress::from_header(
        req.headers()
            .get("CF-Connecting-IP")
            .ok()
            .flatten()
            .as_deref(),
    )
}

/// Adds what every response carries: no caching of credentials (RFC 6749 §5.1, OWASP REST
/// Security), no MIME sniffing, and CORS for an allowed origin. A public answer (the JWKS) sets
/// its own `Cache-Control` and `Access-Control-Allow-Origin: *`, which are kept.
pub fn finish(
    response: Response,
    origin: Option<&str>,
    allowed: Option<&AllowedOrigins>,
) -> Response {
    let headers = response.headers();
    if !headers.has("Cache-Control").unwrap_or(false) {
        let _ = headers.set("Cache-Control", "no-store");
    }
    let _ = headers.set("X-Content-Type-Options", "nosniff");
    if !headers.has("Access-Control-Allow-Origin").unwrap_or(false) {
        add_cors(headers, origin, allowed);
    }
    response
}

/// The answer to a CORS preflight of a known path: `methods` are the route table's for that path,
/// so a browser may call each of them (`DELETE /me` included) and nothing else.
pub fn preflight(methods: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Access-Control-Allow-Methods", methods);
    let _ = headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    let _ = headers.set("Access-Control-Max-Age", "600");
    Response::empty()
        .expect("an empty response always builds")
        .with_status(204)
        .with_headers(headers)
}

/// Browsers call with `credentials: 'include'`, so an allowed origin is echoed, never `*`
/// (Fetch standard, CORS protocol), and caches are told the answer varies by origin.
fn add_cors(headers: &Headers, origin: Option<&str>, allowed: Option<&AllowedOrigins>) {
    let _ = headers.append("Vary", "Origin");
    let (Some(origin), Some(allowed)) = (origin, allowed) else {
        return;
    };
    if !allowed.allows(origin) {
        // Preflight headers are only for allowed origins.
        for name in [
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
        ] {
            let _ = headers.delete(name);
        }
        return;
    }
    let _ = headers.set("Access-Control-Allow-Origin", origin);
    let _ = headers.set("Access-Control-Allow-Credentials", "true");
    let _ = headers.set(
        "Access-Control-Expose-Headers",
        "Retry-After, X-Request-Id, X-D1-Bookmark",
    );
}

/// The credential of the request's `Authorization: Bearer` header, if it has one: the one parser
/// of that header (the scheme is case-insensitive, RFC 9110 §11.1; RFC 6750 §2.1).
pub fn bearer_credential(req: &Request) -> Option<String> {
    let header = req.headers().get("Authorization").ok().flatten()?;
    let (scheme, credential) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then(|| credential.trim().to_owned())
}
