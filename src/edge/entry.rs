//! The `fetch` entry: configuration, the request log, the flood shield, CORS, and the router.

use std::future::Future;
use std::pin::Pin;

use worker::{event, Context, Env, Method, Request, Response, RouteContext, Router};

use crate::edge::error::ApiError;
use crate::edge::handlers::{
    account, credentials, health, jwks, mfa, openapi, password_reset, profile, session,
    session_list, verification,
};
use crate::edge::http;
use crate::edge::log::{Level, RequestLog};
use crate::edge::state::{self, State};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    let log = RequestLog::start(&req);
    let origin = req.headers().get("Origin").ok().flatten();
    let (response, allowed) = match state::config(&env) {
        // The browser that caused it must be able to read which variable is wrong.
        Err(e) => {
            let error = ApiError::Misconfigured(e);
            log.fail(&error);
            (error.into_response(), state::allowed_origins(&env))
        }
        Ok(config) => {
            let response = if req.method() == Method::Options {
                log.set_route("OPTIONS *");
                http::preflight()
            } else {
                let state = State {
                    config: config.clone(),
                    ctx,
                    log: log.clone(),
                };
                route(req, env, state, &log).await
            };
            (response, config.allowed_origins.clone())
        }
    };
    log_memory_growth();
    let response = http::finish(response, origin.as_deref(), Some(&allowed));
    let _ = response.headers().set("X-Request-Id", log.id());
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
            crate::edge::log::event(Level::Info, format!("wasm memory: {} KiB", bytes / 1024));
        }
    }
}

async fn route(req: Request, env: Env, state: State, log: &RequestLog) -> Response {
    use Shield::{Off, On};
    let router = Router::with_data(state)
        .register(Method::Get, "/health", health::health, Off)
        .register(Method::Get, "/.well-known/jwks.json", jwks::jwks, Off)
        .register(Method::Get, "/openapi.json", openapi::openapi, Off)
        .register(Method::Post, "/register", account::register, On)
        .register(Method::Post, "/login", session::login, On)
        .register(Method::Post, "/refresh", session::refresh, On)
        .register(Method::Post, "/logout", session::logout, Off)
        .register(
            Method::Post,
            "/reset-password",
            password_reset::request_code,
            On,
        )
        .register(
            Method::Post,
            "/update-password",
            password_reset::update_password,
            On,
        )
        .register(Method::Put, "/update-profile", profile::update_profile, Off)
        .register(Method::Get, "/me", profile::me, Off)
        .register(Method::Delete, "/me", account::delete_me, Off)
        .register(
            Method::Post,
            "/verify-email",
            verification::verify_email,
            On,
        )
        .register(
            Method::Post,
            "/resend-verification",
            verification::resend_verification,
            On,
        )
        .register(
            Method::Post,
            "/change-password",
            credentials::change_password,
            Off,
        )
        .register(
            Method::Post,
            "/change-email",
            credentials::change_email,
            Off,
        )
        .register(
            Method::Post,
            "/confirm-email-change",
            credentials::confirm_email_change,
            Off,
        )
        .register(Method::Post, "/login/mfa", mfa::login_mfa, On)
        .register(Method::Post, "/mfa/totp/enroll", mfa::enroll, Off)
        .register(Method::Post, "/mfa/totp/confirm", mfa::confirm, Off)
        .register(Method::Post, "/mfa/totp/disable", mfa::disable, Off)
        .register(Method::Get, "/sessions", session_list::list_sessions, Off)
        .register(
            Method::Delete,
            "/sessions/:id",
            session_list::end_session,
            Off,
        );
    let routed = router
        .or_else_any_method_async("/", |_, _| async { Response::empty().map(unrouted) })
        .or_else_any_method_async("/*path", |_, _| async { Response::empty().map(unrouted) })
        .run(req, env)
        .await;
    let error = match routed {
        // workers-rs answers a known path with a wrong method itself, in plain text, and the
        // fallbacks answer an unknown path with no body; the contract wants JSON. Those answers
        // are the only ones without a body type (every handler answers JSON), and become the
        // contract's errors here, logged.
        Ok(response) if is_json(&response) => return response,
        Ok(response) if response.status_code() == 405 => ApiError::MethodNotAllowed,
        Ok(response) if response.status_code() == 404 => ApiError::NotFound,
        Ok(response) => return response,
        Err(e) => ApiError::internal("route request", e),
    };
    log.fail(&error);
    error.into_response()
}

/// The fallbacks' answer to a path no route has: a bare `404`, turned into JSON by `route`.
fn unrouted(response: Response) -> Response {
    response.with_status(404)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .is_some_and(|value| value.starts_with("application/json"))
}

type Handled = Pin<Box<dyn Future<Output = worker::Result<Response>>>>;

/// Whether a route sits behind the flood shield (the unauthenticated routes that take a body).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shield {
    On,
    Off,
}

/// Route registration that records the route's pattern in the request's log.
trait Routes<'a> {
    /// Registers `handle` for `method` and `pattern`: the pattern goes into the request's log
    /// line, the shield runs first where asked, and an error becomes its JSON answer after it is
    /// logged.
    fn register<F>(
        self,
        method: Method,
        pattern: &'static str,
        handle: fn(Request, RouteContext<State>) -> F,
        shield: Shield,
    ) -> Self
    where
        F: Future<Output = Result<Response, ApiError>> + 'static;
}

impl<'a> Routes<'a> for Router<'a, State> {
    fn register<F>(
        self,
        method: Method,
        pattern: &'static str,
        handle: fn(Request, RouteContext<State>) -> F,
        shield: Shield,
    ) -> Self
    where
        F: Future<Output = Result<Response, ApiError>> + 'static,
    {
        let adapted = move |req: Request, ctx: RouteContext<State>| -> Handled {
            Box::pin(async move {
                let log = ctx.data.log.clone();
                log.set_route(pattern);
                let refused = match shield {
                    Shield::On => shield_request(&req, &ctx.env, &log).await.err(),
                    Shield::Off => None,
                };
                let answered = match refused {
                    Some(refused) => Err(refused),
                    None => handle(req, ctx).await,
                };
                Ok(answered.unwrap_or_else(|error| {
                    log.fail(&error);
                    error.into_response()
                }))
            })
        };
        match method {
            Method::Get => self.get_async(pattern, adapted),
            Method::Put => self.put_async(pattern, adapted),
            Method::Delete => self.delete_async(pattern, adapted),
            _ => self.post_async(pattern, adapted),
        }
    }
}

/// The per-IP flood shield: the Workers Rate Limiting binding `RATE_LIMITER`, keyed by the client
/// address (IPv6 by its /64; requests without `CF-Connecting-IP` share the bucket `unknown`);
/// off when the binding is absent. Only a shield (its counts are per location
/// and approximate): the exact per-account limits live in D1.
async fn shield_request(req: &Request, env: &Env, log: &RequestLog) -> Result<(), ApiError> {
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
