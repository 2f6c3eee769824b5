//! `POST /login/mfa/passkey/options` and `POST /login/mfa/passkey`: a passkey as the second step
//! of a password sign-in, in place of a TOTP code. The `mfa_token` of the password step binds
//! it, with its rules (single use, tries, expiry, the client that made it); the passkey
//! challenge is bound to the token's account and taken once. Presence is enough here (the
//! password was the first factor), so user verification is preferred, not required.

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::random;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body};
use crate::edge::mfa::second_step::{
    finish_two_step, mfa_digest, peek_mfa_token, signed_in_two_steps, try_mfa_token, TwoStep,
};
use crate::edge::mfa::sql::challenges::Proved;
use crate::edge::passkeys::ceremony::{check_assertion, relying_party, take_challenge, Credential};
use crate::edge::passkeys::sql::challenges as passkey_challenges;
use crate::edge::passkeys::sql::challenges::{Ceremony, Owner};
use crate::edge::passkeys::sql::passkeys;

/// Step 1, `{mfa_token}`: the options for `navigator.credentials.get()`, listing the account's
/// passkeys. Counts no try at the token.
pub async fn options(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let body = read_body(&mut req).await?;
    let digest = mfa_digest(body.string("mfa_token")?)?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let user_id = peek_mfa_token(&req, &ctx, &db, &digest, now).await?;
    let ids = passkeys::ids(&db, user_id).await?;
    if ids.is_empty() {
        return Err(ApiError::PasskeyRefused {
            reason: "no_passkey",
            message: "This account has no passkey; use a code from the authenticator app".into(),
        });
    }
    let challenge = random::secret_256();
    let stored = digest_of(&challenge);
    passkey_challenges::create(
        &db,
        &stored,
        Ceremony::SecondFactor,
        Owner::Account(user_id),
        None,
        now,
    )
    .await?;
    let allow: Vec<Value> = ids
        .into_iter()
        .map(|id| json!({"type": "public-key", "id": id}))
        .collect();
    Ok(json(
        200,
        &json!({
            "challenge": challenge,
            "rpId": rp.rp_id,
            "timeout": passkey_challenges::TTL_SECONDS * 1000,
            "userVerification": "preferred",
            "allowCredentials": allow,
        }),
    ))
}

/// Step 2, `{mfa_token, credential}`: the assertion of one of the account's passkeys completes
/// the sign-in, as a code would at `/login/mfa`.
pub async fn complete(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let rp = relying_party(&ctx.data)?;
    let config = &ctx.data.config;
    let body = read_body(&mut req).await?;
    let digest = mfa_digest(body.string("mfa_token")?)?;
    let credential = Credential::parse(&body, "authenticatorData")?;
    let signature = credential.field(&body, "signature")?;
    let challenge = credential.challenge()?;
    let now = now();
    let db = ctx.data.database(&ctx.env)?;
    let tried = try_mfa_token(&req, &ctx, &db, &digest, now).await?;
    let owner = Some(tried.user_id);
    take_challenge(&db, &challenge, Ceremony::SecondFactor, owner, now).await?;
    let stored = passkeys::find(&db, &credential.id)
        .await?
        .filter(|stored| stored.user_id == tried.user_id)
        .ok_or(ApiError::PasskeyRefused {
            reason: "unknown_credential",
            message: "This passkey is not one of this account's".into(),
        })?;
    let assertion = check_assertion(
        &ctx.data,
        &rp,
        &credential,
        &signature,
        &stored,
        &challenge,
        false,
    )?;
    if !passkeys::record_use(&db, &stored, assertion.sign_count, assertion.backed_up, now).await? {
        // A parallel use of the same assertion moved the counter first.
        return Err(ApiError::Unauthorized);
    }
    let account = shown(&db, tried.user_id).await?;
    let marker = random::identifier();
    let two_step = TwoStep {
        digest: &digest,
        challenge: &tried,
        account: &account,
        proved: Proved::Passkey {
            synced: stored.backup_eligible != 0,
        },
        marker: &marker,
    };
    let (answer, _) = finish_two_step(config, &db, &two_step, Vec::new(), Vec::new(), now)
        .await?
        // Used in parallel, or the password reset meanwhile.
        .ok_or(ApiError::Unauthorized)?;
    signed_in_two_steps(&ctx, &req, &tried, "passkey", now);
    Ok(json(200, &Value::Object(answer)))
}

async fn shown(db: &Db, user_id: i64) -> Result<users::Shown, ApiError> {
    let statement = users::shown(db, user_id)?;
    crate::edge::db::first(db, statement, "read account")
        .await?
        .ok_or(ApiError::Unauthorized)
}
