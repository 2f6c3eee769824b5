//! The security event trail and its webhooks: recorded after each answer, read by the account
//! and the operator, delivered through the queue; their SQL in `sql/`.

pub mod routes;
pub mod sql;
pub mod trail;
pub mod webhooks;
