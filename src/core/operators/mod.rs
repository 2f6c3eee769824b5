//! The operator's rules: admin API keys, compared in constant time, and the admin API's inputs.

pub mod admin_keys;
pub mod admin_requests;
