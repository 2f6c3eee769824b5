//! Imports the users of the Flask API's `users.db` into D1: see "Migrating from the Flask API" in
//! the README. A host tool; on wasm32 (where clippy also looks) it is empty.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    edge_auth::import::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
