//! Sessions: password sign-in, refresh, logout, the one function that makes every session,
//! listing and ending them, and the bearer check; their SQL in `sql/`.

pub mod bearer;
pub mod list;
pub mod routes;
pub mod sql;
pub mod start;
