//! The optional breached-password check (`HIBP_CHECK=true`) against the Pwned Passwords range API.

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{AbortController, AbortSignal, Delay, Fetch, Headers, Method, Request, RequestInit};

use crate::core::passwords::breached::RangeQuery;
use crate::core::violation::Violation;
use crate::edge::log::Level;
use crate::edge::state::State;

/// How long a registration or reset waits for the range API before going on without it. The
/// API answers in well under a second; a hung connection must not hold a sign-up hostage.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1500);

/// Refuses a new password found in a breach. Off unless configured; fails open (with a log line)
/// when the API cannot be reached, so an outage never blocks registrations or resets.
pub async fn refuse_breached(
    state: &State,
    field: &'static str,
    password: &str,
) -> Result<(), Violation> {
    let config = &state.config;
    if !config.hibp_check {
        return Ok(());
    }
    let query = RangeQuery::for_password(password);
    match fetch_range_in_time(&config.hibp_api_base, &query.prefix).await {
        Ok(range) if query.found_in(&range) => Err(Violation::new(
            field,
            "breached",
            "This password has appeared in a data breach; choose another",
        )),
        Ok(_) => Ok(()),
        Err(cause) => {
            state.log.event(
                Level::Warn,
                format!("breached-password check skipped: {cause}"),
            );
            Ok(())
        }
    }
}

/// The range, or an error once `LOOKUP_TIMEOUT` has passed (the request is then aborted).
async fn fetch_range_in_time(api_base: &str, prefix: &str) -> Result<String, String> {
    let controller = AbortController::default();
    let lookup = Box::pin(fetch_range(api_base, prefix, controller.signal()));
    match select(lookup, Delay::from(LOOKUP_TIMEOUT)).await {
        Either::Left((range, _)) => range,
        Either::Right(_) => {
            controller.abort();
            Err(format!(
                "no answer within {} ms",
                LOOKUP_TIMEOUT.as_millis()
            ))
        }
    }
}

async fn fetch_range(api_base: &str, prefix: &str, signal: AbortSignal) -> Result<String, String> {
    let headers = Headers::new();
    // Padding hides how many suffixes the prefix has from anyone watching response sizes.
    headers
        .set("Add-Padding", "true")
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init(&format!("{api_base}/range/{prefix}"), &init)
        .map_err(|e| e.to_string())?;
    let mut response = Fetch::Request(request)
        .send_with_signal(&signal)
        .await
        .map_err(|e| e.to_string())?;
    match response.status_code() {
        200 => response.text().await.map_err(|e| e.to_string()),
        status => Err(format!("the range API answered {status}")),
    }
}
