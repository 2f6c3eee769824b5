//! The security events' table (also the webhook outbox).

pub mod security_events;
