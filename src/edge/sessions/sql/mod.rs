//! The sessions' tables: sessions and refresh tokens, login-attempt counts, and the ceremonies
//! that end with a session.

pub mod ceremonies;
pub mod login_attempts;
pub mod sessions;
