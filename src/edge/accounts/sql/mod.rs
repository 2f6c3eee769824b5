//! The accounts' table, and the deletion of everything an account owns.

pub mod deletion;
pub mod users;
