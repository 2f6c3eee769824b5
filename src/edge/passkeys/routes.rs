//! Passkeys (WebAuthn): `POST /passkeys/register/options`, `/passkeys/register` (signed in),
//! `/passkeys/login/options` and `/passkeys/login` (the account's list is `manage.rs`, what the
//! ceremonies share `ceremony.rs`). The browser's `navigator.credentials` answers arrive in the JSON form of
//! `PublicKeyCredential.toJSON()` (base64url fields); `core/passkeys/webauthn.rs` checks them. A passkey
//! with user verification is two factors, so its sign-in skips the TOTP step.

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::random::{self, base64url, base64url_decode};
use crate::core::sessions::amr::Method;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_body, read_optional_body};
use crate::edge::passkeys::ceremony::{
    check_assertion, check_registration, creation_options, passkey_name, relying_party,
    take_challenge, user_handle, Credential, Registered,
};
use crate::edge::passkeys::sql::challenges as passkey_challenges;
use crate::edge::passkeys::sql::challenges::{Ceremony as Stored, Owner};
use crate::edge::passkeys::sql::passkeys;
use crate::edge::passkeys::sql::passkeys::NewPasskey;
use crate::edge::passwords::reauth::confirm_way_in_change;
use crate::edge::sessions::bearer::principal;
use crate::edge::sessions::start::{start_session, Start};
use serde_json::{json, Value};
use worker::{Request, Response};

/// Registration, step 1 (signed in): the options for `navigator.credentials.create()`. The
/// password is asked again (and a current code once a factor is on), as for every factor, and
/// the address must be verified (no squatting through a factor).
pub async fn register_options(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let body = read_optional_body(&mut req).await?;
    let db = ctx.data.database(&ctx.env)?;
    let account = users::account_by_session(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if account.email_verified_at.is_none() {
        return Err(ApiError::FactorNeedsVerifiedEmail);
    }
    confirm_way_in_change(&req, &ctx.data, &db, &principal, &account, &body, now).await?;
    let challenge = random::secret_256();
    passkey_challenges::create(
        &db,
        &digest_of(&challenge),
        Stored::Register,
        Owner::Session(&principal),
        None,
        now,
    )
    .await?;
    let exclude: Vec<Value> = passkeys::ids(&db, principal.user_id)
        .await?
        .into_iter()
        .map(|id| json!({"type": "public-key", "id": id}))
        .collect();
    let user = json!({
        "id": user_handle(principal.user_id),
        "name": account.email,
        "displayName": account.name.unwrap_or_else(|| account.email.clone()),
    });
    Ok(json(
        200,
        &Value::Object(creation_options(&rp, &challenge, user, exclude)),
    ))
}

/// Registration, step 2: the authenticator's answer, checked and stored.
pub async fn register(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let body = read_body(&mut req).await?;
    let credential = Credential::parse(&body, "attestationObject")?;
    let name = passkey_name(&body)?;
    let db = ctx.data.database(&ctx.env)?;
    // A logged-out or disabled session adds nothing, even with an access token still unexpired.
    users::account_by_session(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let challenge = credential.challenge()?;
    let taken = take_challenge(
        &db,
        &challenge,
        Stored::Register,
        Some(principal.user_id),
        now,
    )
    .await?;
    // The challenge is the one this session asked for (no other session's, live or not).
    if taken
        .session_id
        .as_deref()
        .is_some_and(|sid| sid != principal.session_id)
    {
        return Err(ApiError::Unauthorized);
    }
    let Registered {
        id,
        verified,
        aaguid,
    } = check_registration(&ctx.data, &rp, &credential, &challenge)?;
    let added = passkeys::add(
        &db,
        &NewPasskey {
            credential_id: &id,
            user_id: principal.user_id,
            public_key: &base64url(&verified.public_key),
            algorithm: verified.algorithm,
            sign_count: verified.sign_count,
            backup_eligible: verified.backup_eligible,
            backed_up: verified.backed_up,
            aaguid: &aaguid,
            name: &name,
            user_handle: &user_handle(principal.user_id),
        },
        now,
    )
    .await?;
    if !added {
        return Err(ApiError::PasskeyRefused {
            reason: "already_registered",
            message: "This passkey is registered already".into(),
        });
    }
    let detail = Detail::new()
        .with("factor", "passkey")
        .with("passkey", id.as_str());
    ctx.data
        .events
        .by_user(&req, principal.user_id, EventKind::FactorAdded, detail, now);
    Ok(json(
        201,
        &json!({"message": "Passkey added", "id": id, "name": name}),
    ))
}

/// Sign-in, step 1: the options for `navigator.credentials.get()`. Without an email the browser
/// offers every passkey of this site (usernameless, conditional UI); with one, the passkey must
/// turn out to be that account's, and the answer is the same for every email (no enumeration).
pub async fn login_options(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let body = read_optional_body(&mut req).await?;
    let email = match body.optional_string("email")? {
        Some(raw) => Some(crate::core::accounts::email::Email::parse(raw)?),
        None => None,
    };
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let challenge = random::secret_256();
    passkey_challenges::create(
        &db,
        &digest_of(&challenge),
        Stored::Login,
        Owner::Nobody,
        email.as_ref().map(|e| e.as_str()),
        now,
    )
    .await?;
    Ok(json(
        200,
        &json!({
            "challenge": challenge,
            "rpId": rp.rp_id,
            "timeout": passkey_challenges::TTL_SECONDS * 1000,
            "userVerification": "required",
            "allowCredentials": [],
        }),
    ))
}

/// Sign-in, step 2: the assertion, checked against the stored key; the counter moves in the
/// statement that accepts it; then the session, as for every sign-in method.
pub async fn login(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let body = read_body(&mut req).await?;
    let credential = Credential::parse(&body, "authenticatorData")?;
    let signature = credential.field(&body, "signature")?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let challenge = credential.challenge()?;
    let taken = take_challenge(&db, &challenge, Stored::Login, None, now).await?;
    let stored = passkeys::find(&db, &credential.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    // WebAuthn L3 §7.2 step 6: the user handle the authenticator returns must be the one the
    // credential was made for; without an email asked first, it must be there at all.
    let returned = credential.user_handle(&body)?;
    let owner_named = match (&returned, &stored.user_handle) {
        (Some(returned), Some(kept)) => base64url_decode(returned) == base64url_decode(kept),
        (Some(_), None) => true,
        (None, _) => taken.email.is_some(),
    };
    if !owner_named {
        return Err(ApiError::Unauthorized);
    }
    let assertion = check_assertion(
        &ctx.data,
        &rp,
        &credential,
        &signature,
        &stored,
        &challenge,
        true,
    )?;
    let account = users::credentials_by_id(&db, stored.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if taken
        .email
        .as_deref()
        .is_some_and(|email| email != account.email)
    {
        return Err(ApiError::Unauthorized);
    }
    if !passkeys::record_use(&db, &stored, assertion.sign_count, assertion.backed_up, now).await? {
        // A parallel use of the same assertion moved the counter first.
        return Err(ApiError::Unauthorized);
    }
    ctx.data.log.set_user(account.id);
    let start = Start {
        session_id: random::identifier(),
        client: client_address(&req),
        extra: Vec::new(),
        method: Method::Passkey {
            synced: stored.backup_eligible != 0,
            user_verified: assertion.user_verified,
        },
    };
    start_session(&req, &ctx.data, &db, &account, start, now).await
}
