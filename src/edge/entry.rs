//! The `fetch` entry: configuration, the flood shield, CORS, and the router.

use std::future::Future;
use std::pin::Pin;

use worker::{console_error, event, Context, Env, Method, Request, Response, RouteContext, Router};

use crate::edge::error::ApiError;
use crate::edge::handlers::{account, health, jwks, password_reset, profile, session};
use crate::edge::http;
use crate::edge::state::{self, State};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    let origin = req.headers().get("Origin").ok().flatten();
    let config = match state::config(&env) {
        Ok(config) => config,
        Err(e) => {
            // The browser that caused it must be able to read which variable is wrong.
            let allowed = state::allowed_origins(&env);
            return Ok(http::finish(
                ApiError::Misconfigured(e).into_response(),
                origin.as_deref(),
                Some(&allowed),
            ));
        }
    };
    let response = if req.method() == Method::Options {
        http::preflight()
    } else {
        route(
            req,
            env,
            State {
                config: config.clone(),
                ctx,
            },
        )
        .await
    };
    log_memory_growth();
    Ok(http::finish(
        response,
        origin.as_deref(),
        Some(&config.allowed_origins),
    ))
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
            worker::console_log!("wasm memory: {} KiB", bytes / 1024);
        }
    }
}

async fn route(req: Request, env: Env, state: State) -> Response {
    let routed = Router::with_data(state)
        .get_async("/health", handler(health::health))
        .get_async("/.well-known/jwks.json", handler(jwks::jwks))
        .post_async("/register", shielded(account::register))
        .post_async("/login", shielded(session::login))
        .post_async("/refresh", shielded(session::refresh))
        .post_async("/logout", handler(session::logout))
        .post_async("/reset-password", shielded(password_reset::request_code))
        .post_async(
            "/update-password",
            shielded(password_reset::update_password),
        )
        .put_async("/update-profile", handler(profile::update_profile))
        .get_async("/me", handler(profile::me))
        .or_else_any_method_async("/", |_, _| async { Ok(ApiError::NotFound.into_response()) })
        .or_else_any_method_async("/*path", |_, _| async {
            Ok(ApiError::NotFound.into_response())
        })
        .run(req, env)
        .await;
    match routed {
        // workers-rs answers a known path with a wrong method itself, in plain text; the
        // contract wants JSON. None of our handlers answers 405.
        Ok(response) if response.status_code() == 405 => ApiError::MethodNotAllowed.into_response(),
        Ok(response) => response,
        Err(e) => ApiError::internal("route request", e).into_response(),
    }
}

type Handled = Pin<Box<dyn Future<Output = worker::Result<Response>>>>;

/// Adapts a handler returning `Result<Response, ApiError>` to the router, turning errors into
/// their JSON responses.
fn handler<F>(
    handle: fn(Request, RouteContext<State>) -> F,
) -> impl Fn(Request, RouteContext<State>) -> Handled
where
    F: Future<Output = Result<Response, ApiError>> + 'static,
{
    adapt(handle, false)
}

/// Like `handler`, behind the flood shield: for the unauthenticated routes that take a body.
fn shielded<F>(
    handle: fn(Request, RouteContext<State>) -> F,
) -> impl Fn(Request, RouteContext<State>) -> Handled
where
    F: Future<Output = Result<Response, ApiError>> + 'static,
{
    adapt(handle, true)
}

fn adapt<F>(
    handle: fn(Request, RouteContext<State>) -> F,
    shield_first: bool,
) -> impl Fn(Request, RouteContext<State>) -> Handled
where
    F: Future<Output = Result<Response, ApiError>> + 'static,
{
    move |req, ctx| {
        Box::pin(async move {
            let refused = if shield_first {
                shield(&req, &ctx.env).await.err()
            } else {
                None
            };
            let answered = match refused {
                Some(refused) => Err(refused),
                None => handle(req, ctx).await,
            };
            Ok(answered.unwrap_or_else(ApiError::into_response))
        })
    }
}

/// The per-IP flood shield: the Workers Rate Limiting binding `RATE_LIMITER`, keyed by the client
/// address (IPv6 by its /64; requests without `CF-Connecting-IP` share the bucket `unknown`);
/// off when the binding is absent. Only a shield (its counts are per location
/// and approximate): the exact per-account limits live in D1.
async fn shield(req: &Request, env: &Env) -> Result<(), ApiError> {
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
            console_error!("rate limiter unavailable: {e}");
            Ok(())
        }
    }
}
