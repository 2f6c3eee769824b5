//! Request bodies turned into domain values at the boundary ("parse, don't validate").

use crate::core::accounts::email::Email;
use crate::core::accounts::name::Name;
use crate::core::body::Body;
use crate::core::codes::otp::{OtpCode, OtpShape};
use crate::core::mfa::mfa_requests::SecondFactor;
use crate::core::passwords::password::{LoginPassword, NewPassword};
use crate::core::secret::Secret;
use crate::core::violation::{refused, Violation, Violations};

/// `POST /register {email, password, username?}`.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: NewPassword,
    pub name: Option<String>,
}

impl TryFrom<&Body> for Registration {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let password = body
            .string("password")
            .and_then(|raw| NewPassword::parse("password", raw));
        let name = body
            .optional_string("username")
            .and_then(|raw| raw.map(|raw| Name::parse("username", raw)).transpose());
        match (email, password, name) {
            (Ok(email), Ok(password), Ok(name)) => Ok(Self {
                email,
                password,
                name: name.and_then(Name::into_stored),
            }),
            (email, password, name) => Err(refused([email.err(), password.err(), name.err()])),
        }
    }
}

/// `POST /login {email, password}`.
#[derive(Debug)]
pub struct Login {
    pub email: Email,
    pub password: LoginPassword,
}

impl TryFrom<&Body> for Login {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let password = body.string("password").and_then(LoginPassword::parse);
        match (email, password) {
            (Ok(email), Ok(password)) => Ok(Self { email, password }),
            (email, password) => Err(refused([email.err(), password.err()])),
        }
    }
}

/// `POST /refresh {refresh, organization_id?}`: the raw value; its shape is checked as a
/// credential (a `401`). A `Secret`, so no `Debug` of the request shows the token (OWASP Logging
/// Cheat Sheet). `organization_id` switches the session's active organization (`null`: none).
#[derive(Debug)]
pub struct RefreshRequest {
    pub refresh: Secret,
    /// `None`: keep the active organization; `Some(None)`: clear it; `Some(Some(id))`: switch.
    pub switch_to: Option<Option<String>>,
}

impl TryFrom<&Body> for RefreshRequest {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let refresh = body.string("refresh");
        let switch_to = match body.raw("organization_id") {
            None => Ok(None),
            Some(serde_json::Value::Null) => Ok(Some(None)),
            Some(serde_json::Value::String(id)) if (1..=64).contains(&id.len()) => {
                Ok(Some(Some(id.clone())))
            }
            Some(_) => Err(Violation::new(
                "organization_id",
                "invalid",
                "organization_id must be an organization's id or null",
            )),
        };
        match (refresh, switch_to) {
            (Ok(refresh), Ok(switch_to)) => Ok(Self {
                refresh: Secret::new(refresh),
                switch_to,
            }),
            (refresh, switch_to) => Err(refused([refresh.err(), switch_to.err()])),
        }
    }
}

/// `POST /logout {refresh?}`.
#[derive(Debug)]
pub struct LogoutRequest {
    pub refresh: Option<Secret>,
}

impl TryFrom<&Body> for LogoutRequest {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let refresh = body.optional_string("refresh")?;
        Ok(Self {
            refresh: refresh.map(Secret::new),
        })
    }
}

/// `POST /reset-password {email}`.
#[derive(Debug)]
pub struct ResetRequest {
    pub email: Email,
}

impl TryFrom<&Body> for ResetRequest {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse)?;
        Ok(Self { email })
    }
}

/// `POST /update-password {email, otp, new_password}`. A code that is not six digits is kept as
/// `None` and answered like a wrong code, after the rest of the body was found valid.
#[derive(Debug)]
pub struct PasswordUpdate {
    pub email: Email,
    pub otp: Option<OtpCode>,
    pub new_password: NewPassword,
    /// The second factor, required once the account has one (a TOTP or recovery code).
    pub mfa_code: Option<SecondFactor>,
}

impl TryFrom<&Body> for PasswordUpdate {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let otp = code_field(body, "otp");
        let new_password = body
            .string("new_password")
            .and_then(|raw| NewPassword::parse("new_password", raw));
        let mfa_code = SecondFactor::from_field(body, "mfa_code");
        match (email, otp, new_password, mfa_code) {
            (Ok(email), Ok(otp), Ok(new_password), Ok(mfa_code)) => Ok(Self {
                email,
                otp,
                new_password,
                mfa_code,
            }),
            (email, otp, new_password, mfa_code) => Err(refused([
                email.err(),
                otp.err(),
                new_password.err(),
                mfa_code.err(),
            ])),
        }
    }
}

/// `PUT /update-profile {name}`.
#[derive(Debug)]
pub struct ProfileUpdate {
    pub name: Option<String>,
}

impl TryFrom<&Body> for ProfileUpdate {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let name = body
            .string("name")
            .and_then(|raw| Name::parse("name", raw))?;
        Ok(Self {
            name: name.into_stored(),
        })
    }
}

/// A six-digit code field (a string, or a number whose leading zeros are restored). A value of the
/// right type that is not six digits is `None`: answered like a wrong code once the rest of the
/// body is valid, so its shape tells nothing the code itself would not.
pub fn code_field(body: &Body, field: &'static str) -> Result<Option<OtpCode>, Violation> {
    match body.value(field).map(OtpCode::from_json) {
        None => Err(Violation::missing(field)),
        Some(Err(OtpShape::WrongType)) => {
            Err(Violation::wrong_type(field, "a six-digit string or number"))
        }
        Some(Err(OtpShape::NotSixDigits)) => Ok(None),
        Some(Ok(code)) => Ok(Some(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        Body::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn registration_reads_every_field() {
        let r = Registration::try_from(&body(
            r#"{"email":" Ann@X.io","password":"long enough pw","username":" Ann "}"#,
        ))
        .unwrap();
        assert_eq!(r.email.as_str(), "ann@x.io");
        assert_eq!(r.name.as_deref(), Some("Ann"));
    }

    #[test]
    fn registration_names_every_bad_field() {
        let err =
            Registration::try_from(&body(r#"{"email":"nope","password":"short","username":7}"#))
                .unwrap_err();
        let fields: Vec<(&str, &str)> = err.0.iter().map(|v| (v.field, v.reason)).collect();
        assert_eq!(
            fields,
            [
                ("email", "invalid"),
                ("password", "too_short"),
                ("username", "wrong_type")
            ]
        );
        let missing = Registration::try_from(&body("{}")).unwrap_err();
        assert_eq!(
            missing.0.len(),
            2,
            "email and password are required, username is not"
        );
    }

    #[test]
    fn password_updates_keep_bad_codes_for_later() {
        let ok = PasswordUpdate::try_from(&body(
            r#"{"email":"a@x.io","otp":12345,"new_password":"fresh horse 9"}"#,
        ))
        .unwrap();
        assert_eq!(ok.otp.unwrap().expose(), "012345");
        let bad_code = PasswordUpdate::try_from(&body(
            r#"{"email":"a@x.io","otp":"abc","new_password":"fresh horse 9"}"#,
        ))
        .unwrap();
        assert!(bad_code.otp.is_none());
        let wrong_type = PasswordUpdate::try_from(&body(
            r#"{"email":"a@x.io","otp":true,"new_password":"fresh horse 9"}"#,
        ))
        .unwrap_err();
        assert_eq!(wrong_type.0[0].field, "otp");
        let weak = PasswordUpdate::try_from(&body(
            r#"{"email":"a@x.io","otp":"123456","new_password":"password"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            (weak.0[0].field, weak.0[0].reason),
            ("new_password", "too_common")
        );
    }

    #[test]
    fn profile_updates_need_a_string_name() {
        assert_eq!(
            ProfileUpdate::try_from(&body(r#"{"name":"Bo"}"#))
                .unwrap()
                .name
                .as_deref(),
            Some("Bo")
        );
        assert_eq!(
            ProfileUpdate::try_from(&body(r#"{"name":null}"#))
                .unwrap_err()
                .0[0]
                .reason,
            "missing"
        );
        assert_eq!(
            ProfileUpdate::try_from(&body(r#"{"name":["Bo"]}"#))
                .unwrap_err()
                .0[0]
                .reason,
            "wrong_type"
        );
    }

    #[test]
    fn login_and_reset_need_an_email() {
        assert!(Login::try_from(&body(r#"{"email":"a@x.io","password":"p"}"#)).is_ok());
        assert_eq!(
            Login::try_from(&body(r#"{"email":"a@x.io"}"#))
                .unwrap_err()
                .0[0]
                .field,
            "password"
        );
        assert_eq!(
            ResetRequest::try_from(&body(r#"{"email":5}"#))
                .unwrap_err()
                .0[0]
                .reason,
            "wrong_type"
        );
        assert_eq!(
            RefreshRequest::try_from(&body("{}")).unwrap_err().0[0].field,
            "refresh"
        );
        assert!(LogoutRequest::try_from(&body("{}"))
            .unwrap()
            .refresh
            .is_none());
    }

    #[test]
    fn refresh_tokens_never_show_in_debug() {
        let token = "r3fr3sh-t0k3n-that-must-not-be-logged-0123456789";
        let refresh =
            RefreshRequest::try_from(&body(&format!(r#"{{"refresh":"{token}"}}"#))).unwrap();
        let logout =
            LogoutRequest::try_from(&body(&format!(r#"{{"refresh":"{token}"}}"#))).unwrap();
        for shown in [format!("{refresh:?}"), format!("{logout:?}")] {
            assert!(!shown.contains(token), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        assert_eq!(refresh.refresh.expose(), token);
    }
}
