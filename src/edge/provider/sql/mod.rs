//! The provider's SQL: clients, codes, consents, device codes, and sessions as grants and browser cookies.

pub mod clients;
pub mod codes;
pub mod consents;
pub mod device_codes;
pub mod grants;
