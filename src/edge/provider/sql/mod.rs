//! The provider's SQL: clients, codes, consents, and sessions as grants and browser cookies.

pub mod clients;
pub mod codes;
pub mod consents;
pub mod grants;
