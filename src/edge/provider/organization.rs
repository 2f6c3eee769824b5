//! The consent's organization (the `organization` scope): the person's organizations offered on
//! the consent page, and the posted choice checked against their memberships as they are when the
//! form comes back (`core/provider/organization.rs`).

use worker::Response;

use crate::core::provider::authorize::Authorization;
use crate::core::provider::organization::{self as rules, NotAChoice, FIELD};
use crate::core::provider::scopes::ORGANIZATION;
use crate::edge::db::Db;
use crate::edge::error::ApiError;
use crate::edge::organizations::sql::organizations::{mine, Asker};
use crate::edge::provider::pages::{error_page, OrgChoice};
use crate::edge::provider::sql::grants::Browser;

/// The person's organizations, for a request that asks for `organization` (`None` when it does
/// not): one read of their memberships.
pub async fn choices(
    db: &Db,
    request: &Authorization,
    browser: &Browser,
    now: i64,
) -> Result<Option<Vec<OrgChoice>>, ApiError> {
    if !request.scope.contains(ORGANIZATION) {
        return Ok(None);
    }
    let asker = Asker {
        session: Some((&browser.id, browser.user_id)),
        now,
        org_id: "",
        role: None,
    };
    let found = mine(db, &asker).await?.unwrap_or_default();
    Ok(Some(
        found
            .into_iter()
            .filter_map(|row| {
                Some(OrgChoice {
                    id: row.org_id?,
                    name: row.org_name.unwrap_or_default(),
                    role: row.actor_role.unwrap_or_default(),
                })
            })
            .collect(),
    ))
}

/// The organization the consent attaches: for a request that asks for `organization`, the one
/// posted in `pairs`, if the person is a member of it now; none otherwise. `Err` is the answer
/// already: a choice that is none of theirs (a forged id) is refused with an error page, as a
/// form that expired is.
pub async fn chosen(
    db: &Db,
    request: &Authorization,
    pairs: &[(String, String)],
    browser: &Browser,
    now: i64,
) -> Result<Result<Option<String>, Response>, ApiError> {
    let Some(theirs) = choices(db, request, browser, now).await? else {
        return Ok(Ok(None));
    };
    let ids: Vec<&str> = theirs.iter().map(|org| org.id.as_str()).collect();
    let posted: Vec<&str> = pairs
        .iter()
        .filter(|(name, _)| name == FIELD)
        .map(|(_, value)| value.as_str())
        .collect();
    match rules::chosen(&posted, &ids) {
        Ok(org) => Ok(Ok(org.map(str::to_owned))),
        Err(NotAChoice) => Ok(Err(error_page(
            400,
            "This organization cannot be chosen",
            "Choose one of your organizations: go back to the app and start signing in again.",
        ))),
    }
}
