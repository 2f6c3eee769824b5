//! Social sign-in's rules: ID tokens (OpenID Connect Core), PKCE (RFC 7636), providers'
//! settings and the flow's inputs.

pub mod oauth_config;
pub mod oauth_requests;
pub mod oidc;
pub mod pkce;
