//! edge-auth: an authentication API for web apps, as a Cloudflare Worker keeping its users in D1.
//!
//! `core` is plain Rust (inputs, passwords, tokens, OTP rules, configuration) and never names the
//! `worker` crate; `edge` is the thin layer that does.

pub mod core;
pub mod edge;
