//! Passkeys (WebAuthn): `POST /passkeys/register/options`, `/passkeys/register` (signed in),
//! `/passkeys/login/options`, `/passkeys/login`, and `GET /passkeys`, `PUT`/`DELETE
//! /passkeys/{id}`. The browser's `navigator.credentials` answers arrive in the JSON form of
//! `PublicKeyCredential.toJSON()` (base64url fields); `core/webauthn.rs` checks them. A passkey
//! with user verification is two factors, so its sign-in skips the TOTP step.

use serde_json::{json, Map, Value};
use worker::{Request, Response};

use crate::core::body::Body;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::passkeys::passkey_config::PasskeyConfig;
use crate::core::passkeys::webauthn;
use crate::core::passkeys::webauthn::RelyingParty;
use crate::core::random::{self, base64url, base64url_decode};
use crate::core::sessions::amr::Method;
use crate::core::sessions::refresh_token::digest_of;
use crate::core::violation::Violation;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_body, read_optional_body, rfc3339};
use crate::edge::log::Level;
use crate::edge::passkeys::sql::challenges as passkey_challenges;
use crate::edge::passkeys::sql::challenges::{Ceremony as Stored, Owner, Taken};
use crate::edge::passkeys::sql::passkeys;
use crate::edge::passkeys::sql::passkeys::{Deleted, NewPasskey};
use crate::edge::passwords::reauth::confirm_way_in_change;
use crate::edge::sessions::bearer::{live_caller, live_reader, principal, LiveCaller};
use crate::edge::sessions::routes::{start_session, Start};
use crate::edge::state::State;

/// The COSE algorithms we verify, in order of preference: ES256 (every platform), EdDSA, RS256
/// (Windows Hello).
pub const ALGORITHMS: [i64; 3] = [-7, -8, -257];

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
    let challenge = base64url(&random::bytes::<32>());
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
    let challenge = base64url(&random::bytes::<32>());
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

/// Takes the live challenge of `ceremony` (single use): `passkey_refused` with reason
/// `challenge` when it is unknown, used, expired, or (with `owner`) another account's.
pub async fn take_challenge(
    db: &Db,
    challenge: &str,
    ceremony: Stored,
    owner: Option<i64>,
    now: i64,
) -> Result<Taken, ApiError> {
    let what = match ceremony {
        Stored::Register => "registration",
        Stored::Login | Stored::SecondFactor => "sign-in",
    };
    passkey_challenges::take(db, &digest_of(challenge), ceremony, now)
        .await?
        .filter(|taken| owner.is_none() || taken.user_id == owner)
        .ok_or_else(|| ApiError::PasskeyRefused {
            reason: "challenge",
            message: format!(
                "The {what} challenge is unknown, used or expired; ask for new options"
            ),
        })
}

/// A registration response checked: the credential's id (base64url), what the authenticator
/// said, and its AAGUID in hex.
pub struct Registered {
    pub id: String,
    pub verified: webauthn::NewCredential,
    pub aaguid: String,
}

/// Checks a registration response to `challenge`, with user verification required (the passkey
/// stands for two factors).
pub fn check_registration(
    state: &State,
    rp: &PasskeyConfig,
    credential: &Credential,
    challenge: &str,
) -> Result<Registered, ApiError> {
    let verified = webauthn::verify_registration(
        &credential.client_data_json,
        &credential.second,
        challenge,
        &rp_of(rp),
        true,
    )
    .map_err(|e| refused(state, e))?;
    let id = base64url(&verified.credential_id);
    if id != credential.id {
        return Err(ApiError::PasskeyRefused {
            reason: "credential_id",
            message: "The credential id does not match the authenticator data".into(),
        });
    }
    let aaguid = verified.aaguid.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Registered {
        id,
        verified,
        aaguid,
    })
}

/// The name a new passkey is stored under: the body's `name`, or "Passkey".
pub fn passkey_name(body: &Body) -> Result<String, ApiError> {
    Ok(match body.optional_string("name")? {
        Some(name) => crate::core::accounts::name::Name::parse("name", name)?
            .into_stored()
            .unwrap_or_else(|| DEFAULT_NAME.to_owned()),
        None => DEFAULT_NAME.to_owned(),
    })
}

const DEFAULT_NAME: &str = "Passkey";

/// The creation options of `navigator.credentials.create()` for `user`.
pub fn creation_options(
    rp: &PasskeyConfig,
    challenge: &str,
    user: Value,
    exclude: Vec<Value>,
) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "challenge": challenge,
        "rp": {"id": rp.rp_id, "name": rp.rp_name},
        "user": user,
        "pubKeyCredParams": ALGORITHMS.map(|alg| json!({"type": "public-key", "alg": alg})),
        "timeout": passkey_challenges::TTL_SECONDS * 1000,
        "excludeCredentials": exclude,
        "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
        "attestation": "none",
    }) else {
        unreachable!("a JSON object literal")
    };
    map
}

/// Checks an assertion against its stored credential (`user_verified`: whether the ceremony asked
/// for user verification); the counter is the caller's to record.
pub fn check_assertion(
    state: &State,
    rp: &PasskeyConfig,
    credential: &Credential,
    signature: &[u8],
    stored: &passkeys::Stored,
    challenge: &str,
    user_verified: bool,
) -> Result<webauthn::Assertion, ApiError> {
    let public_key = base64url_decode(&stored.public_key)
        .ok_or_else(|| ApiError::internal("read passkey", "stored key is not base64url"))?;
    let assertion = webauthn::verify_assertion(
        &credential.client_data_json,
        &credential.second,
        signature,
        &public_key,
        challenge,
        &rp_of(rp),
        u32::try_from(stored.sign_count).unwrap_or(u32::MAX),
        user_verified,
    )
    .map_err(|e| refused(state, e))?;
    // §7.2 step 18: a credential's backup eligibility never changes.
    if assertion.backup_eligible != (stored.backup_eligible != 0) {
        return Err(ApiError::PasskeyRefused {
            reason: "backup_eligibility_changed",
            message: "The authenticator reports a backup eligibility other than at registration"
                .into(),
        });
    }
    Ok(assertion)
}

/// `GET /passkeys`: the caller's passkeys.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let LiveCaller { principal, db, .. } = live_reader(&req, &ctx).await?;
    let shown: Vec<Value> = passkeys::list(&db, principal.user_id)
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "id": p.credential_id,
                "name": p.name,
                "algorithm": p.algorithm,
                "sign_count": p.sign_count,
                "backup_eligible": p.backup_eligible != 0,
                "backed_up": p.backed_up != 0,
                "created_at": rfc3339(p.created_at),
                "last_used_at": p.last_used_at.and_then(rfc3339),
            })
        })
        .collect();
    Ok(json(200, &json!({"passkeys": shown})))
}

/// `PUT /passkeys/{id} {name}`.
pub async fn rename(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let body = read_body(&mut req).await?;
    let name = crate::core::accounts::name::Name::parse("name", body.string("name")?)?
        .into_stored()
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let id = ctx.id().ok_or(ApiError::NotFound)?.to_owned();
    let db = ctx.data.database(&ctx.env)?;
    users::account_by_session(&db, &principal, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !passkeys::rename(&db, principal.user_id, &id, &name).await? {
        return Err(ApiError::NotFound);
    }
    Ok(json(
        200,
        &json!({"message": "Passkey renamed", "name": name}),
    ))
}

/// `DELETE /passkeys/{id} {password, mfa_code?}`: never the account's last way to sign in, and
/// only with the password (or a recent sign-in) asked again, as adding one asks it.
pub async fn delete(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let id = ctx.id().ok_or(ApiError::NotFound)?.to_owned();
    let body = read_optional_body(&mut req).await?;
    let LiveCaller {
        principal,
        db,
        now,
        account,
    } = live_caller(&req, &ctx).await?;
    confirm_way_in_change(&req, &ctx.data, &db, &principal, &account, &body, now).await?;
    match passkeys::delete(&db, principal.user_id, &id).await? {
        Deleted::Done => {
            let detail = Detail::new()
                .with("factor", "passkey")
                .with("passkey", id.as_str());
            let events = &ctx.data.events;
            events.by_user(
                &req,
                principal.user_id,
                EventKind::FactorRemoved,
                detail,
                now,
            );
            Ok(json(200, &json!({"message": "Passkey deleted"})))
        }
        Deleted::LastWayIn => Err(ApiError::LastSignInMethod),
        Deleted::NotFound => Err(ApiError::NotFound),
    }
}

/// The fields of a `PublicKeyCredential.toJSON()` that every ceremony has, decoded.
pub struct Credential {
    pub id: String,
    pub client_data_json: Vec<u8>,
    /// `attestationObject` (registration) or `authenticatorData` (sign-in).
    pub second: Vec<u8>,
}

impl Credential {
    pub fn parse(body: &Body, second: &'static str) -> Result<Self, ApiError> {
        let credential = body
            .value("credential")
            .ok_or_else(|| ApiError::from(Violation::missing("credential")))?;
        let text = |value: &Value, field: &'static str| -> Result<String, ApiError> {
            value[field].as_str().map(str::to_owned).ok_or_else(|| {
                ApiError::from(Violation::new(
                    "credential",
                    "invalid",
                    format!("credential.{field} is missing or not a string"),
                ))
            })
        };
        // A field that is there but not base64url is the authenticator's answer mangled: a
        // refused ceremony, not a malformed request.
        let bytes = |value: &Value, field: &'static str| -> Result<Vec<u8>, ApiError> {
            base64url_decode(&text(value, field)?).ok_or_else(|| ApiError::PasskeyRefused {
                reason: "malformed",
                message: format!("credential.response.{field} is not base64url"),
            })
        };
        if credential["type"] != "public-key" {
            return Err(Violation::new(
                "credential",
                "invalid",
                "credential.type must be public-key",
            )
            .into());
        }
        let response = &credential["response"];
        Ok(Self {
            id: text(credential, "id")?,
            client_data_json: bytes(response, "clientDataJSON")?,
            second: bytes(response, second)?,
        })
    }

    pub fn field(&self, body: &Body, field: &'static str) -> Result<Vec<u8>, ApiError> {
        let text = body
            .value("credential")
            .and_then(|c| c["response"][field].as_str())
            .ok_or_else(|| {
                ApiError::from(Violation::new(
                    "credential",
                    "invalid",
                    format!("credential.response.{field} is missing or not a string"),
                ))
            })?;
        base64url_decode(text).ok_or_else(|| ApiError::PasskeyRefused {
            reason: "malformed",
            message: format!("credential.response.{field} is not base64url"),
        })
    }

    /// `response.userHandle` of an assertion (base64url as sent; absent or null when the
    /// authenticator returned none).
    pub fn user_handle(&self, body: &Body) -> Result<Option<String>, ApiError> {
        let value = body
            .value("credential")
            .map(|c| &c["response"]["userHandle"]);
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(handle)) if handle.is_empty() => Ok(None),
            Some(Value::String(handle)) => Ok(Some(handle.clone())),
            Some(_) => Err(Violation::new(
                "credential",
                "invalid",
                "credential.response.userHandle must be a string",
            )
            .into()),
        }
    }

    /// The challenge the browser signed, read from clientDataJSON to find the ceremony (the
    /// full check of clientDataJSON is `core/webauthn.rs`'s).
    pub fn challenge(&self) -> Result<String, ApiError> {
        serde_json::from_slice::<Value>(&self.client_data_json)
            .ok()
            .and_then(|data| data["challenge"].as_str().map(str::to_owned))
            .ok_or(ApiError::PasskeyRefused {
                reason: "client_data",
                message: "clientDataJSON is not JSON with a challenge".into(),
            })
    }
}

pub fn relying_party(state: &State) -> Result<PasskeyConfig, ApiError> {
    match &state.config.passkeys {
        Ok(Some(rp)) => Ok(rp.clone()),
        // Passkeys are off: their routes do not exist.
        Ok(None) => Err(ApiError::NotFound),
        Err(e) => Err(ApiError::Misconfigured(e.clone())),
    }
}

pub fn rp_of(config: &PasskeyConfig) -> RelyingParty {
    RelyingParty {
        id: config.rp_id.clone(),
        origins: config.origins.clone(),
    }
}

/// A refused ceremony: logged with its reason (a sign-count regression is worth an operator's
/// look: a cloned authenticator), answered with what was expected.
pub fn refused(state: &State, error: webauthn::WebAuthnError) -> ApiError {
    state
        .log
        .event(Level::Warn, format!("passkey refused: {error}"));
    ApiError::PasskeyRefused {
        reason: error.code(),
        message: error.to_string(),
    }
}

/// The WebAuthn user handle of an account: its id as 8 bytes, base64url (no personal data).
pub fn user_handle(user_id: i64) -> String {
    base64url(&user_id.to_be_bytes())
}
