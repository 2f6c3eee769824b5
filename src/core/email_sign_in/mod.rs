//! Sign-in by an emailed code or link: what the routes accept, the link's single-use token, and
//! the mails (`docs/email-sign-in.md`).

pub mod link;
pub mod mail;
pub mod requests;
