//! The admin API's reads and changes of accounts, and the hourly cleanup.

pub mod admin_users;
pub mod maintenance;
