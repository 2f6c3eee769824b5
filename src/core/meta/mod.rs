//! What the service says about itself: the API document as a deployment serves it.

pub mod openapi;
