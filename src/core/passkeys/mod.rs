//! Passkeys' rules: WebAuthn ceremonies over bytes (W3C WebAuthn Level 3), and the relying
//! party's settings.

pub mod passkey_config;
pub mod webauthn;
