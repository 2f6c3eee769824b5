//! The reset codes' table.

pub mod password_resets;
