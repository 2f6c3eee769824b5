//! The OAuth 2.1 authorization server and OpenID provider (docs/provider.md): its settings,
//! clients, authorization requests, tokens and pages, as rules tested on the host.

pub mod access_token;
pub mod authorize;
pub mod clients;
pub mod config;
pub mod device;
pub mod id_token;
pub mod metadata_document;
pub mod organization;
pub mod pages;
pub mod registration;
pub mod resource;
pub mod scopes;
pub mod token_request;
