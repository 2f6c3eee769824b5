//! `POST /passkeys/signup/options` and `POST /passkeys/signup`: an account with a passkey and no
//! password. The first step mails a code to the address and answers the creation options; the
//! second brings the code and the new passkey together, and only then is the account created,
//! its address verified and a session started. So an address nobody can read never gets an
//! account (no squatting), and the answer to the first step is the same for every address (a
//! taken one stores no code, and its owner is told instead: no enumeration).

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::accounts::account_mail;
use crate::core::accounts::email::Email;
use crate::core::accounts::name::Name;
use crate::core::codes::otp::OtpCode;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::random::{self, base64url};
use crate::core::requests::code_field;
use crate::core::sessions::amr::Method;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::NO_CANDIDATES;
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_body};
use crate::edge::mailer::send_later;
use crate::edge::passkeys::ceremony::{
    check_registration, creation_options, passkey_name, relying_party, Credential, Registered,
};
use crate::edge::passkeys::sql::passkeys;
use crate::edge::passkeys::sql::signups as passkey_signups;
use crate::edge::passkeys::sql::signups::{Completed, FirstPasskey, NewSignup, Started};
use crate::edge::sessions::start::{start_session, Start};

/// Step 1, `{email, name?}`: a code mailed to the address (or a notice to its owner), and the
/// options for `navigator.credentials.create()`.
pub async fn options(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let config = &ctx.data.config;
    // Nothing is stored that cannot be mailed.
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let body = read_body(&mut req).await?;
    let email = Email::parse(body.string("email")?)?;
    let name = match body.optional_string("name")? {
        Some(raw) => Name::parse("name", raw)?.into_stored(),
        None => None,
    };
    let now = now();
    let policy = config.otp_policy();
    let challenge = random::secret_256();
    let digest = digest_of(&challenge);
    // A handle of its own until the account exists (the passkey's `user.id`: no personal data).
    let user_handle = base64url(&random::bytes::<16>());
    let code = OtpCode::generate();
    let code_hash = config
        .keys
        .stamp(|keys| code.purpose_hash(&keys.otp, passkey_signups::PURPOSE, &digest));
    let db = ctx.data.database(&ctx.env)?;
    let client = client_address(&req);
    let signup = NewSignup {
        digest: &digest,
        email: email.as_str(),
        name: name.as_deref(),
        code_hash: &code_hash,
        user_handle: &user_handle,
        client: client.as_str(),
    };
    match passkey_signups::start(&db, &signup, now, &policy).await? {
        Started::Fresh => send_later(
            &ctx.data,
            &ctx.env,
            account_mail::verification_code(&email, code.expose(), policy.ttl_seconds),
        ),
        Started::Taken => send_later(&ctx.data, &ctx.env, account_mail::sign_up_attempt(&email)),
        Started::Capped => {
            return Err(ApiError::TooManyAttempts {
                retry_after: policy.resend_cooldown_seconds,
            })
        }
    }
    let user = json!({
        "id": user_handle,
        "name": email.as_str(),
        "displayName": name.as_deref().unwrap_or(email.as_str()),
    });
    let mut answer = creation_options(&rp, &challenge, user, Vec::new());
    answer.insert(
        "message".into(),
        Value::from("Enter the code we emailed, then create the passkey"),
    );
    answer.insert("expires_in".into(), Value::from(policy.ttl_seconds));
    Ok(json(200, &Value::Object(answer)))
}

/// Step 2, `{code, credential, name?}`: the code and the new passkey; the account is created with
/// both, verified, and signed in (a passkey with user verification is two factors).
pub async fn complete(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let config = &ctx.data.config;
    let body = read_body(&mut req).await?;
    let credential = Credential::parse(&body, "attestationObject")?;
    let code = code_field(&body, "code").map_err(ApiError::from)?;
    let name = passkey_name(&body)?;
    let challenge = credential.challenge()?;
    let digest = digest_of(&challenge);
    // The ceremony first: a refused passkey spends no try at the code.
    let Registered {
        id,
        verified,
        aaguid,
    } = check_registration(&ctx.data, &rp, &credential, &challenge)?;
    let now = now();
    let policy = config.otp_policy();
    let db = ctx.data.database(&ctx.env)?;
    if passkeys::find(&db, &id).await?.is_some() {
        return Err(ApiError::PasskeyRefused {
            reason: "already_registered",
            message: "This passkey is registered already".into(),
        });
    }
    let candidates = code.as_ref().map_or_else(
        || NO_CANDIDATES.to_owned(),
        |code| {
            config
                .keys
                .candidates(|keys| code.purpose_hash(&keys.otp, passkey_signups::PURPOSE, &digest))
        },
    );
    // Unknown, used, expired, out of tries, or a wrong code: one answer.
    let right = passkey_signups::try_code(&db, &digest, &candidates, now, &policy).await?;
    if right != Some(true) {
        return Err(ApiError::InvalidCode);
    }
    let marker = random::identifier();
    let passkey = FirstPasskey {
        credential_id: &id,
        public_key: &base64url(&verified.public_key),
        algorithm: verified.algorithm,
        sign_count: verified.sign_count,
        backup_eligible: verified.backup_eligible,
        backed_up: verified.backed_up,
        aaguid: &aaguid,
        name: &name,
    };
    let user_id = match passkey_signups::complete(&db, &digest, &marker, &passkey, now).await? {
        Completed::Created(user_id) => user_id,
        Completed::Used => return Err(ApiError::InvalidCode),
        Completed::Taken => return Err(ApiError::UserExists),
    };
    ctx.data.log.set_user(user_id);
    let account = users::credentials_by_id(&db, user_id)
        .await?
        .ok_or_else(|| ApiError::internal("read new account", "missing"))?;
    let start = Start {
        session_id: random::identifier(),
        client: client_address(&req),
        extra: Vec::new(),
        method: Method::Passkey {
            synced: verified.backup_eligible,
            user_verified: true,
        },
    };
    let events = &ctx.data.events;
    let detail = Detail::new().with("method", "passkey");
    events.by_user(&req, user_id, EventKind::AccountCreated, detail, now);
    let detail = Detail::new().with("factor", "passkey");
    events.by_user(&req, user_id, EventKind::FactorAdded, detail, now);
    start_session(&req, &ctx.data, &db, &account, start, now).await
}
