//! Sign-in codes: the `sign_in` rows of the one code table (`email_codes`) and of `code_events`.
//! Unlike the other purposes they are keyed by address, since an address may have no account
//! yet (sign-up by email); every address, known or not, gets the same row, cooldown and caps,
//! so nothing here tells a stranger which addresses have accounts. The rules are those of every
//! emailed code: keyed hash, single use, expiry, tries per code, a budget of wrong tries per
//! address per day and a mail cap per address per hour; and a mail cap per client address, so
//! one client cannot mail address after address (OWASP Forgot Password Cheat Sheet). A code's
//! row may carry a link: its token's keyed hash, the app's PKCE challenge and its page.

use serde::Deserialize;
use worker::D1Result;

use crate::core::codes::otp::OtpPolicy;
use crate::edge::codes::sql::email_codes::issue_rules;
use crate::edge::codes::sql::first_proof;
use crate::edge::codes::sql::first_proof::Removed;
use crate::edge::db::{batch, int, nullable_text, rows, statement, text, took_effect, Db};
use crate::edge::error::ApiError;

/// Sign-in mails one client address may cause per hour, across addresses.
pub const MAILS_PER_CLIENT_PER_HOUR: i64 = 10;

// The start batch. Arguments: ?1 address, ?2 code hash, ?3 now, ?4 expiry, ?5 cooldown start,
// ?6 budget of wrong tries, ?7 budget start, ?8 mails per hour, ?9 mail cap start, ?10 link
// hash, ?11 the app's challenge, ?12 the link's page (the last three NULL without a link),
// ?13 client address, ?14 mails per client per hour.
/// 1. A new code for the address, replacing any earlier one, unless one was issued after `?5`
///    and is unused (the cooldown), the address spent its budget of wrong tries, or was mailed
///    `?8` codes this hour, or the client caused `?14` sign-in mails this hour.
const ISSUE_SQL: &str = "INSERT INTO email_codes (user_id, purpose, code_hash, new_email, \
      issued_at, expires_at, wrong_attempts, used_by, address, link_hash, code_challenge, redirect_to) \
    SELECT NULL, 'sign_in', ?2, NULL, ?3, ?4, 0, NULL, ?1, ?10, ?11, ?12 \
    WHERE (SELECT COUNT(*) FROM code_events e WHERE e.address = ?1 AND e.purpose = 'sign_in' \
        AND e.kind = 'wrong' AND e.at > ?7) < ?6 \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.address = ?1 AND e.purpose = 'sign_in' \
        AND e.kind = 'sent' AND e.at > ?9) < ?8 \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.client = ?13 AND e.purpose = 'sign_in' \
        AND e.kind = 'sent' AND e.at > ?9) < ?14 \
    ON CONFLICT (address, purpose) DO UPDATE SET code_hash = excluded.code_hash, \
      issued_at = excluded.issued_at, expires_at = excluded.expires_at, wrong_attempts = 0, \
      used_by = NULL, link_hash = excluded.link_hash, code_challenge = excluded.code_challenge, \
      redirect_to = excluded.redirect_to \
    WHERE email_codes.issued_at <= ?5 OR email_codes.used_by IS NOT NULL \
    RETURNING address";
/// 2. The mail it causes, for both caps.
const RECORD_SENT_SQL: &str =
    "INSERT INTO code_events (user_id, purpose, kind, at, address, client) \
    SELECT NULL, 'sign_in', 'sent', ?3, ?1, ?13 FROM email_codes \
    WHERE address = ?1 AND purpose = 'sign_in' AND code_hash = ?2 AND issued_at = ?3";
/// 3. Whether the address has an account: which mail goes (never what the answer says).
const KNOWN_SQL: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE email = ?1) AS known";

/// The use of a code, by address `?1` (or of a link, by its hash `?2` and the app's challenge
/// `?10`), shares these conditions: live, unused, within the code's tries `?4` and the address's
/// budget `?6` since `?7`, for an address with an account or while sign-up `?9` is on, and not
/// locked out for the client `?8` (a locked-out address stays locked out whichever way in).
macro_rules! usable {
    () => {
        "purpose = 'sign_in' AND used_by IS NULL AND expires_at > ?3 AND wrong_attempts < ?4 \
          AND (SELECT COUNT(*) FROM code_events e WHERE e.address = email_codes.address \
            AND e.purpose = 'sign_in' AND e.kind = 'wrong' AND e.at > ?7) < ?6 \
          AND (?9 = 1 OR EXISTS (SELECT 1 FROM users u WHERE u.email = email_codes.address)) \
          AND NOT EXISTS (SELECT 1 FROM login_attempts l WHERE l.email = email_codes.address \
            AND l.client IN (?8, '*') AND l.locked_until > ?3)"
    };
}

// The sign-in batches. Arguments: ?1 address ('' for a link), ?2 the presented code's or link's
// hashes (a JSON array, `Keyring::candidates`), ?3 now, ?4 tries per code, ?5 this request's
// marker, ?6 budget of wrong tries, ?7 budget start, ?8 client address, ?9 sign-up on (1 or 0),
// ?10 the challenge of the presented verifier ('' for a code).
/// 1. The code is used by this request, if right and usable.
const USE_CODE_SQL: &str = concat!(
    "UPDATE email_codes SET used_by = ?5 WHERE address = ?1 AND ",
    usable!(),
    " AND code_hash IN (SELECT value FROM json_each(?2))"
);
/// 1. The link is used by this request, if its token and the app's verifier are right and it is
///    usable. A wrong verifier spends nothing: it is a 256-bit secret nobody can guess.
const USE_LINK_SQL: &str = concat!(
    "UPDATE email_codes SET used_by = ?5 WHERE link_hash IN (SELECT value FROM json_each(?2)) \
      AND code_challenge = ?10 AND ",
    usable!()
);
/// 2. A wrong code at a live code counts against the address's budget, while it lasts ...
const RECORD_WRONG_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at, address) \
    SELECT NULL, 'sign_in', 'wrong', ?3, ?1 FROM email_codes \
    WHERE address = ?1 AND purpose = 'sign_in' AND used_by IS NULL AND expires_at > ?3 \
      AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?2)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.address = ?1 AND e.purpose = 'sign_in' \
        AND e.kind = 'wrong' AND e.at > ?7) < ?6";
/// 3. ... and against the code's own tries.
const COUNT_WRONG_SQL: &str = "UPDATE email_codes SET wrong_attempts = wrong_attempts + 1 \
    WHERE address = ?1 AND purpose = 'sign_in' AND used_by IS NULL AND expires_at > ?3 \
      AND wrong_attempts < ?4 AND code_hash NOT IN (SELECT value FROM json_each(?2))";
/// 4. An address without an account gets one, verified and without a password (`''` verifies
///    nothing), if this request used its code and sign-up is on.
const CREATE_ACCOUNT_SQL: &str = "INSERT INTO users \
      (email, password_hash, name, created_at, updated_at, email_verified_at) \
    SELECT c.address, '', NULL, ?3, ?3, ?3 FROM email_codes c WHERE c.used_by = ?5 AND ?9 = 1 \
    ON CONFLICT (email) DO NOTHING RETURNING id";
/// 5. The code came through the mailbox: the address is verified (a row if this request did it).
const MARK_VERIFIED_SQL: &str = "UPDATE users SET email_verified_at = ?3 \
    WHERE email = (SELECT c.address FROM email_codes c WHERE c.used_by = ?5) \
      AND email_verified_at IS NULL RETURNING id";
/// 6. The outcome of a code: the address, if this request used it, and the end of a lockout
///    that refused it.
const CODE_OUTCOME_SQL: &str = "SELECT \
      (SELECT c.address FROM email_codes c WHERE c.used_by = ?5) AS used, \
      (SELECT MAX(l.locked_until) FROM login_attempts l WHERE l.email = ?1 \
        AND l.client IN (?8, '*') AND l.locked_until > ?3) AS locked_until";
/// 6. The outcome of a link, likewise.
const LINK_OUTCOME_SQL: &str = "SELECT \
      (SELECT c.address FROM email_codes c WHERE c.used_by = ?5) AS used, \
      (SELECT MAX(l.locked_until) FROM email_codes c JOIN login_attempts l ON l.email = c.address \
        WHERE c.link_hash IN (SELECT value FROM json_each(?2)) AND c.code_challenge = ?10 \
          AND l.client IN (?8, '*') AND l.locked_until > ?3) AS locked_until";

const START_BATCH: [&str; 3] = [ISSUE_SQL, RECORD_SENT_SQL, KNOWN_SQL];
const CODE_BATCH: [&str; 6] = [
    USE_CODE_SQL,
    RECORD_WRONG_SQL,
    COUNT_WRONG_SQL,
    CREATE_ACCOUNT_SQL,
    MARK_VERIFIED_SQL,
    CODE_OUTCOME_SQL,
];
const LINK_BATCH: [&str; 4] = [
    USE_LINK_SQL,
    CREATE_ACCOUNT_SQL,
    MARK_VERIFIED_SQL,
    LINK_OUTCOME_SQL,
];

/// Every statement of this module, once each, for the query-plan check.
pub const STATEMENTS: [&[&str]; 3] = [&START_BATCH, &CODE_BATCH, &[USE_LINK_SQL, LINK_OUTCOME_SQL]];

/// A sign-in code to store: its hash and, for a link, the token's hash, the app's challenge and
/// its page.
pub struct NewSignIn<'a> {
    pub address: &'a str,
    pub code_hash: &'a str,
    pub link: Option<NewLink<'a>>,
    pub client: &'a str,
}

pub struct NewLink<'a> {
    pub link_hash: &'a str,
    pub code_challenge: &'a str,
    pub redirect_to: &'a str,
}

/// What storing a code found.
#[derive(Debug, PartialEq, Eq)]
pub enum Issued {
    /// Stored: its mail must go; `known` says whether the address has an account.
    Stored { known: bool },
    /// The cooldown, a cap or the budget holds: no mail.
    Held,
}

/// Stores a sign-in code within the cooldown, the caps and the budget of `policy`.
pub async fn issue(
    db: &Db,
    sign_in: &NewSignIn<'_>,
    now: i64,
    policy: &OtpPolicy,
) -> Result<Issued, ApiError> {
    #[derive(Deserialize)]
    struct Known {
        known: i64,
    }
    let link = sign_in.link.as_ref();
    let mut args = vec![text(sign_in.address), text(sign_in.code_hash)];
    args.extend(issue_rules(now, policy));
    args.extend([
        nullable_text(link.map(|l| l.link_hash)),
        nullable_text(link.map(|l| l.code_challenge)),
        nullable_text(link.map(|l| l.redirect_to)),
        text(sign_in.client),
        int(MAILS_PER_CLIENT_PER_HOUR),
    ]);
    let statements = START_BATCH
        .into_iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let [stored, _sent, known] =
        <[D1Result; 3]>::try_from(batch(db, statements, "issue sign-in code").await?)
            .map_err(|_| ApiError::internal("issue sign-in code", "results"))?;
    if !took_effect(&stored, "read sign-in code")? {
        return Ok(Issued::Held);
    }
    let known = rows::<Known>(&known, "read known address")?
        .first()
        .is_some_and(|row| row.known == 1);
    Ok(Issued::Stored { known })
}

/// What was presented: a code for an address, or a link's token with the app's verifier.
pub enum Presented<'a> {
    Code { address: &'a str },
    Link { code_challenge: &'a str },
}

/// One try at a sign-in code or link: `hashes` are the presented secret's (`Keyring::candidates`).
pub struct Try<'a> {
    pub presented: Presented<'a>,
    pub hashes: &'a str,
    pub marker: &'a str,
    pub client: &'a str,
    pub sign_up: bool,
}

/// What a try did.
#[derive(Debug, PartialEq, Eq)]
pub enum Tried {
    /// This request used the code: the address, whether its account was created now or its
    /// address verified now (its first proof), and what that first proof removed.
    Used {
        address: String,
        created: bool,
        verified: bool,
        removed: Removed,
    },
    /// A lockout of the address holds until this moment; nothing was used.
    LockedOut { until: i64 },
    /// Wrong, used, expired, out of tries, or not for an account: one answer.
    Refused,
}

/// Checks and uses a code or link in one batch, so of parallel tries exactly one uses it and
/// wrong tries are counted exactly; a right one verifies the address (after the first proof's
/// clean-up) and, with sign-up on, creates its account.
pub async fn try_sign_in(
    db: &Db,
    attempt: &Try<'_>,
    now: i64,
    policy: &OtpPolicy,
) -> Result<Tried, ApiError> {
    #[derive(Deserialize)]
    struct Outcome {
        used: Option<String>,
        locked_until: Option<i64>,
    }
    let (address, challenge, sqls): (&str, &str, &[&str]) = match attempt.presented {
        Presented::Code { address } => (address, "", &CODE_BATCH),
        Presented::Link { code_challenge } => ("", code_challenge, &LINK_BATCH),
    };
    let args = [
        text(address),
        text(attempt.hashes),
        int(now),
        int(policy.max_attempts),
        text(attempt.marker),
        int(policy.max_failures_per_day),
        int(policy.failures_counted_since(now)),
        text(attempt.client),
        int(i64::from(attempt.sign_up)),
        text(challenge),
    ];
    let (use_code, rest) = sqls
        .split_first()
        .ok_or_else(|| ApiError::internal("sign in by email", "no statements"))?;
    let mut statements = vec![statement(db, use_code, &args)?];
    // Between the code's use and the address's verification: the first proof's clean-up.
    statements.extend(first_proof::statements(db, attempt.marker)?);
    let proof = 1..statements.len();
    for sql in rest {
        statements.push(statement(db, sql, &args)?);
    }
    let results = batch(db, statements, "sign in by email").await?;
    // Both batches end with CREATE_ACCOUNT_SQL, MARK_VERIFIED_SQL and their outcome.
    let [.., created, verified, outcome] = results.as_slice() else {
        return Err(ApiError::internal("sign in by email", "no outcome"));
    };
    let outcome = rows::<Outcome>(outcome, "read sign-in outcome")?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("sign in by email", "no outcome"))?;
    Ok(match outcome {
        Outcome {
            used: Some(address),
            ..
        } => Tried::Used {
            address,
            created: took_effect(created, "read new account")?,
            verified: took_effect(verified, "read verified address")?,
            removed: Removed::read(&results[proof])?,
        },
        Outcome {
            locked_until: Some(until),
            ..
        } => Tried::LockedOut { until },
        _ => Tried::Refused,
    })
}
