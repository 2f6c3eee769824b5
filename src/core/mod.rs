//! The domain: plain Rust, tested on the host. Time, randomness and secrets come in as arguments.

pub mod accounts;
pub mod body;
pub mod client_address;
pub mod codes;
pub mod config;
pub mod config_error;
pub mod email_sign_in;
pub mod events;
pub mod keys;
pub mod mail;
pub mod meta;
pub mod mfa;
pub mod operators;
pub mod organizations;
pub mod passkeys;
pub mod passwords;
pub mod provider;
pub mod query;
pub mod random;
pub mod requests;
pub mod secret;
pub mod sessions;
pub mod social;
pub mod user_agent;
pub mod violation;
