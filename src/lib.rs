//! edge-auth: an authentication API for web apps, as a Cloudflare Worker keeping its users in D1.
//!
//! `core` is plain Rust (inputs, passwords, tokens, OTP rules, configuration) and never names the
//! `worker` crate; `edge` is the thin layer that does; `import` is the host-side importer of the
//! Flask API's users.

pub mod core;
pub mod edge;
#[cfg(not(target_arch = "wasm32"))]
pub mod import;
