//! The rules of sessions: access tokens (EdDSA JWTs, RFC 8725) and their keys, refresh
//! tokens, how a sign-in is named in `amr`, and the verified tokens an isolate remembers.

pub mod access_token;
pub mod amr;
pub mod refresh_token;
pub mod token_keys;
pub mod verified_tokens;
