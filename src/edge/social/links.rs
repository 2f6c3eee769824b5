//! A signed-in user's linked providers: `POST /oauth/{provider}/link` starts a link,
//! `POST /identities` completes it, `GET /identities` lists them, `DELETE /identities/{provider}`
//! unlinks one. A link is bound like a sign-in (RFC 9700 §4.7): the app's own PKCE challenge, a
//! one-time `link_code` back to the app, completed only by the session that started it, live,
//! with the verifier; so a link URL sent to someone else attaches nothing to anyone. Adding or
//! removing a provider asks who you are, as adding a passkey does (`reauth.rs`), and needs a
//! verified address (no squatter's provider can outlive the owner's recovery).

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::sessions::refresh_token::digest_of;
use crate::core::social::oauth_requests::{parse_link, Exchange};
use crate::core::social::pkce;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, rows};
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_body, read_optional_body, rfc3339};
use crate::edge::passwords::reauth::confirm_way_in_change;
use crate::edge::sessions::bearer::{live_caller, live_reader, LiveCaller};
use crate::edge::social::flow::{begin, oauth, provider, refuse_unlisted, Called, Flow};
use crate::edge::social::sign_in::{link_identity, record_link};
use crate::edge::social::sql::codes as oauth_codes;
use crate::edge::social::sql::codes::Purpose;
use crate::edge::social::sql::identities;
use crate::edge::social::sql::identities::Unlinked;

/// `POST /oauth/{provider}/link {redirect_to, code_challenge, code_challenge_method, password,
/// mfa_code?}`: the URL to send the browser to; the callback comes back to `redirect_to` with a
/// `link_code` (or an `error`).
pub async fn start(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = oauth(&ctx.data)?;
    let provider = provider(config, &ctx)?;
    let body = read_body(&mut req).await?;
    let LiveCaller {
        principal,
        db,
        now,
        account,
    } = live_caller(&req, &ctx).await?;
    refuse_unlisted(config, body.optional_string("redirect_to").ok().flatten())?;
    let start = parse_link(&body, |to| config.allows_redirect(to))?;
    if account.email_verified_at.is_none() {
        return Err(ApiError::FactorNeedsVerifiedEmail);
    }
    confirm_way_in_change(&req, &ctx.data, &db, &principal, &account, &body, now).await?;
    let called = Called::from(&req);
    let flow = Flow {
        provider,
        origin: &called.origin,
        start: &start,
        link: Some(&principal),
        client: &client_address(&req),
    };
    let location = begin(&ctx.data, &db, &flow).await?;
    Ok(json(200, &json!({"url": location})))
}

/// `POST /identities {code, code_verifier}`: the link's one-time code from the callback, with the
/// app's verifier, by the session that started the link: the provider is linked.
pub async fn complete(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let exchange = Exchange::try_from(&read_body(&mut req).await?)?;
    let LiveCaller {
        principal, db, now, ..
    } = live_caller(&req, &ctx).await?;
    let used = oauth_codes::take(&db, &digest_of(&exchange.code), Purpose::Link, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let same_session = used.user_id == principal.user_id
        && used.session_id.as_deref() == Some(principal.session_id.as_str());
    if !same_session || !pkce::verifies(&exchange.code_verifier, &used.app_challenge) {
        return Err(ApiError::Unauthorized);
    }
    let identity = used.identity().ok_or(ApiError::Unauthorized)?;
    if !link_identity(&db, &identity, principal.user_id, now).await? {
        let found = identities::look_up(&db, &identity.provider, &identity.subject, None).await?;
        return match found.linked {
            Some(owner) if owner == principal.user_id => Ok(linked(&identity.provider)),
            Some(_) => Err(ApiError::IdentityTaken),
            None => Err(ApiError::AlreadyLinked),
        };
    }
    record_link(&ctx, &req, principal.user_id, &identity.provider, now);
    Ok(linked(&identity.provider))
}

fn linked(provider: &str) -> Response {
    json(200, &json!({"message": "Linked", "provider": provider}))
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

/// `DELETE /identities/{provider} {password, mfa_code?}`: unlinks one, never the account's last
/// way to sign in, with the password (or a recent sign-in) asked again.
pub async fn unlink(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let name = ctx.id().ok_or(ApiError::NotFound)?.to_owned();
    let body = read_optional_body(&mut req).await?;
    let LiveCaller {
        principal,
        db,
        now,
        account,
    } = live_caller(&req, &ctx).await?;
    confirm_way_in_change(&req, &ctx.data, &db, &principal, &account, &body, now).await?;
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
                now,
            );
            Ok(json(200, &json!({"message": "Unlinked"})))
        }
        Unlinked::LastWayIn => Err(ApiError::LastSignInMethod),
        Unlinked::NotLinked => Err(ApiError::NotFound),
    }
}
