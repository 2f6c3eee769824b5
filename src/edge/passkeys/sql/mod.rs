//! The passkeys' tables: credentials, ceremonies in flight, sign-ups waiting for their code.

pub mod challenges;
pub mod passkeys;
pub mod signups;
