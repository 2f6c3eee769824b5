//! The second factor's rules: TOTP (RFC 6238), recovery codes, secrets sealed at rest, and
//! the requests that carry a code.

pub mod mfa_requests;
pub mod recovery_code;
pub mod secret_box;
pub mod totp;
