//! The one table of emailed codes (`email_codes`), by purpose: issuing any code, and what a right
//! code does: verify an address or move the account to a new one (`email_codes.rs`), set a new
//! password (`reset.rs`), sign in by address (`sign_in.rs`); and what an address's first proof removes (`first_proof.rs`).

pub mod email_codes;
pub mod first_proof;
pub mod reset;
pub mod sign_in;
