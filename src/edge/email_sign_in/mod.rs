//! Email sign-in's routes (`routes.rs`); its SQL is the one code table's (`codes/sql/sign_in.rs`).

pub mod routes;
