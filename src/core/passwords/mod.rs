//! The rules of passwords: the policy, argon2id hashing, the breach check's k-anonymity,
//! and the login lockout.

pub mod breached;
pub mod login_lockout;
pub mod password;
pub mod password_hash;
