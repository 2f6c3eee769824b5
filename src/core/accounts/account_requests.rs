//! Request bodies of an account's later life: email verification, signed-in password and email
//! changes, account deletion. Parsed at the boundary like `requests`.

use crate::core::accounts::email::Email;
use crate::core::body::Body;
use crate::core::codes::otp::OtpCode;
use crate::core::mfa::mfa_requests::SecondFactor;
use crate::core::passwords::password::{LoginPassword, NewPassword};
use crate::core::requests::code_field;
use crate::core::violation::refused;
use crate::core::violation::Violations;

/// `POST /verify-email {email, code, verification_token?}`. A code that is not six digits is
/// `None`, answered like a wrong one.
#[derive(Debug)]
pub struct EmailVerification {
    pub email: Email,
    pub code: Option<OtpCode>,
    /// From a `403 email_not_verified` login: the tries count toward the owner's own budget.
    pub verification_token: Option<String>,
}

impl TryFrom<&Body> for EmailVerification {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let code = code_field(body, "code");
        let token = token_field(body);
        match (email, code, token) {
            (Ok(email), Ok(code), Ok(verification_token)) => Ok(Self {
                email,
                code,
                verification_token,
            }),
            (email, code, token) => Err(refused([email.err(), code.err(), token.err()])),
        }
    }
}

/// `POST /resend-verification {email, verification_token?}`.
#[derive(Debug)]
pub struct VerificationResend {
    pub email: Email,
    /// From a `403 email_not_verified` login: the code is the owner's own (`EmailVerification`).
    pub verification_token: Option<String>,
}

impl TryFrom<&Body> for VerificationResend {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let token = token_field(body);
        match (email, token) {
            (Ok(email), Ok(verification_token)) => Ok(Self {
                email,
                verification_token,
            }),
            (email, token) => Err(refused([email.err(), token.err()])),
        }
    }
}

fn token_field(body: &Body) -> Result<Option<String>, crate::core::violation::Violation> {
    Ok(body
        .optional_string("verification_token")?
        .map(str::to_owned))
}

/// `POST /change-password {current_password, new_password, mfa_code?}`.
#[derive(Debug)]
pub struct PasswordChange {
    pub current_password: LoginPassword,
    pub new_password: NewPassword,
    /// Required once a second factor is on (step-up).
    pub mfa_code: Option<SecondFactor>,
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
        let mfa_code = SecondFactor::from_field(body, "mfa_code");
        match (current, new, mfa_code) {
            (Ok(current_password), Ok(new_password), Ok(mfa_code)) => Ok(Self {
                current_password,
                new_password,
                mfa_code,
            }),
            (current, new, mfa_code) => Err(refused([current.err(), new.err(), mfa_code.err()])),
        }
    }
}

/// `POST /change-email {new_email, password, mfa_code?}`.
#[derive(Debug)]
pub struct EmailChange {
    pub new_email: Email,
    pub password: LoginPassword,
    /// Required once a second factor is on (step-up).
    pub mfa_code: Option<SecondFactor>,
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
        let mfa_code = SecondFactor::from_field(body, "mfa_code");
        match (new_email, password, mfa_code) {
            (Ok(new_email), Ok(password), Ok(mfa_code)) => Ok(Self {
                new_email,
                password,
                mfa_code,
            }),
            (email, password, mfa_code) => {
                Err(refused([email.err(), password.err(), mfa_code.err()]))
            }
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

/// `DELETE /me {password, mfa_code?}`: the password again (and the second factor once on), so a
/// stolen access token alone cannot delete the account (OWASP Authentication Cheat Sheet:
/// re-authenticate for sensitive features).
#[derive(Debug)]
pub struct AccountDeletion {
    pub password: LoginPassword,
    /// Required once a second factor is on (step-up).
    pub mfa_code: Option<SecondFactor>,
}

impl TryFrom<&Body> for AccountDeletion {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let password = body.string("password").and_then(LoginPassword::parse);
        let mfa_code = SecondFactor::from_field(body, "mfa_code");
        match (password, mfa_code) {
            (Ok(password), Ok(mfa_code)) => Ok(Self { password, mfa_code }),
            (password, mfa_code) => Err(refused([password.err(), mfa_code.err()])),
        }
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
