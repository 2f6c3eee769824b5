//! Social sign-in (OpenID Connect providers and GitHub) and linked identities; their SQL in
//! `sql/`. The ID-token and PKCE rules are in `core::social`.

pub mod flow;
pub mod links;
pub mod provider;
pub mod sign_in;
pub mod sql;
