//! The second factor's tables: TOTP factors with their recovery codes, sign-ins waiting for a code.

pub mod challenges;
pub mod totp_factors;
