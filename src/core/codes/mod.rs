//! The rules of emailed codes: six digits, keyed hashes bound to purpose and account, expiry,
//! tries and budgets; and the owner's verification token.

pub mod otp;
pub mod verification_token;
