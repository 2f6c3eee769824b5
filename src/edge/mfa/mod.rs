//! The second factor: TOTP with recovery codes, enrolment, the second step of a sign-in, and
//! the proof every step-up shares; their SQL in `sql/`.

pub mod proof;
pub mod routes;
pub mod second_step;
pub mod sql;
