//! One module per resource. Handlers return `Result<Response, ApiError>`; the entry turns errors
//! into the JSON of `API.md`.

pub mod account;
pub mod admin;
pub mod credentials;
pub mod events;
pub mod health;
pub mod identities;
pub mod jwks;
pub mod mfa;
pub mod oauth;
pub mod openapi;
pub mod passkey_factor;
pub mod passkey_sign_up;
pub mod passkeys;
pub mod password_reset;
pub mod profile;
pub mod session;
pub mod session_list;
pub mod verification;
