//! Organizations: the rules of customer organizations, their members' roles and permissions, who
//! may change whose membership, the requests, the invitation mail, the settings, and what a
//! token says of them (`edge/organizations/` serves them).

pub mod claims;
pub mod config;
pub mod mail;
pub mod requests;
pub mod roles;
pub mod rules;
pub mod slug;
