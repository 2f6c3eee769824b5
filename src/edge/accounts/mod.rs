//! The account's life: sign-up, profile, password and email changes, deletion; their SQL in
//! `sql/`.

pub mod credentials;
pub mod profile;
pub mod routes;
pub mod sql;
