//! The host-side importer of the Flask API's users: read `users.db`, review each row with the
//! worker's own rules, write SQL, and load it into D1 with wrangler.

pub mod cli;
pub mod review;
pub mod source;
pub mod statements;
