//! Request bodies of an account's later life: email verification, signed-in password and email
//! changes, account deletion. Parsed at the boundary like `requests`.

use crate::core::body::Body;
use crate::core::email::Email;
use crate::core::otp::OtpCode;
use crate::core::password::{LoginPassword, NewPassword};
use crate::core::requests::{code_field, refused};
use crate::core::violation::Violations;

/// `POST /verify-email {email, code}`. A code that is not six digits is `None`, answered like a
/// wrong one.
#[derive(Debug)]
pub struct EmailVerification {
    pub email: Email,
    pub code: Option<OtpCode>,
}

impl TryFrom<&Body> for EmailVerification {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let code = code_field(body, "code");
        match (email, code) {
            (Ok(email), Ok(code)) => Ok(Self { email, code }),
            (email, code) => Err(refused([email.err(), code.err()])),
        }
    }
}

/// `POST /change-password {current_password, new_password}`.
#[derive(Debug)]
pub struct PasswordChange {
    pub current_password: LoginPassword,
    pub new_password: NewPassword,
}

impl TryFrom<&Body> for PasswordChange {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let current = body
            .string("current_password")
            .and_then(|raw| LoginPassword::parse_field("current_password", raw));
        let new = body
            .string("new_password")
            .and_then(|raw| NewPassword::parse("new_password", raw));
        match (current, new) {
            (Ok(current_password), Ok(new_password)) => Ok(Self {
                current_password,
                new_password,
            }),
            (current, new) => Err(refused([current.err(), new.err()])),
        }
    }
}

/// `POST /change-email {new_email, password}`.
#[derive(Debug)]
pub struct EmailChange {
    pub new_email: Email,
    pub password: LoginPassword,
}

impl TryFrom<&Body> for EmailChange {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let new_email = body.string("new_email").and_then(|raw| {
            Email::parse(raw).map_err(|mut violation| {
                violation.field = "new_email";
                violation
            })
        });
        let password = body.string("password").and_then(LoginPassword::parse);
        match (new_email, password) {
            (Ok(new_email), Ok(password)) => Ok(Self {
                new_email,
                password,
            }),
            (email, password) => Err(refused([email.err(), password.err()])),
        }
    }
}

/// `POST /confirm-email-change {code}`.
#[derive(Debug)]
pub struct EmailChangeConfirmation {
    pub code: Option<OtpCode>,
}

impl TryFrom<&Body> for EmailChangeConfirmation {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        Ok(Self {
            code: code_field(body, "code")?,
        })
    }
}

/// `DELETE /me {password}`: the password again, so a stolen access token alone cannot delete
/// the account (OWASP Authentication Cheat Sheet: re-authenticate for sensitive features).
#[derive(Debug)]
pub struct AccountDeletion {
    pub password: LoginPassword,
}

impl TryFrom<&Body> for AccountDeletion {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let password = body.string("password").and_then(LoginPassword::parse)?;
        Ok(Self { password })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        Body::parse(json.as_bytes()).unwrap()
    }

    fn refusals<T: std::fmt::Debug>(
        result: Result<T, Violations>,
    ) -> Vec<(&'static str, &'static str)> {
        result
            .unwrap_err()
            .0
            .iter()
            .map(|v| (v.field, v.reason))
            .collect()
    }

    #[test]
    fn verification_reads_email_and_code() {
        let ok = EmailVerification::try_from(&body(r#"{"email":" A@X.io","code":1234}"#)).unwrap();
        assert_eq!(ok.email.as_str(), "a@x.io");
        assert_eq!(ok.code.unwrap().expose(), "001234");
        let malformed =
            EmailVerification::try_from(&body(r#"{"email":"a@x.io","code":"12"}"#)).unwrap();
        assert!(malformed.code.is_none(), "answered like a wrong code");
        assert_eq!(
            refusals(EmailVerification::try_from(&body(r#"{"code":true}"#))),
            [("email", "missing"), ("code", "wrong_type")]
        );
    }

    #[test]
    fn password_change_names_its_fields() {
        assert!(PasswordChange::try_from(&body(
            r#"{"current_password":"old one","new_password":"fresh horse 9"}"#
        ))
        .is_ok());
        assert_eq!(
            refusals(PasswordChange::try_from(&body(
                r#"{"current_password":"","new_password":"short"}"#
            ))),
            [
                ("current_password", "missing"),
                ("new_password", "too_short")
            ]
        );
    }

    #[test]
    fn email_change_names_new_email() {
        let ok =
            EmailChange::try_from(&body(r#"{"new_email":"New@X.io ","password":"pw"}"#)).unwrap();
        assert_eq!(ok.new_email.as_str(), "new@x.io");
        assert_eq!(
            refusals(EmailChange::try_from(&body(r#"{"new_email":"nope"}"#))),
            [("new_email", "invalid"), ("password", "missing")]
        );
    }

    #[test]
    fn confirmation_and_deletion_need_their_one_field() {
        assert_eq!(
            refusals(EmailChangeConfirmation::try_from(&body("{}"))),
            [("code", "missing")]
        );
        assert_eq!(
            refusals(AccountDeletion::try_from(&body(r#"{"password":7}"#))),
            [("password", "wrong_type")]
        );
    }

    #[test]
    fn passwords_never_show_in_debug() {
        let change = PasswordChange::try_from(&body(
            r#"{"current_password":"old secret 1","new_password":"new secret 22"}"#,
        ))
        .unwrap();
        let shown = format!("{change:?}");
        assert!(
            !shown.contains("old secret") && !shown.contains("new secret"),
            "{shown}"
        );
    }
}
