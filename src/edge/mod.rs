//! The layer that touches the `worker` crate: entry point, routes, handlers, SQL, mail, responses.

pub mod accounts;
pub mod bindings;
pub mod catalog;
pub mod codes;
pub mod context;
pub mod db;
pub mod email_sign_in;
pub mod entry;
pub mod error;
pub mod events;
pub mod http;
pub mod log;
pub mod mailer;
pub mod meta;
pub mod mfa;
pub mod operators;
pub mod passkeys;
pub mod passwords;
pub mod provider;
pub mod response;
pub mod router;
pub mod routes;
pub mod scheduled;
pub mod sessions;
pub mod social;
pub mod state;
