//! Passkeys (WebAuthn): registration, sign-in, the passwordless sign-up and the passkey as a
//! second step; their SQL in `sql/`. The ceremony rules are `core::passkeys::webauthn`.

pub mod ceremony;
pub mod manage;
pub mod routes;
pub mod second_step;
pub mod sign_up;
pub mod sql;
