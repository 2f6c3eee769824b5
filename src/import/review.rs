//! What each Flask row becomes: an account to import with the worker's own normalisation, or a
//! reason to skip it.

use std::collections::HashMap;

use crate::core::accounts::email::Email;
use crate::core::accounts::name::Name;
use crate::core::passwords::password_hash::{bcrypt_cost, is_usable_bcrypt, MAX_BCRYPT_COST};
use crate::import::source::FlaskUser;

/// An account ready to insert: normalised email, the bcrypt hash as it was, a valid name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub email: String,
    pub password_hash: String,
    pub name: Option<String>,
}

/// Why a row is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    InvalidEmail(String),
    /// The normalised email of this row is also the email of these other rows.
    Collision {
        email: String,
        other_ids: Vec<i64>,
    },
    UnusableHash,
    CostTooHigh(u32),
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidEmail(why) => write!(f, "invalid email ({why})"),
            Self::Collision { email, other_ids } => {
                let ids: Vec<String> = other_ids.iter().map(i64::to_string).collect();
                write!(
                    f,
                    "email {email} collides after normalisation with id {}",
                    ids.join(", ")
                )
            }
            Self::UnusableHash => f.write_str("the password is not a usable bcrypt hash"),
            Self::CostTooHigh(cost) => write!(
                f,
                "the password is a bcrypt hash of cost {cost}, above {MAX_BCRYPT_COST}: \
                 too slow to verify in a Worker"
            ),
        }
    }
}

/// A row's fate, with a note when something was dropped but the account kept (a name the worker
/// would refuse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    pub outcome: Result<Account, Skip>,
    pub note: Option<String>,
}

/// The rows of each normalised email, from a first pass over the table (emails only in memory).
#[derive(Debug, Default)]
pub struct EmailOwners(HashMap<String, Vec<i64>>);

impl EmailOwners {
    pub fn record(&mut self, user: &FlaskUser) {
        if let Some(email) = user.email.as_deref().and_then(|e| Email::parse(e).ok()) {
            self.0
                .entry(email.as_str().to_owned())
                .or_default()
                .push(user.id);
        }
    }

    fn others(&self, email: &str, id: i64) -> Vec<i64> {
        self.0
            .get(email)
            .map(|ids| ids.iter().copied().filter(|other| *other != id).collect())
            .unwrap_or_default()
    }
}

/// Reviews one row against the worker's rules. Colliding rows are all skipped: which of them owns
/// the mailbox cannot be told from the table, so none is imported half-right.
pub fn review(user: &FlaskUser, owners: &EmailOwners) -> Reviewed {
    let email = match user.email.as_deref().map(Email::parse) {
        None => return skipped(Skip::InvalidEmail("missing".to_owned())),
        Some(Err(violation)) => return skipped(Skip::InvalidEmail(violation.message)),
        Some(Ok(email)) => email,
    };
    let other_ids = owners.others(email.as_str(), user.id);
    if !other_ids.is_empty() {
        return skipped(Skip::Collision {
            email: email.as_str().to_owned(),
            other_ids,
        });
    }
    let cost = user.password.as_deref().and_then(bcrypt_cost);
    if let Some(cost) = cost.filter(|cost| *cost > MAX_BCRYPT_COST) {
        return skipped(Skip::CostTooHigh(cost));
    }
    let Some(hash) = user.password.as_deref().filter(|h| is_usable_bcrypt(h)) else {
        return skipped(Skip::UnusableHash);
    };
    let (name, note) = match user.name.as_deref().map(|raw| Name::parse("name", raw)) {
        None => (None, None),
        Some(Ok(name)) => (name.into_stored(), None),
        Some(Err(violation)) => (None, Some(format!("name dropped: {}", violation.message))),
    };
    Reviewed {
        outcome: Ok(Account {
            email: email.as_str().to_owned(),
            password_hash: hash.to_owned(),
            name,
        }),
        note,
    }
}

fn skipped(skip: Skip) -> Reviewed {
    Reviewed {
        outcome: Err(skip),
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2b$04$hNwDnKep.H803z72aJDaZuNorzIhyC7TqoqU2nJBtr1y0u0CIPhVi";

    fn user(id: i64, email: Option<&str>, password: Option<&str>, name: Option<&str>) -> FlaskUser {
        FlaskUser {
            id,
            email: email.map(str::to_owned),
            password: password.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    }

    fn reviewed(rows: &[FlaskUser]) -> Vec<Reviewed> {
        let mut owners = EmailOwners::default();
        rows.iter().for_each(|row| owners.record(row));
        rows.iter().map(|row| review(row, &owners)).collect()
    }

    #[test]
    fn a_good_row_is_normalised_and_its_hash_kept() {
        let [r] = reviewed(&[user(
            1,
            Some(" Ann@Example.COM "),
            Some(HASH),
            Some(" Ann "),
        )])
        .try_into()
        .unwrap();
        assert_eq!(
            r.outcome,
            Ok(Account {
                email: "ann@example.com".into(),
                password_hash: HASH.into(),
                name: Some("Ann".into())
            })
        );
        assert_eq!(r.note, None);
    }

    #[test]
    fn bad_rows_are_skipped_with_a_reason() {
        let rows = [
            user(1, Some("dup@example.com"), Some(HASH), None),
            user(2, Some("DUP@example.com "), Some(HASH), None),
            user(3, Some("not an email"), Some(HASH), None),
            user(4, None, Some(HASH), None),
            user(5, Some("plain@example.com"), Some("hunter2"), None),
            user(6, Some("nohash@example.com"), None, None),
        ];
        let results = reviewed(&rows);
        assert!(
            matches!(&results[0].outcome, Err(Skip::Collision { other_ids, .. }) if other_ids == &[2])
        );
        assert!(
            matches!(&results[1].outcome, Err(Skip::Collision { other_ids, .. }) if other_ids == &[1])
        );
        assert!(matches!(results[2].outcome, Err(Skip::InvalidEmail(_))));
        assert!(matches!(results[3].outcome, Err(Skip::InvalidEmail(_))));
        assert_eq!(results[4].outcome, Err(Skip::UnusableHash));
        assert_eq!(results[5].outcome, Err(Skip::UnusableHash));
    }

    #[test]
    fn a_name_the_worker_would_refuse_is_dropped_not_the_account() {
        let long = "n".repeat(101);
        let [r] = reviewed(&[user(1, Some("a@example.com"), Some(HASH), Some(&long))])
            .try_into()
            .unwrap();
        assert_eq!(r.outcome.unwrap().name, None);
        assert!(r.note.unwrap().contains("name dropped"));
    }
}
