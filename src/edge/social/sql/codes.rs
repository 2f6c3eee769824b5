//! The `oauth_codes` table: the one-time code a social sign-in's callback hands the app, never a
//! token in a URL (RFC 9700 §4.3.3). Seconds-lived, single use, kept as its SHA-256 digest and
//! bound to the app's PKCE `code_challenge`, so a code seen on its way back is useless without
//! the verifier that stayed in the app. A code has a purpose: a sign-in's is exchanged at
//! `POST /oauth/token`, a link's at `POST /identities` by the session that started the link
//! (RFC 9700 §4.7: the flow is bound to the browser and user that began it). Either may carry
//! the provider's identity, linked only when the code is spent.

use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::edge::db::{batch, first, int, nullable_text, statement, text, Db};
use crate::edge::error::ApiError;

const CREATE_SQL: &str = "INSERT INTO oauth_codes \
      (digest, user_id, app_challenge, expires_at, used_at, purpose, session_id, provider, subject, email) \
    VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8, ?9)";
/// The live, unused code `?1` of purpose `?3`, used now; what it was bound to.
const USE_SQL: &str = "UPDATE oauth_codes SET used_at = ?2 \
    WHERE digest = ?1 AND used_at IS NULL AND expires_at > ?2 AND purpose = ?3 \
    RETURNING user_id, app_challenge, session_id, provider, subject, email";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[CREATE_SQL, USE_SQL];

/// How long the app has to exchange the code.
pub const TTL_SECONDS: i64 = 60;

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `POST /oauth/token`: a session for its account.
    SignIn,
    /// `POST /identities`: its identity linked to the account of the session that asked.
    Link,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Link => "link",
        }
    }
}

/// A provider's account, to link when the code is spent.
#[derive(Debug, Clone, Deserialize)]
pub struct PendingIdentity {
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
}

/// A code to store.
pub struct NewCode<'a> {
    pub digest: &'a str,
    pub purpose: Purpose,
    pub user_id: i64,
    pub app_challenge: &'a str,
    /// A link's session.
    pub session_id: Option<&'a str>,
    pub identity: Option<&'a PendingIdentity>,
}

/// Stores a code (one round trip).
pub async fn create(db: &Db, code: &NewCode<'_>, now: i64) -> Result<(), ApiError> {
    let identity = code.identity;
    let args = [
        text(code.digest),
        int(code.user_id),
        text(code.app_challenge),
        int(now + TTL_SECONDS),
        text(code.purpose.as_str()),
        nullable_text(code.session_id),
        identity.map_or(JsValue::NULL, |i| text(&i.provider)),
        identity.map_or(JsValue::NULL, |i| text(&i.subject)),
        nullable_text(identity.and_then(|i| i.email.as_deref())),
    ];
    batch(
        db,
        vec![statement(db, CREATE_SQL, &args)?],
        "store oauth code",
    )
    .await?;
    Ok(())
}

/// A code, used.
#[derive(Debug, Deserialize)]
pub struct Used {
    pub user_id: i64,
    pub app_challenge: String,
    pub session_id: Option<String>,
    provider: Option<String>,
    subject: Option<String>,
    email: Option<String>,
}

impl Used {
    /// The identity to link now, if the code carries one.
    pub fn identity(&self) -> Option<PendingIdentity> {
        Some(PendingIdentity {
            provider: self.provider.clone()?,
            subject: self.subject.clone()?,
            email: self.email.clone(),
        })
    }
}

/// Uses the code of `digest` for `purpose`: `None` if unknown, used, expired or of another
/// purpose. Used even when the verifier then proves wrong, so a code gets one try.
pub async fn take(
    db: &Db,
    digest: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<Used>, ApiError> {
    let args = [text(digest), int(now), text(purpose.as_str())];
    first(db, statement(db, USE_SQL, &args)?, "use oauth code").await
}
