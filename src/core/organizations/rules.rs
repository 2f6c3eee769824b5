//! Who may change whose membership. Pure rules over roles; the rules that need the whole
//! organization (at least one owner always, the member cap) are conditions of the statements
//! that change it, so they hold under concurrent requests.

use crate::core::organizations::roles::{Rank, Role};

/// Why a change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The actor's role lacks the permission the change needs.
    NotAllowed,
    /// The change would give or touch a role above the actor's own.
    AboveOwnRole,
}

/// Whether `actor` may give `to` to a member who holds `from` (`None`: a new member, by
/// invitation). An admin may give member, admin and custom roles; only an owner gives or takes
/// the owner role.
pub fn may_assign(actor: &Role, from: Option<&Role>, to: &Role) -> Result<(), Refusal> {
    let needed = if from.is_some() {
        "members:update"
    } else {
        "members:invite"
    };
    if !actor.allows(needed) {
        return Err(Refusal::NotAllowed);
    }
    let touches_owner = to.rank == Rank::Owner || from.is_some_and(|f| f.rank == Rank::Owner);
    if to.rank > actor.rank || from.is_some_and(|f| f.rank > actor.rank) {
        return Err(Refusal::AboveOwnRole);
    }
    if touches_owner && !actor.allows("owners:manage") {
        return Err(Refusal::AboveOwnRole);
    }
    Ok(())
}

/// Whether `actor` may remove a member holding `target`; anyone may leave (`is_self`), though the
/// last owner may not (a condition of the statement).
pub fn may_remove(actor: &Role, target: &Role, is_self: bool) -> Result<(), Refusal> {
    if is_self {
        return Ok(());
    }
    if !actor.allows("members:remove") {
        return Err(Refusal::NotAllowed);
    }
    if target.rank > actor.rank || (target.rank == Rank::Owner && !actor.allows("owners:manage")) {
        return Err(Refusal::AboveOwnRole);
    }
    Ok(())
}

/// Whether `actor` may give a member `role` in a team (or take it away): a manager of teams, never
/// above its own rank.
pub fn may_manage_team(actor: &Role, role: &Role) -> Result<(), Refusal> {
    if !actor.allows("teams:manage") {
        return Err(Refusal::NotAllowed);
    }
    if role.rank > actor.rank {
        return Err(Refusal::AboveOwnRole);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::organizations::roles::{Roles, ADMIN, MEMBER, OWNER};

    fn roles() -> (Role, Role, Role, Role) {
        let roles = Roles::parse(Some(r#"{"billing": ["invoices:read"]}"#)).unwrap();
        (
            roles.get(OWNER).unwrap(),
            roles.get(ADMIN).unwrap(),
            roles.get(MEMBER).unwrap(),
            roles.get("billing").unwrap(),
        )
    }

    #[test]
    fn an_admin_invites_and_promotes_up_to_admin_never_to_owner() {
        let (owner, admin, member, billing) = roles();
        assert_eq!(may_assign(&admin, None, &member), Ok(()));
        assert_eq!(may_assign(&admin, None, &billing), Ok(()));
        assert_eq!(may_assign(&admin, None, &admin), Ok(()));
        assert_eq!(may_assign(&admin, None, &owner), Err(Refusal::AboveOwnRole));
        assert_eq!(
            may_assign(&admin, Some(&owner), &member),
            Err(Refusal::AboveOwnRole)
        );
        assert_eq!(may_assign(&owner, Some(&owner), &member), Ok(()));
        assert_eq!(may_assign(&owner, None, &owner), Ok(()));
        assert_eq!(may_assign(&member, None, &member), Err(Refusal::NotAllowed));
        assert_eq!(
            may_assign(&billing, Some(&member), &billing),
            Err(Refusal::NotAllowed)
        );
    }

    #[test]
    fn members_leave_admins_remove_below_owner_owners_remove_anyone() {
        let (owner, admin, member, _) = roles();
        assert_eq!(may_remove(&member, &member, true), Ok(()));
        assert_eq!(may_remove(&member, &admin, false), Err(Refusal::NotAllowed));
        assert_eq!(may_remove(&admin, &member, false), Ok(()));
        assert_eq!(may_remove(&admin, &admin, false), Ok(()));
        assert_eq!(
            may_remove(&admin, &owner, false),
            Err(Refusal::AboveOwnRole)
        );
        assert_eq!(may_remove(&owner, &owner, false), Ok(()));
    }

    #[test]
    fn team_roles_are_given_by_managers_of_teams_up_to_their_own() {
        let (owner, admin, member, billing) = roles();
        assert_eq!(may_manage_team(&admin, &admin), Ok(()));
        assert_eq!(may_manage_team(&admin, &billing), Ok(()));
        assert_eq!(may_manage_team(&admin, &owner), Err(Refusal::AboveOwnRole));
        assert_eq!(may_manage_team(&owner, &owner), Ok(()));
        assert_eq!(may_manage_team(&member, &member), Err(Refusal::NotAllowed));
    }
}
