//! An account's inputs and mails: email addresses, display names, the requests of its life,
//! and the notices that tell the owner what changed.

pub mod account_mail;
pub mod account_requests;
pub mod email;
pub mod name;
