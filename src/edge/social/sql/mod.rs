//! Social sign-in's tables: linked identities, flows in flight, one-time codes.

pub mod codes;
pub mod identities;
pub mod states;
