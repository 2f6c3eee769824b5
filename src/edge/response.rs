//! Building a response: the JSON body and content type every answer has. Apart from `http.rs`
//! (which reads requests and raises `ApiError`), so the error type can answer without importing
//! back the module that raises it.

use serde_json::Value;
use worker::{Headers, Response};

/// A JSON response with the given status.
pub fn json(status: u16, value: &Value) -> Response {
    body(
        status,
        "application/json; charset=utf-8",
        value.to_string().into_bytes(),
    )
}

/// A response of `content_type` with the given status and body.
pub fn body(status: u16, content_type: &str, bytes: Vec<u8>) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Content-Type", content_type);
    Response::from_bytes(bytes)
        .expect("a byte body always builds a response")
        .with_status(status)
        .with_headers(headers)
}
