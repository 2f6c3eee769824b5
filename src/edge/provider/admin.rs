//! The operator's clients (`/admin/clients`): register, list, read, edit, delete, and rotate a
//! confidential client's secret with an overlap. Answers `{"client": …}` as the accounts' answer
//! `{"user": …}`; the secret is shown once, beside it, when made.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::provider::clients::{overlap, ClientEdits, ClientKind, NewClient};
use crate::core::query;
use crate::core::random;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, read_optional_body, rfc3339};
use crate::edge::operators::admin::{admin, query_pairs};
use crate::edge::provider::provider;
use crate::edge::provider::sql::clients;
use crate::edge::provider::sql::clients::Client;

fn shown(client: &Client, now: i64) -> Value {
    let rotation = client
        .previous_secret_until
        .filter(|until| *until > now)
        .and_then(rfc3339);
    json!({
        "client_id": client.id,
        "name": client.name,
        "type": client.kind,
        "redirect_uris": client.redirect_uris(),
        "scopes": client.scopes.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "skip_consent": client.skip_consent != 0,
        "id_token_signed_response_alg": client.id_token_alg,
        "device_grant": client.device_grant != 0,
        "origin": client.origin,
        "token_endpoint_auth_method": if client.is_confidential() { "client_secret_basic" } else { "none" },
        "previous_secret_valid_until": rotation,
        "created_at": rfc3339(client.created_at),
        "updated_at": rfc3339(client.updated_at),
    })
}

/// The `{id}` of the path, decoded: a metadata-document client's id is a URL.
fn client_id(ctx: &RouteContext) -> Result<String, ApiError> {
    ctx.id()
        .and_then(query::decode_segment)
        .ok_or(ApiError::NotFound)
}

/// `POST /admin/clients`: `201` with the client and, for a confidential one, its secret.
pub async fn create(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    provider(&ctx)?;
    let new = NewClient::try_from(&read_body(&mut req).await?)?;
    let secret = (new.kind == ClientKind::Confidential).then(random::secret_256);
    let digest = secret.as_deref().map(digest_of);
    let id = random::identifier();
    let client = clients::insert(&admin.db, &id, &new, digest.as_deref(), admin.now)
        .await?
        .ok_or_else(|| ApiError::internal("insert client", "no row"))?;
    let mut body = json!({"client": shown(&client, admin.now)});
    if let Some(secret) = secret {
        body["client_secret"] = json!(secret);
    }
    Ok(json(201, &body))
}

/// `GET /admin/clients?after=`: a page of clients by id, and the cursor of the next.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    provider(&ctx)?;
    let after = query::value(&query_pairs(&req), "after").unwrap_or_default();
    let page = clients::list(&admin.db, &after).await?;
    let next = (page.len() as i64 == clients::PAGE)
        .then(|| page.last().map(|c| c.id.clone()))
        .flatten();
    let shown: Vec<Value> = page.iter().map(|c| shown(c, admin.now)).collect();
    Ok(json(200, &json!({"clients": shown, "next": next})))
}

pub async fn get(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    provider(&ctx)?;
    let client = clients::get(&admin.db, &client_id(&ctx)?)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(json(200, &json!({"client": shown(&client, admin.now)})))
}

pub async fn update(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    provider(&ctx)?;
    let edits = ClientEdits::try_from(&read_body(&mut req).await?)?;
    let client = clients::update(&admin.db, &client_id(&ctx)?, &edits, admin.now)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(json(200, &json!({"client": shown(&client, admin.now)})))
}

/// Deleting a client ends every grant it holds, its codes and the consents given to it.
pub async fn delete(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    provider(&ctx)?;
    if !clients::delete(&admin.db, &client_id(&ctx)?).await? {
        return Err(ApiError::NotFound);
    }
    Ok(json(200, &json!({"message": "Client deleted"})))
}

/// `POST /admin/clients/{id}/secret {overlap_seconds?}`: a new secret (shown once); the old one
/// keeps working for the overlap (a day unless said), so the client can roll it out.
pub async fn rotate_secret(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let admin = admin(&req, &ctx)?;
    provider(&ctx)?;
    let overlap = overlap(&read_optional_body(&mut req).await?)?;
    let id = client_id(&ctx)?;
    let secret = random::secret_256();
    let Some(client) = clients::rotate_secret(
        &admin.db,
        &id,
        &digest_of(&secret),
        admin.now + overlap,
        admin.now,
    )
    .await?
    else {
        // Unknown, or public (a public client has no secret).
        return match clients::get(&admin.db, &id).await? {
            Some(_) => Err(ApiError::NoClientSecret),
            None => Err(ApiError::NotFound),
        };
    };
    Ok(json(
        200,
        &json!({"client": shown(&client, admin.now), "client_secret": secret}),
    ))
}
