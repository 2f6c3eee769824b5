//! What every capability's SQL (its `sql/` folder) is written with: the D1 session, statements
//! with numbered placeholders, batches, typed rows (`edge::catalog` lists every statement).
//! Rules that must hold under concurrency are single statements or one batch (D1 has no BEGIN;
//! a batch is one transaction).

mod d1;

/// The hashes of a presented value that cannot match anything (a malformed code): an empty
/// JSON array for the `json_each` of the checking statements, so it still counts as a wrong try.
pub const NO_CANDIDATES: &str = "[]";

pub use d1::{
    batch, first, int, leading, nullable_text, rows, statement, text, took_effect, D1Figures,
    D1Meter, Db,
};
