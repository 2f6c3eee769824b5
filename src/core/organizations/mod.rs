//! Organizations (issue 34, first slice): the rules of customer organizations, their members'
//! roles and permissions, and what a token says of them, as host-tested rules. Routes, SQL and
//! invitations come in the next slices.

pub mod claims;
pub mod roles;
pub mod rules;
pub mod slug;
