//! The `fetch` entry: configuration, the request log, the flood shield, CORS, and routing
//! (`routes.rs`).

use std::rc::Rc;

use worker::{event, Context, Env, Method, Request, Response};

use crate::edge::bindings;
use crate::edge::error::ApiError;
use crate::edge::http;
use crate::edge::log::RequestLog;
use crate::edge::router::{self, Found};
use crate::edge::routes::{self, Shield};
use crate::edge::shield;
use crate::edge::state::{self, State};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    let log = RequestLog::start(&req);
    let origin = req.headers().get("Origin").ok().flatten();
    let (response, allowed) = match bindings::config(&env) {
        // The browser that caused it must be able to read which variable is wrong.
        Err(e) => {
            let error = ApiError::Misconfigured(e);
            log.fail(&error);
            (error.into_response(), bindings::allowed_origins(&env))
        }
        Ok(config) => {
            let response = if req.method() == Method::Options {
                log.set_route("OPTIONS *");
                match router::preflight_methods(&req.path()) {
                    Some(methods) => http::preflight(&methods),
                    None => {
                        log.fail(&ApiError::NotFound);
                        ApiError::NotFound.into_response()
                    }
                }
            } else {
                let state = State {
                    config: config.clone(),
                    ctx: Rc::new(ctx),
                    log: log.clone(),
                    events: Rc::default(),
                };
                route(req, env, state, &log).await
            };
            (response, config.allowed_origins.clone())
        }
    };
    log_memory_growth();
    let response = http::finish(response, origin.as_deref(), Some(&allowed));
    let _ = response.headers().set("X-Request-Id", log.id());
    // The newest D1 bookmark this request saw: sent back, it keeps the client's later reads on
    // replicas at least this fresh (its own writes included). Only on a success for a proven
    // user: an anonymous answer (a failed login, a sign-up) carries none, so neither its presence
    // nor how far it moved can tell a known account from an unknown one.
    if (200..300).contains(&response.status_code()) && log.user().is_some() {
        if let Some(bookmark) = log.d1().bookmark() {
            let _ = response.headers().set(state::BOOKMARK_HEADER, &bookmark);
        }
    }
    log.finish(response.status_code());
    Ok(response)
}

/// Logs the isolate's wasm memory each time it passes its previous peak: wasm memory never
/// shrinks, and an isolate may use 128 MB in all, so operators (and the benchmark) watch it.
fn log_memory_growth() {
    #[cfg(target_arch = "wasm32")]
    {
        thread_local! {
            static PEAK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let bytes = ::core::arch::wasm32::memory_size(0) * 65_536;
        if bytes > PEAK.with(|peak| peak.replace(bytes.max(peak.get()))) {
            crate::edge::log::event(
                crate::edge::log::Level::Info,
                format!("wasm memory: {} KiB", bytes / 1024),
            );
        }
    }
}

/// Finds the request's route, records its pattern in the log, runs the flood shield where the
/// route asks for it, then the handler; an error becomes its JSON answer after it is logged.
async fn route(req: Request, env: Env, state: State, log: &RequestLog) -> Response {
    let path = req.path();
    let answered = match router::find(&known_method(&req), &path) {
        Found::Route {
            pattern,
            shield,
            endpoint,
            params,
        } => {
            log.set_route(pattern);
            let refused = match shield {
                Shield::On => shield::guard(&req, &env, log).await.err(),
                Shield::Off => None,
            };
            match refused {
                Some(refused) => Err(refused),
                None => {
                    let events = state.events.clone();
                    let ctx = state.ctx.clone();
                    let config = state.config.clone();
                    let answer = routes::call(endpoint, req, state, env.clone(), params).await;
                    // After the answer: its timing tells nothing (a failed login of a known
                    // account writes an event, an unknown email's does not), and nothing waits.
                    if events.any() {
                        let db = bindings::database(&env, log.d1()).ok();
                        let env = env.clone();
                        ctx.wait_until(async move { events.flush(db, &config, &env).await });
                    }
                    answer
                }
            }
        }
        Found::WrongMethod { allow } => Err(ApiError::MethodNotAllowed { allow }),
        Found::NotFound => Err(ApiError::NotFound),
    };
    answered.unwrap_or_else(|error| {
        log.fail(&error);
        error.into_response()
    })
}

/// The request's method, for the route table. workers-rs names a method it does not know
/// (`QUERY`, `PROPFIND`, …) `GET`, which would hand it the `GET` routes: such a method is
/// answered as one no route takes, CONNECT (`405` with `Allow`, or `404`).
fn known_method(req: &Request) -> Method {
    let method = req.method();
    if req.inner().method() == method.as_ref() {
        method
    } else {
        Method::Connect
    }
}
