//! Request bodies of the second factor: enrolment, confirmation, turning it off, and the login
//! step that completes a password login with a code.

use serde_json::Value;

use crate::core::body::Body;
use crate::core::codes::otp::OtpCode;
use crate::core::mfa::recovery_code::RecoveryCode;
use crate::core::passwords::password::LoginPassword;
use crate::core::secret::Secret;
use crate::core::violation::refused;
use crate::core::violation::{Violation, Violations};

/// A second-factor code as typed: six digits from the authenticator app, or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(OtpCode),
    Recovery(RecoveryCode),
    /// Neither shape: answered like a wrong code.
    Unreadable,
}

impl SecondFactor {
    /// Reads the field: a string or a number (a number's lost leading zeros restored).
    pub fn from_field(body: &Body, field: &'static str) -> Result<Option<Self>, Violation> {
        let Some(value) = body.value(field) else {
            return Ok(None);
        };
        let code = match value {
            Value::String(raw) => OtpCode::from_json(value)
                .map(Self::Totp)
                .unwrap_or_else(|_| {
                    RecoveryCode::parse(raw).map_or(Self::Unreadable, Self::Recovery)
                }),
            Value::Number(_) => OtpCode::from_json(value).map_or(Self::Unreadable, Self::Totp),
            _ => {
                return Err(Violation::wrong_type(
                    field,
                    "a six-digit code or a recovery code",
                ))
            }
        };
        Ok(Some(code))
    }

    fn required(body: &Body, field: &'static str) -> Result<Self, Violation> {
        Self::from_field(body, field)?.ok_or_else(|| Violation::missing(field))
    }
}

/// `POST /mfa/totp/enroll {password}`.
#[derive(Debug)]
pub struct MfaEnrollment {
    pub password: LoginPassword,
}

impl TryFrom<&Body> for MfaEnrollment {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let password = body.string("password").and_then(LoginPassword::parse)?;
        Ok(Self { password })
    }
}

/// `POST /mfa/totp/confirm {code}`.
#[derive(Debug)]
pub struct MfaConfirmation {
    pub code: SecondFactor,
}

impl TryFrom<&Body> for MfaConfirmation {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        Ok(Self {
            code: SecondFactor::required(body, "code")?,
        })
    }
}

/// `POST /mfa/totp/disable {password, code}`.
#[derive(Debug)]
pub struct MfaRemoval {
    pub password: LoginPassword,
    pub code: SecondFactor,
}

impl TryFrom<&Body> for MfaRemoval {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let password = body.string("password").and_then(LoginPassword::parse);
        let code = SecondFactor::required(body, "code");
        match (password, code) {
            (Ok(password), Ok(code)) => Ok(Self { password, code }),
            (password, code) => Err(refused([password.err(), code.err()])),
        }
    }
}

/// `POST /login/mfa {mfa_token, code}`.
#[derive(Debug)]
pub struct MfaLogin {
    pub mfa_token: Secret,
    pub code: SecondFactor,
}

impl TryFrom<&Body> for MfaLogin {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let token = body.string("mfa_token").map(Secret::new);
        let code = SecondFactor::required(body, "code");
        match (token, code) {
            (Ok(mfa_token), Ok(code)) => Ok(Self { mfa_token, code }),
            (token, code) => Err(refused([token.err(), code.err()])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        Body::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn codes_are_told_apart_by_shape() {
        let read = |json: &str| {
            SecondFactor::from_field(&body(json), "code")
                .unwrap()
                .unwrap()
        };
        assert!(
            matches!(read(r#"{"code":"012345"}"#), SecondFactor::Totp(c) if c.expose() == "012345")
        );
        assert!(
            matches!(read(r#"{"code":12345}"#), SecondFactor::Totp(c) if c.expose() == "012345")
        );
        assert!(matches!(
            read(r#"{"code":"ABCDE-FGHJK"}"#),
            SecondFactor::Recovery(_)
        ));
        assert_eq!(read(r#"{"code":"nope"}"#), SecondFactor::Unreadable);
        assert_eq!(read(r#"{"code":1234567}"#), SecondFactor::Unreadable);
        assert_eq!(
            SecondFactor::from_field(&body(r#"{"code":[1]}"#), "code")
                .unwrap_err()
                .reason,
            "wrong_type"
        );
        assert_eq!(SecondFactor::from_field(&body("{}"), "code"), Ok(None));
    }

    #[test]
    fn bodies_name_every_missing_field_and_hide_their_secrets() {
        let err = MfaLogin::try_from(&body("{}")).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["mfa_token", "code"]);
        let login =
            MfaLogin::try_from(&body(r#"{"mfa_token":"tok-secret-123","code":"123456"}"#)).unwrap();
        let shown = format!("{login:?}");
        assert!(
            !shown.contains("tok-secret-123") && !shown.contains("123456"),
            "{shown}"
        );
        let removal = MfaRemoval::try_from(&body(r#"{"code":"123456"}"#)).unwrap_err();
        assert_eq!(removal.0[0].field, "password");
        assert!(MfaConfirmation::try_from(&body("{}")).is_err());
        assert!(MfaEnrollment::try_from(&body(r#"{"password":"x"}"#)).is_ok());
    }
}
