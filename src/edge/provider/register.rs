//! `POST /oauth2/register`: dynamic client registration (RFC 7591), absent unless
//! `OAUTH_DYNAMIC_REGISTRATION` is `true`. An open endpoint, so: behind the flood shield, capped
//! per client address and day in the statement that inserts, on the operator's trail
//! (`client.registered`), and pruned by the hourly cleanup when unused (RFC 7591 §5).

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::events::security_event::{Actor, Detail, EventKind, NO_ACCOUNT};
use crate::core::provider::clients::ClientKind;
use crate::core::provider::registration;
use crate::core::random;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_json};
use crate::edge::provider::sql::clients;
use crate::edge::provider::{oauth_error, provider};

pub async fn register(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let provider = provider(&ctx)?;
    let Some(cap) = provider.registrations_per_address else {
        return Err(ApiError::NotFound);
    };
    let Some(body) = read_json(&mut req).await? else {
        return Ok(oauth_error(
            400,
            "invalid_client_metadata",
            "The registration must be a JSON object",
        ));
    };
    let registration = match registration::parse(&body) {
        Ok(registration) => registration,
        Err(refused) => return Ok(oauth_error(400, refused.error, refused.description)),
    };
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let secret = (registration.kind == ClientKind::Confidential).then(random::secret_256);
    let digest = secret.as_deref().map(digest_of);
    let id = random::identifier();
    let address = client_address(&req);
    let Some(client) = clients::register(
        &db,
        &id,
        &registration,
        digest.as_deref(),
        address.as_str(),
        cap,
        now,
    )
    .await?
    else {
        let response = oauth_error(
            429,
            "too_many_registrations",
            "This address registered too many clients today",
        );
        let _ = response.headers().set("Retry-After", "3600");
        return Ok(response);
    };
    let detail = Detail::new()
        .with("client", client.id.as_str())
        .with("method", registration.auth_method);
    ctx.data.events.record(
        Some(&req),
        NO_ACCOUNT,
        EventKind::ClientRegistered,
        Actor::Client,
        detail,
        now,
    );
    let mut answer = registration.metadata();
    answer.insert("client_id".into(), json!(client.id));
    answer.insert("client_id_issued_at".into(), json!(now));
    if let Some(secret) = secret {
        answer.insert("client_secret".into(), json!(secret));
        // RFC 7591 §3.2.1: 0, the secret does not expire.
        answer.insert("client_secret_expires_at".into(), json!(0));
    }
    let response = json(201, &Value::Object(answer));
    Ok(response)
}
