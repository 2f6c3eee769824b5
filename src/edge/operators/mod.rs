//! The operator's surface: the admin API; its SQL, and the hourly cleanup's, in `sql/`.

pub mod admin;
pub mod sql;
