//! The organization a consent attaches to its grant (the `organization` scope): one the person
//! chose on the consent page among the organizations they are a member of, checked again against
//! their memberships when the form comes back, so a forged id attaches nothing.

/// The consent form's field that carries the choice.
pub const FIELD: &str = "organization";

/// A posted choice that is none of the person's organizations (forged, repeated, or missing
/// while they have some to choose from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAChoice;

/// The organization the consent attaches, from the values posted in [`FIELD`] and the ids of the
/// person's organizations now: exactly one of those, or none for a person in no organization.
pub fn chosen<'a>(posted: &[&str], member_of: &[&'a str]) -> Result<Option<&'a str>, NotAChoice> {
    match posted {
        [] if member_of.is_empty() => Ok(None),
        [one] => member_of
            .iter()
            .find(|id| *id == one)
            .map(|id| Some(*id))
            .ok_or(NotAChoice),
        _ => Err(NotAChoice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_the_persons_organizations_or_none_when_they_have_none() {
        let mine = ["org-a", "org-b"];
        assert_eq!(chosen(&["org-b"], &mine), Ok(Some("org-b")));
        assert_eq!(chosen(&[], &[]), Ok(None), "in no organization: none");
        for (posted, why) in [
            (&["org-x"][..], "an organization the person is not in"),
            (&[][..], "no choice while there are some"),
            (&["org-a", "org-b"][..], "two choices"),
            (&["org-a", "org-a"][..], "the field repeated"),
            (&[""][..], "an empty choice"),
        ] {
            assert_eq!(chosen(posted, &mine), Err(NotAChoice), "{why}");
        }
        assert_eq!(
            chosen(&["org-a"], &[]),
            Err(NotAChoice),
            "a choice from a person in no organization"
        );
    }
}
