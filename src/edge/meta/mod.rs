//! What the service says about itself: health, the public keys, the API document.

pub mod health;
pub mod jwks;
pub mod openapi;
