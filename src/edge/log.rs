//! The worker's log: one JSON object per request, and one per notable event, each carrying the
//! request's id. Objects, not text, so that Workers Logs indexes their fields (Cloudflare, "Workers
//! Logs: logging structured JSON objects"). Never an email, password, token or code: only ids,
//! route patterns, statuses, error codes, counts and durations (OWASP Logging Cheat Sheet, "Data
//! to exclude").

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::{Date, Request};

use crate::core::random::bytes;
use crate::edge::db::D1Meter;
use crate::edge::error::ApiError;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log_value(value: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn_value(value: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error_value(value: &JsValue);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// Writes one object to the log at `level` (console.log, console.warn or console.error).
pub fn emit(level: Level, mut fields: Map<String, Value>) {
    let mut line = Map::new();
    line.insert("time".into(), Value::String(iso_now()));
    line.insert("level".into(), Value::String(level.name().into()));
    line.append(&mut fields);
    let value = to_js(&Value::Object(line));
    match level {
        Level::Info => console_log_value(&value),
        Level::Warn => console_warn_value(&value),
        Level::Error => console_error_value(&value),
    }
}

/// The JavaScript value of a JSON value, built directly (no text in between): the log is written
/// on every request.
fn to_js(value: &Value) -> JsValue {
    use worker::js_sys::{Array, Object, Reflect};
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(to_js).collect::<Array>().into(),
        Value::Object(fields) => {
            let object = Object::new();
            for (key, field) in fields {
                let _ = Reflect::set(&object, &JsValue::from_str(key), &to_js(field));
            }
            object.into()
        }
    }
}

/// The runtime's clock in RFC 3339 with milliseconds, UTC.
fn iso_now() -> String {
    chrono::DateTime::from_timestamp_millis(Date::now().as_millis() as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A line that belongs to no request (the hourly cleanup, say).
pub fn event(level: Level, message: impl std::fmt::Display) {
    let mut fields = Map::new();
    fields.insert("message".into(), Value::String(message.to_string()));
    emit(level, fields);
}

/// What one request did, written as one line when its response is ready.
pub struct RequestLog {
    id: String,
    method: String,
    started_ms: f64,
    route: Cell<&'static str>,
    user_id: Cell<Option<i64>>,
    /// The id of the admin key that authenticated the request (never the key).
    admin_key: RefCell<Option<String>>,
    failure: RefCell<Option<(&'static str, Option<String>)>>,
    d1: Rc<D1Meter>,
}

impl RequestLog {
    /// Starts the log of `req`. Its id is Cloudflare's `cf-ray` when present (so it matches the
    /// ray id of Cloudflare's own logs), else 16 random hex digits.
    pub fn start(req: &Request) -> Rc<Self> {
        let ray = req.headers().get("cf-ray").ok().flatten().filter(|ray| {
            (1..=64).contains(&ray.len())
                && ray.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        let id = ray.unwrap_or_else(|| bytes::<8>().iter().map(|b| format!("{b:02x}")).collect());
        Rc::new(Self {
            id,
            method: req.method().to_string(),
            started_ms: Date::now().as_millis() as f64,
            route: Cell::new("unmatched"),
            user_id: Cell::new(None),
            admin_key: RefCell::new(None),
            failure: RefCell::new(None),
            d1: Rc::new(D1Meter::default()),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The meter this request's D1 calls add to.
    pub fn d1(&self) -> Rc<D1Meter> {
        self.d1.clone()
    }

    /// The route pattern that matched (`/sessions/:id`, never the raw path).
    pub fn set_route(&self, pattern: &'static str) {
        self.route.set(pattern);
    }

    /// The user the request acts for, once a token or a password proved it.
    pub fn set_user(&self, user_id: i64) {
        self.user_id.set(Some(user_id));
    }

    /// The account the request proved, if any.
    pub fn user(&self) -> Option<i64> {
        self.user_id.get()
    }

    pub fn set_admin_key(&self, id: &str) {
        *self.admin_key.borrow_mut() = Some(id.to_owned());
    }

    /// Remembers the error the request was answered with: its code, and for a server error its
    /// cause (which names what failed, never a secret: see `ApiError::internal`).
    pub fn fail(&self, error: &ApiError) {
        *self.failure.borrow_mut() = Some((error.code(), error.cause()));
    }

    /// An event inside this request (a mail that failed, a lookup given up), on its own line with
    /// the request's id.
    pub fn event(&self, level: Level, message: impl std::fmt::Display) {
        let mut fields = Map::new();
        fields.insert("request_id".into(), Value::String(self.id.clone()));
        fields.insert("message".into(), Value::String(message.to_string()));
        emit(level, fields);
    }

    /// Writes the request's line: `error` for a 5xx, `warn` for a 4xx, else `info`.
    pub fn finish(&self, status: u16) {
        let figures = self.d1.figures();
        let mut fields = Map::new();
        fields.insert("request_id".into(), Value::String(self.id.clone()));
        fields.insert("method".into(), Value::String(self.method.clone()));
        fields.insert("route".into(), Value::String(self.route.get().into()));
        fields.insert("status".into(), json!(status));
        let duration = Date::now().as_millis() as f64 - self.started_ms;
        fields.insert("duration_ms".into(), json!(duration.max(0.0) as u64));
        if let Some(user_id) = self.user_id.get() {
            fields.insert("user_id".into(), json!(user_id));
        }
        if let Some(key) = self.admin_key.borrow().as_ref() {
            fields.insert("admin_key".into(), Value::String(key.clone()));
        }
        if let Some((code, cause)) = self.failure.borrow().as_ref() {
            fields.insert("error".into(), Value::String((*code).into()));
            if let Some(cause) = cause {
                fields.insert("cause".into(), Value::String(cause.clone()));
            }
        }
        fields.insert("d1".into(), json!(figures));
        let level = match status {
            500.. => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        };
        emit(level, fields);
    }
}
