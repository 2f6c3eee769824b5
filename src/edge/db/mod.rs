//! All SQL: one function per statement, typed rows, numbered placeholders. Rules that must hold
//! under concurrency are single statements or one batch (D1 has no BEGIN; a batch is one
//! transaction).

mod d1;
pub mod login_throttle;
pub mod maintenance;
pub mod password_resets;
pub mod sessions;
pub mod users;

pub use d1::{batch, first, int, nullable_text, rows, statement, text};
