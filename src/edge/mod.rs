//! The layer that touches the `worker` crate: entry point, routes, handlers, SQL, mail, responses.

pub mod auth;
pub mod bindings;
pub mod breach_check;
pub mod context;
pub mod db;
pub mod entry;
pub mod error;
pub mod events;
pub mod handlers;
pub mod http;
pub mod log;
pub mod mailer;
pub mod oauth_client;
pub mod reauth;
pub mod response;
pub mod routes;
pub mod scheduled;
pub mod second_factor;
pub mod state;
pub mod webhooks;
