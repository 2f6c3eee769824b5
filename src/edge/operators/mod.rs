//! The operator's surface: the admin API; its SQL, and the hourly cleanup's, in `sql/`.

pub mod actions;
pub mod admin;
pub mod sql;
pub mod trail;
pub mod users;
