//! The domain: plain Rust, tested on the host. Time, randomness and secrets come in as arguments.

pub mod access_token;
pub mod account_mail;
pub mod account_requests;
pub mod body;
pub mod breached;
pub mod client_address;
pub mod config;
pub mod email;
pub mod keys;
pub mod login_lockout;
pub mod mail;
pub mod mfa_requests;
pub mod name;
pub mod otp;
pub mod password;
pub mod password_hash;
pub mod random;
pub mod recovery_code;
pub mod refresh_token;
pub mod requests;
pub mod secret;
pub mod secret_box;
pub mod token_keys;
pub mod totp;
pub mod user_agent;
pub mod violation;
