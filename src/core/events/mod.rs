//! Security events and their webhooks: the trail's kinds and details, Standard Webhooks
//! signing, deliveries and their backoff, and the endpoints' settings.

pub mod security_event;
pub mod webhook;
pub mod webhook_config;
pub mod webhook_delivery;
