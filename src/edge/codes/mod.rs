//! Emailed codes that prove an address: verification, and the first proof's clean-up; their
//! SQL in `sql/`.

pub mod sql;
pub mod verification;
