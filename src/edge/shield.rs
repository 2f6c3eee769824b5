//! The per-IP flood shield, for the routes the table marks and for the costly step of a route
//! that is not (a metadata document's fetch).

use worker::{Env, Request};

use crate::edge::error::ApiError;
use crate::edge::http;
use crate::edge::log::{Level, RequestLog};

/// The per-IP flood shield: the Workers Rate Limiting binding `RATE_LIMITER`, keyed by the client
/// address (IPv6 by its /64; requests without `CF-Connecting-IP` share the bucket `unknown`);
/// off when the binding is absent. Only a shield (its counts are per location
/// and approximate): the exact per-account limits live in D1.
pub async fn guard(req: &Request, env: &Env, log: &RequestLog) -> Result<(), ApiError> {
    let Ok(limiter) = env.rate_limiter("RATE_LIMITER") else {
        return Ok(());
    };
    match limiter
        .limit(http::client_address(req).as_str().to_owned())
        .await
    {
        Ok(outcome) if !outcome.success => Err(ApiError::TooManyAttempts { retry_after: 60 }),
        Ok(_) => Ok(()),
        Err(e) => {
            // Fail open: the shield is an extra, and D1's exact limits still hold.
            log.event(Level::Error, format!("rate limiter unavailable: {e}"));
            Ok(())
        }
    }
}
