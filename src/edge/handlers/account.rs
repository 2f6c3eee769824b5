//! `POST /register`.

use serde_json::json;
use worker::{Request, Response, RouteContext};

use crate::core::requests::Registration;
use crate::core::{password_hash, random};
use crate::edge::breach_check::refuse_breached;
use crate::edge::db::users;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::state::{now, State};

pub async fn register(mut req: Request, ctx: RouteContext<State>) -> Result<Response, ApiError> {
    let registration = Registration::try_from(&read_body(&mut req).await?)?;
    refuse_breached(&ctx.data, "password", registration.password.expose()).await?;
    let hash = password_hash::hash(registration.password.expose(), random::bytes())
        .map_err(|e| ApiError::internal("hash password", e))?;
    let db = ctx.data.database(&ctx.env)?;
    let created = users::insert(
        &db,
        &registration.email,
        &hash,
        registration.name.as_deref(),
        now(),
    )
    .await?;
    match created {
        Some(_) => Ok(json(
            201,
            &json!({"message": "User registered successfully"}),
        )),
        None => Err(ApiError::UserExists),
    }
}
