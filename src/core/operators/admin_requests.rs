//! The admin API's requests, read and checked: the account list's query, a new account, an
//! account's edits, a disable. Every refused field is named at once, as for the user routes.

use serde_json::Value;

use crate::core::accounts::email::Email;
use crate::core::accounts::name::Name;
use crate::core::body::Body;
use crate::core::passwords::password::NewPassword;
use crate::core::violation::refused;
use crate::core::violation::{Violation, Violations};

/// The longest page of the list.
pub const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: i64 = 50;
/// The longest disable reason.
const MAX_REASON_CHARS: usize = 200;

/// `GET /admin/users?…`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// The id after which the page starts (the previous page's `next_cursor`).
    pub cursor: i64,
    pub limit: i64,
    pub email_prefix: Option<String>,
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    pub disabled: Option<bool>,
    pub verified: Option<bool>,
}

impl UserQuery {
    /// Reads the query's pairs; unknown names are ignored.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Violations> {
        let mut query = Self {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        };
        let mut errors = Vec::new();
        for (name, value) in pairs {
            let read = match name {
                "cursor" => page_cursor("cursor", value).map(|c| query.cursor = c),
                "limit" => page_limit(value).map(|n| query.limit = n),
                "email_prefix" => {
                    query.email_prefix =
                        Some(value.trim().to_lowercase()).filter(|p| !p.is_empty());
                    Ok(())
                }
                "created_after" => {
                    time("created_after", value).map(|t| query.created_after = Some(t))
                }
                "created_before" => {
                    time("created_before", value).map(|t| query.created_before = Some(t))
                }
                "disabled" => yes_no("disabled", value).map(|b| query.disabled = Some(b)),
                "verified" => yes_no("verified", value).map(|b| query.verified = Some(b)),
                _ => Ok(()),
            };
            if let Err(e) = read {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(Violations(errors))
        }
    }

    /// The emails with the prefix, as a half-open range in the index's (byte) order.
    pub fn email_range(&self) -> Option<(String, String)> {
        self.email_prefix
            .as_ref()
            .map(|prefix| (prefix.clone(), format!("{prefix}\u{10FFFF}")))
    }
}

/// `cursor` and `limit` of a page of events (`GET /me/events`, the admin's trail).
#[derive(Debug, PartialEq, Eq)]
pub struct PageQuery {
    pub cursor: Option<i64>,
    pub limit: i64,
}

impl PageQuery {
    /// Reads the query's pairs; unknown names are ignored.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Violation> {
        let mut page = Self {
            cursor: None,
            limit: DEFAULT_LIMIT,
        };
        for (name, value) in pairs {
            match name {
                "cursor" => page.cursor = Some(page_cursor("cursor", value)?),
                "limit" => page.limit = page_limit(value)?,
                _ => {}
            }
        }
        Ok(page)
    }
}

/// A page's `limit`: 1 to `MAX_LIMIT`.
fn page_limit(value: &str) -> Result<i64, Violation> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            Violation::new(
                "limit",
                "invalid",
                format!("limit must be 1 to {MAX_LIMIT}"),
            )
        })
}

/// A page cursor: the sequence number or id the previous page ended at.
pub fn page_cursor(field: &'static str, value: &str) -> Result<i64, Violation> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            Violation::new(
                field,
                "invalid",
                format!("{field} must be a cursor this API gave"),
            )
        })
}

/// An RFC 3339 time as Unix seconds.
fn time(field: &'static str, value: &str) -> Result<i64, Violation> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp())
        .map_err(|_| {
            Violation::new(
                field,
                "invalid",
                format!("{field} must be an RFC 3339 time"),
            )
        })
}

/// `true` or `false`, as a query's flags are written.
pub fn yes_no(field: &'static str, value: &str) -> Result<bool, Violation> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Violation::new(
            field,
            "invalid",
            format!("{field} must be true or false"),
        )),
    }
}

pub fn optional_bool(body: &Body, field: &'static str) -> Result<Option<bool>, Violation> {
    match body.value(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Violation::wrong_type(field, "true or false")),
    }
}

/// `POST /admin/users {email, password?, name?, email_verified?, send_verification?}`.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    /// None: the account signs in by a provider, a passkey or a reset that sets a password.
    pub password: Option<NewPassword>,
    pub name: Option<String>,
    pub email_verified: bool,
    /// Mail a verification code (only for an unverified address).
    pub send_verification: bool,
}

impl TryFrom<&Body> for NewUser {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let password = body.optional_string("password").and_then(|raw| {
            raw.map(|raw| NewPassword::parse("password", raw))
                .transpose()
        });
        let name = body
            .optional_string("name")
            .and_then(|raw| raw.map(|raw| Name::parse("name", raw)).transpose());
        let verified = optional_bool(body, "email_verified");
        let send = optional_bool(body, "send_verification");
        match (email, password, name, verified, send) {
            (Ok(email), Ok(password), Ok(name), Ok(verified), Ok(send)) => Ok(Self {
                email,
                password,
                name: name.and_then(Name::into_stored),
                email_verified: verified.unwrap_or(false),
                send_verification: send.unwrap_or(false) && !verified.unwrap_or(false),
            }),
            (email, password, name, verified, send) => Err(refused([
                email.err(),
                password.err(),
                name.err(),
                verified.err(),
                send.err(),
            ])),
        }
    }
}

/// `PATCH /admin/users/{id} {name?, email?, email_verified?}`: at least one.
#[derive(Debug)]
pub struct UserEdits {
    /// `Some(None)`: the name cleared (`null` or empty).
    pub name: Option<Option<String>>,
    pub email: Option<Email>,
    pub email_verified: Option<bool>,
}

impl TryFrom<&Body> for UserEdits {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        // `name: null` clears it, so absent and null differ here.
        let name = match body.raw("name") {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(raw)) => Name::parse("name", raw).map(|n| Some(n.into_stored())),
            Some(_) => Err(Violation::wrong_type("name", "a string or null")),
        };
        let email = body
            .optional_string("email")
            .and_then(|raw| raw.map(Email::parse).transpose());
        let verified = optional_bool(body, "email_verified");
        match (name, email, verified) {
            (Ok(None), Ok(None), Ok(None)) => Err(Violation::new(
                "body",
                "missing",
                "name, email or email_verified is required",
            )
            .into()),
            (Ok(name), Ok(email), Ok(email_verified)) => Ok(Self {
                name,
                email,
                email_verified,
            }),
            (name, email, verified) => Err(refused([name.err(), email.err(), verified.err()])),
        }
    }
}

/// `POST /admin/users/{id}/disable {reason, until?}`.
#[derive(Debug)]
pub struct Disable {
    pub reason: String,
    pub until: Option<i64>,
}

impl Disable {
    pub fn parse(body: &Body, now: i64) -> Result<Self, Violations> {
        let reason = body.string("reason").and_then(|raw| {
            let reason = raw.trim();
            if reason.is_empty() {
                Err(Violation::missing("reason"))
            } else if reason.chars().count() > MAX_REASON_CHARS {
                Err(Violation::new(
                    "reason",
                    "too_long",
                    format!("reason is at most {MAX_REASON_CHARS} characters"),
                ))
            } else if reason.chars().any(char::is_control) {
                Err(Violation::new(
                    "reason",
                    "control_characters",
                    "reason must not contain control characters",
                ))
            } else {
                Ok(reason.to_owned())
            }
        });
        let until = body.optional_string("until").and_then(|raw| {
            raw.map(|raw| {
                time("until", raw).and_then(|t| {
                    if t > now {
                        Ok(t)
                    } else {
                        Err(Violation::new(
                            "until",
                            "invalid",
                            "until must be in the future",
                        ))
                    }
                })
            })
            .transpose()
        });
        match (reason, until) {
            (Ok(reason), Ok(until)) => Ok(Self { reason, until }),
            (reason, until) => Err(refused([reason.err(), until.err()])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        Body::parse(json.as_bytes()).unwrap()
    }

    fn fields(violations: Violations) -> Vec<(&'static str, &'static str)> {
        violations.0.iter().map(|v| (v.field, v.reason)).collect()
    }

    #[test]
    fn the_list_query() {
        let query = UserQuery::parse([
            ("cursor", "41"),
            ("limit", "10"),
            ("email_prefix", " Ada"),
            ("created_after", "2026-01-01T00:00:00Z"),
            ("disabled", "true"),
            ("unknown", "x"),
        ])
        .unwrap();
        assert_eq!(query.cursor, 41);
        assert_eq!(query.limit, 10);
        assert_eq!(query.email_range().unwrap().0, "ada");
        assert!(*"ada@x" < *query.email_range().unwrap().1);
        assert!(*"adb" > *query.email_range().unwrap().1);
        assert_eq!(query.created_after, Some(1_767_225_600));
        assert_eq!(query.disabled, Some(true));
        assert_eq!(UserQuery::parse([]).unwrap().limit, 50);
        let bad =
            UserQuery::parse([("limit", "0"), ("verified", "yes"), ("cursor", "-1")]).unwrap_err();
        assert_eq!(
            fields(bad),
            [
                ("limit", "invalid"),
                ("verified", "invalid"),
                ("cursor", "invalid")
            ]
        );
    }

    #[test]
    fn an_events_page_query() {
        assert_eq!(
            PageQuery::parse([]).unwrap(),
            PageQuery {
                cursor: None,
                limit: 50
            }
        );
        assert_eq!(
            PageQuery::parse([("cursor", "12"), ("limit", "3"), ("x", "y")]).unwrap(),
            PageQuery {
                cursor: Some(12),
                limit: 3
            }
        );
        assert_eq!(
            PageQuery::parse([("limit", "101")]).unwrap_err().field,
            "limit"
        );
        assert_eq!(
            PageQuery::parse([("cursor", "x")]).unwrap_err().field,
            "cursor"
        );
    }

    #[test]
    fn a_new_user_with_or_without_a_password() {
        let user = NewUser::try_from(&body(
            r#"{"email": "A@x.com", "email_verified": true, "send_verification": true}"#,
        ))
        .unwrap();
        assert_eq!(user.email.as_str(), "a@x.com");
        assert!(user.password.is_none());
        assert!(
            user.email_verified && !user.send_verification,
            "no code for a verified address"
        );
        let bad = NewUser::try_from(&body(r#"{"password": "short", "email_verified": "yes"}"#))
            .unwrap_err();
        assert_eq!(
            fields(bad),
            [
                ("email", "missing"),
                ("password", "too_short"),
                ("email_verified", "wrong_type")
            ]
        );
    }

    #[test]
    fn edits_need_a_field_and_null_clears_the_name() {
        let cleared = UserEdits::try_from(&body(r#"{"name": null}"#)).unwrap();
        assert_eq!(cleared.name, Some(None));
        assert!(UserEdits::try_from(&body("{}")).is_err());
        let edits =
            UserEdits::try_from(&body(r#"{"email": "b@x.com", "email_verified": false}"#)).unwrap();
        assert_eq!(edits.name, None);
        assert_eq!(edits.email_verified, Some(false));
    }

    #[test]
    fn a_disable_needs_a_reason_and_a_future_end() {
        let now = 1_767_225_600;
        let disable = Disable::parse(
            &body(r#"{"reason": " fraud review ", "until": "2026-01-02T00:00:00Z"}"#),
            now,
        )
        .unwrap();
        assert_eq!(disable.reason, "fraud review");
        assert_eq!(disable.until, Some(now + 86_400));
        let bad = Disable::parse(&body(r#"{"until": "2025-01-01T00:00:00Z"}"#), now).unwrap_err();
        assert_eq!(fields(bad), [("reason", "missing"), ("until", "invalid")]);
    }
}
