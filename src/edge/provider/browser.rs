//! The provider's own browser session: an HttpOnly `__Host-` cookie naming a first-party session
//! (made by `start_session`, so lockout, the second factor and the trail apply), kept apart from
//! the API's tokens. `POST /oauth2/session` sets it from the access token the hosted sign-in page
//! just got; `POST /oauth2/sign-out` ends it.

use worker::{Request, Response};

use crate::core::keys::hmac_sha256;
use crate::core::random;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::provider::provider;
use crate::edge::provider::sql::grants;
use crate::edge::provider::sql::grants::Browser;
use crate::edge::sessions::bearer::principal;

/// `__Host-`: only set by this host, over HTTPS, for the whole path (RFC 6265bis §4.1.3.2).
pub const COOKIE: &str = "__Host-provider";

/// The cookie's value of a request, if any.
fn cookie(req: &Request) -> Option<String> {
    let header = req.headers().get("Cookie").ok().flatten()?;
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The person the request's cookie names, if its session is live.
pub async fn signed_in(
    req: &Request,
    db: &crate::edge::db::Db,
    now: i64,
) -> Result<Option<Browser>, ApiError> {
    match cookie(req) {
        Some(value) => grants::by_cookie(db, &digest_of(&value), now).await,
        None => Ok(None),
    }
}

/// Whether a state-changing request came from this origin: browsers send `Origin` with every
/// POST; one from another site is refused (OWASP CSRF Prevention Cheat Sheet, "Verifying origin
/// with standard headers"), on top of `SameSite=Lax` and the forms' tokens.
pub fn same_origin(req: &Request) -> bool {
    let url = req.inner().url();
    let own = crate::core::query::origin(&url);
    let origin = req.headers().get("Origin").ok().flatten();
    let site = req.headers().get("Sec-Fetch-Site").ok().flatten();
    origin.is_none_or(|o| o == own) && site.is_none_or(|s| s == "same-origin" || s == "none")
}

/// The MAC of a hosted page's form: what a form token binds (the browser session and what is
/// being allowed), under the deployment's provider-form key (OWASP CSRF Prevention Cheat Sheet,
/// "Synchronizer token" with an HMAC).
pub fn form_mac(ctx: &RouteContext, message: &str) -> String {
    random::base64url(&hmac_sha256(
        &ctx.data.config.keys.current().provider_form,
        message.as_bytes(),
    ))
}

fn with_cookie(status: u16, value: &str, max_age: i64) -> Response {
    let response = Response::empty()
        .expect("an empty response always builds")
        .with_status(status);
    let cookie =
        format!("{COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    let _ = response.headers().set("Set-Cookie", &cookie);
    response
}

/// `POST /oauth2/session` with the access token of a sign-in on the hosted page: `204` and the
/// cookie, bound to that token's session.
pub async fn start(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    provider(&ctx)?;
    if !same_origin(&req) {
        return Err(ApiError::Forbidden);
    }
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let value = random::secret_256();
    let db = ctx.data.database(&ctx.env)?;
    if !grants::set_cookie(
        &db,
        &principal.session_id,
        principal.user_id,
        &digest_of(&value),
        now,
    )
    .await?
    {
        return Err(ApiError::Unauthorized);
    }
    Ok(with_cookie(204, &value, ctx.data.config.refresh_token_ttl))
}

/// `POST /oauth2/sign-out`: ends the cookie's session and clears the cookie (`204`).
pub async fn sign_out(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    provider(&ctx)?;
    if !same_origin(&req) {
        return Err(ApiError::Forbidden);
    }
    if let Some(value) = cookie(&req) {
        let db = ctx.data.database(&ctx.env)?;
        grants::end_by_cookie(&db, &digest_of(&value), now()).await?;
    }
    Ok(with_cookie(204, "", 0))
}
