//! The `org_members` table: the members and their roles. A change of role and a removal are each
//! one statement that keeps an owner: the last one is never demoted or removed, whoever asks and
//! however many ask at once.

use serde::Deserialize;

use crate::edge::db::{batch, first, int, rows, statement, text, Db};
use crate::edge::error::ApiError;
use crate::edge::organizations::sql::organizations::Asker;

/// The members of `?4`, by when they joined, at most `?6`.
const LIST_SQL: &str = "SELECT m.user_id, u.email, u.name, m.role, m.joined_at \
    FROM org_members m JOIN users u ON u.id = m.user_id \
    WHERE m.org_id = ?4 ORDER BY m.joined_at, m.user_id LIMIT ?6";

/// Whether account `?1` is the last owner of an organization.
const LAST_OWNER_SQL: &str = "SELECT EXISTS (SELECT 1 FROM org_members m \
    WHERE m.user_id = ?1 AND m.role = 'owner' \
      AND (SELECT COUNT(*) FROM org_members o WHERE o.org_id = m.org_id AND o.role = 'owner') = 1) AS last";
/// The role of member `?6` (for the operator, who has no scene).
const ROLE_OF_SQL: &str = "SELECT role FROM org_members WHERE org_id = ?4 AND user_id = ?6";

// A change. ?6 the member, ?7 the member's role it was decided on, ?8 the new role.
/// The member `?6` gets role `?8`, if they still hold `?7`, and an owner stays.
const CHANGE_ROLE_SQL: &str = concat!(
    "UPDATE org_members SET role = ?8 WHERE org_id = ?4 AND user_id = ?6 AND role = ?7 \
      AND (?7 <> 'owner' OR ?8 = 'owner' OR (SELECT COUNT(*) FROM org_members o \
        WHERE o.org_id = ?4 AND o.role = 'owner') > 1) AND ",
    actor_holds_role!(),
    " RETURNING user_id, role, joined_at"
);
/// The member `?6` leaves or is removed, if they still hold `?7`, and an owner stays.
const REMOVE_SQL: &str = concat!(
    "DELETE FROM org_members WHERE org_id = ?4 AND user_id = ?6 AND role = ?7 \
      AND (?7 <> 'owner' OR (SELECT COUNT(*) FROM org_members o \
        WHERE o.org_id = ?4 AND o.role = 'owner') > 1) AND ",
    actor_holds_role!(),
    " RETURNING user_id, role, joined_at"
);
/// A removed member's teams go with them.
const REMOVE_FROM_TEAMS_SQL: &str =
    "DELETE FROM org_team_members WHERE org_id = ?4 AND user_id = ?6 \
    AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = ?4 AND m.user_id = ?6)";
/// The member `?6` as listed, after a change of role.
const MEMBER_SQL: &str = "SELECT m.user_id, u.email, u.name, m.role, m.joined_at \
    FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = ?4 AND m.user_id = ?6";
/// After a change that did not happen: whether the member still holds `?7`, and the owners.
const CHANGE_OUTCOME_SQL: &str = "SELECT \
      EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = ?4 AND m.user_id = ?6 AND m.role = ?7) AS unchanged, \
      (SELECT COUNT(*) FROM org_members o WHERE o.org_id = ?4 AND o.role = 'owner') AS owners";

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    LIST_SQL,
    LAST_OWNER_SQL,
    ROLE_OF_SQL,
    CHANGE_ROLE_SQL,
    REMOVE_SQL,
    REMOVE_FROM_TEAMS_SQL,
    MEMBER_SQL,
    CHANGE_OUTCOME_SQL,
];

/// A member as listed.
#[derive(Debug, Deserialize)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub joined_at: i64,
}

pub async fn list(db: &Db, asker: &Asker<'_>, limit: i64) -> Result<Vec<Member>, ApiError> {
    let args = asker.with([int(limit)]);
    let results = batch(db, vec![statement(db, LIST_SQL, &args)?], "list members").await?;
    rows(&results[0], "read members")
}

/// Whether account `user_id` is the last owner of an organization (its deletion is refused).
pub async fn last_owner(db: &Db, user_id: i64) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Last {
        last: i64,
    }
    let found: Option<Last> = first(
        db,
        statement(db, LAST_OWNER_SQL, &[int(user_id)])?,
        "read last owner",
    )
    .await?;
    Ok(found.is_some_and(|f| f.last == 1))
}

/// Member `user_id`'s role, if they are one.
pub async fn role_of(db: &Db, asker: &Asker<'_>, user_id: i64) -> Result<Option<String>, ApiError> {
    #[derive(Deserialize)]
    struct Held {
        role: String,
    }
    let args = asker.with([int(user_id)]);
    let held: Option<Held> =
        first(db, statement(db, ROLE_OF_SQL, &args)?, "read member role").await?;
    Ok(held.map(|h| h.role))
}

/// A change of a membership: a new role, or none (removal).
pub struct Change<'a> {
    pub member: i64,
    pub from: &'a str,
    pub to: Option<&'a str>,
}

/// How a change ended.
pub enum Outcome {
    /// The member after it (as they were, for a removal).
    Done(Member),
    /// The last owner would have gone.
    LastOwner,
    /// The member's or the caller's role changed since the decision (or either left).
    Moved,
}

pub async fn change(db: &Db, asker: &Asker<'_>, change: &Change<'_>) -> Result<Outcome, ApiError> {
    #[derive(Deserialize)]
    struct After {
        unchanged: i64,
        owners: i64,
    }
    let args = asker.with([
        int(change.member),
        text(change.from),
        text(change.to.unwrap_or("")),
    ]);
    // The member is read before a removal, after a change of role.
    let steps: &[&'static str] = match change.to {
        Some(_) => &[CHANGE_ROLE_SQL, MEMBER_SQL, CHANGE_OUTCOME_SQL],
        None => &[
            MEMBER_SQL,
            REMOVE_SQL,
            REMOVE_FROM_TEAMS_SQL,
            CHANGE_OUTCOME_SQL,
        ],
    };
    let statements = steps
        .iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "change membership").await?;
    let (write, read) = match change.to {
        Some(_) => (0, 1),
        None => (1, 0),
    };
    let done = !rows::<serde_json::Value>(&results[write], "read membership change")?.is_empty();
    let member = rows::<Member>(&results[read], "read member")?
        .into_iter()
        .next();
    if let (true, Some(member)) = (done, member) {
        return Ok(Outcome::Done(member));
    }
    let after = results
        .last()
        .map(|last| rows::<After>(last, "read membership outcome"))
        .transpose()?
        .and_then(|found| found.into_iter().next())
        .ok_or_else(|| ApiError::internal("read membership outcome", "no row"))?;
    let demotes_owner = change.from == "owner" && change.to != Some("owner");
    Ok(
        if after.unchanged == 1 && demotes_owner && after.owners <= 1 {
            Outcome::LastOwner
        } else {
            Outcome::Moved
        },
    )
}
