//! Proving a second-factor code: the TOTP code of the account's authenticator, or one of its
//! recovery codes. The proof is statements for the caller's batch, under a marker that the
//! caller's own statements are gated on (`db/totp_factors.rs` explains the two steps).

use worker::{D1PreparedStatement, D1Result};

use crate::core::config::Config;
use crate::core::keys::KeySet;
use crate::core::mfa::mfa_requests::SecondFactor;
use crate::core::mfa::secret_box;
use crate::core::mfa::totp::TotpSecret;
use crate::core::random;
use crate::edge::db::{batch, Db};
use crate::edge::error::ApiError;
use crate::edge::log::Level;
use crate::edge::mfa::sql::totp_factors;
use crate::edge::state::State;

/// Which state the factor must be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// Enrolled, not yet confirmed (`/mfa/totp/confirm`).
    Pending,
    /// On (login, reset, removal).
    Enabled,
}

/// A right code, not yet taken: run `statements` first in the batch that acts on it, and gate
/// that batch's effects on `marker`.
pub struct Proof {
    pub marker: String,
    pub statements: Vec<D1PreparedStatement>,
    /// A recovery code was used (the answer says how many are left).
    pub recovery: bool,
}

/// Checks `code` against the factor of `user_id`, in one round trip that also runs `extra` (whose
/// results come back). A wrong, replayed or unreadable code, or any code once the account's
/// budget of wrong tries is spent, is `400 invalid_mfa_code`: TOTP and recovery codes count
/// toward one budget (NIST SP 800-63B §5.2.2), and only a caller who proved the password (an
/// `mfa_token`, or a session) can spend it.
pub async fn prove(
    state: &State,
    db: &Db,
    user_id: i64,
    code: &SecondFactor,
    wanted: Factor,
    now: i64,
    extra: Vec<D1PreparedStatement>,
) -> Result<(Proof, Vec<D1Result>), ApiError> {
    let policy = state.config.otp_policy();
    let [reserve, read] = totp_factors::reserve_and_read(
        db,
        user_id,
        now,
        policy.max_failures_per_day,
        policy.failures_counted_since(now),
        wanted == Factor::Enabled,
    )?;
    let totp = matches!(code, SecondFactor::Totp(_));
    let mut statements = vec![reserve, read];
    let skip = statements.len();
    statements.extend(extra);
    let mut results = batch(db, statements, "check second factor").await?;
    let extra_results = results.split_off(skip);
    let stored = totp_factors::factor(
        results
            .last()
            .ok_or_else(|| ApiError::internal("check second factor", "no factor result"))?,
    )?;
    let stored = stored
        .filter(|f| f.enabled_at.is_some() == (wanted == Factor::Enabled))
        .ok_or(ApiError::MfaNotEnrolled)?;
    if !totp_factors::reserved(&results[0])? {
        return Err(ApiError::InvalidMfaCode);
    }
    let marker = random::identifier();
    let statements = match code {
        SecondFactor::Totp(typed) => {
            let (secret, stale) = unseal(state, user_id, &stored.secret_sealed)?;
            let last = (stored.last_used_step > 0).then_some(stored.last_used_step);
            let step = secret
                .verify(typed.expose(), now, last)
                .ok_or(ApiError::InvalidMfaCode)?;
            let mut statements =
                totp_factors::use_step(db, user_id, &marker, now, step, wanted == Factor::Enabled)?;
            if stale {
                // Sealed under a previous key: sealed again under the current one on this use.
                let resealed = seal(&state.config, user_id, &secret);
                statements.push(totp_factors::reseal(
                    db,
                    user_id,
                    &stored.secret_sealed,
                    &resealed,
                )?);
            }
            statements
        }
        SecondFactor::Recovery(recovery) => {
            let hashes = state
                .config
                .keys
                .candidates(|keys| recovery.keyed_hash(&keys.recovery_code, user_id));
            totp_factors::use_recovery(db, user_id, &marker, now, &hashes)?
        }
        SecondFactor::Unreadable => return Err(ApiError::InvalidMfaCode),
    };
    let proof = Proof {
        marker,
        statements,
        recovery: !totp,
    };
    Ok((proof, extra_results))
}

/// Takes a proof on its own, before a change that is not gated on it (the step-up of
/// `reauth.rs`): one round trip; `400 invalid_mfa_code` when a parallel request took the code.
pub async fn spend(db: &Db, user_id: i64, proof: Proof) -> Result<(), ApiError> {
    let mut statements = proof.statements;
    statements.push(totp_factors::proved(db, user_id, &proof.marker)?);
    let results = batch(db, statements, "spend second factor").await?;
    let taken = results
        .last()
        .map(totp_factors::took_effect)
        .transpose()?
        .unwrap_or(false);
    if taken {
        Ok(())
    } else {
        Err(ApiError::InvalidMfaCode)
    }
}

/// `secret` sealed for `user_id` under the current key, as stored: `{key id}.{sealed}`.
pub fn seal(config: &Config, user_id: i64, secret: &TotpSecret) -> String {
    let keys = config.keys.current();
    let sealed = secret_box::seal(
        &keys.totp_secret,
        random::bytes(),
        secret.expose(),
        &context(user_id),
    );
    format!("{}.{sealed}", keys.id)
}

/// The stored TOTP secret of `user_id`, opened under the key its id names (a value from before
/// key ids, under any key of the ring), and whether it should be sealed again under the current
/// key. A secret that does not open (its key left the ring, or tampering) is a server error: the
/// operator must know.
fn unseal(state: &State, user_id: i64, stored: &str) -> Result<(TotpSecret, bool), ApiError> {
    let ring = &state.config.keys;
    let (candidates, sealed): (Vec<&KeySet>, &str) = match stored.split_once('.') {
        Some((id, sealed)) => (ring.by_id(id).into_iter().collect(), sealed),
        None => (ring.all().iter().collect(), stored),
    };
    candidates
        .into_iter()
        .find_map(|keys| {
            let plain = secret_box::open(&keys.totp_secret, sealed, &context(user_id))?;
            let secret = TotpSecret::from_slice(&plain)?;
            Some((secret, keys.id != ring.current().id || !stored.contains('.')))
        })
        .ok_or_else(|| {
            state.log.event(
                Level::Error,
                format!(
                    "account {user_id}: TOTP secret does not decrypt (its JWT_SECRET left JWT_SECRET_PREVIOUS?)"
                ),
            );
            ApiError::internal("open totp secret", "does not decrypt")
        })
}

/// The associated data a TOTP secret is sealed with: its account.
pub fn context(user_id: i64) -> Vec<u8> {
    format!("totp-secret {user_id}").into_bytes()
}
