//! What the worker reads from its environment, below everything that uses it: the
//! configuration (once per isolate), the clock, and the D1 binding.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{Date, Env};

use crate::core::config::{AllowedOrigins, Config};
use crate::core::config_error::ConfigError;
use crate::edge::db::{D1Meter, Db};
use crate::edge::error::ApiError;

thread_local! {
    /// The configuration of this isolate. Bindings do not change while an isolate lives, so it is
    /// parsed (and its keys derived) once, not per request. A failure is not kept: the next
    /// request tries again.
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

/// Reads the configuration from the worker's secrets and vars, once per isolate.
pub fn config(env: &Env) -> Result<Rc<Config>, ConfigError> {
    if let Some(config) = CONFIG.with(|cell| cell.borrow().clone()) {
        return Ok(config);
    }
    let config = Rc::new(Config::parse(|name| {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    })?);
    CONFIG.with(|cell| *cell.borrow_mut() = Some(config.clone()));
    Ok(config)
}

/// `CORS_ALLOWED_ORIGINS` alone, for answers given when the rest of the configuration failed.
pub fn allowed_origins(env: &Env) -> AllowedOrigins {
    let raw = env.var("CORS_ALLOWED_ORIGINS").ok().map(|v| v.to_string());
    AllowedOrigins::parse(raw.as_deref())
}

/// Unix seconds from the runtime's clock. (On Workers the clock advances only with I/O, which is
/// what a request's timestamps need.)
pub fn now() -> i64 {
    (Date::now().as_millis() / 1000) as i64
}

/// The D1 binding `DB`, its calls added to `meter`.
pub fn database(env: &Env, meter: Rc<D1Meter>) -> Result<Db, ApiError> {
    let raw = env
        .d1("DB")
        .map_err(|e| ApiError::internal("open D1 binding DB", e))?;
    Db::session(&raw, "first-primary", meter)
}
