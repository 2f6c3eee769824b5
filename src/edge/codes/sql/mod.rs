//! The emailed codes' tables, and what an address's first proof removes.

pub mod email_codes;
pub mod first_proof;
