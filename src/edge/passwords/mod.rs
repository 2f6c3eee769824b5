//! Passwords: the reset by emailed code, the breach check, and the password asked again before
//! a sensitive change; their SQL in `sql/`.

pub mod breach_check;
pub mod reauth;
pub mod reset;
