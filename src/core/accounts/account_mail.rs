//! The mails of an account's later life: verification and email-change codes, and the notices
//! that tell the owner what changed (OWASP Authentication Cheat Sheet: notify the user of
//! changes to their account's credentials and contact details).

use crate::core::accounts::email::Email;
use crate::core::mail::{escape_html, minutes, Message};

/// The code that proves an address: after sign-up, or asked for again.
pub fn verification_code(to: &Email, code: &str, ttl_seconds: i64) -> Message {
    with_code(
        to,
        format!("Your verification code: {code}"),
        "Welcome! Confirm that this address is yours:",
        code,
        ttl_seconds,
        "If you did not create an account, ignore this mail.",
    )
}

/// The code that moves an account to a new address, mailed to that address.
pub fn email_change_code(to: &Email, code: &str, ttl_seconds: i64) -> Message {
    with_code(
        to,
        format!("Your email change code: {code}"),
        "Someone signed in to an account asked to move it to this address. To confirm:",
        code,
        ttl_seconds,
        "If this wasn't you, ignore this mail: nothing changes without the code.",
    )
}

/// Sent instead of a code when someone signs up with an address that has an account already,
/// so sign-up answers alike for every address and the owner still learns of it.
pub fn sign_up_attempt(to: &Email) -> Message {
    notice(
        to,
        "Someone tried to sign up with your address",
        &[
            format!(
                "Someone tried to create a new account for {}, which already has one.",
                to.as_str()
            ),
            "If it was you, sign in instead, or reset your password if you forgot it.".to_owned(),
            "If it wasn't you, ignore this mail: no account was created or changed.".to_owned(),
        ],
    )
}

/// Sent to the old address once an account moved to a new one.
pub fn email_changed(to: &Email, new_email: &Email) -> Message {
    notice(
        to,
        "Your account's email was changed",
        &[
            format!(
                "The account that used {} now signs in with {}, and every other signed-in device was signed out.",
                to.as_str(),
                new_email.as_str()
            ),
            "If this wasn't you, your password is known to someone else: contact support at once."
                .to_owned(),
        ],
    )
}

/// Sent after a signed-in password change (the reset by code has its own notice).
pub fn password_changed_signed_in(to: &Email) -> Message {
    notice(
        to,
        "Your password was changed",
        &[
            format!(
                "The password of the account {} was just changed from a signed-in device; every other device was signed out.",
                to.as_str()
            ),
            "If this wasn't you, reset your password now: whoever changed it was signed in as you."
                .to_owned(),
        ],
    )
}

/// Sent after an account was deleted.
pub fn account_deleted(to: &Email) -> Message {
    notice(
        to,
        "Your account was deleted",
        &[
            format!(
                "The account {} and everything stored with it were deleted.",
                to.as_str()
            ),
            "If this wasn't you, someone knew your password; the account cannot be restored, \
             but you can sign up again with this address."
                .to_owned(),
        ],
    )
}

/// Sent when a second factor was turned on or off.
pub fn second_factor_changed(to: &Email, on: bool) -> Message {
    let (subject, what) = if on {
        (
            "Two-step sign-in is on",
            "now asks for a code from your authenticator app at every sign-in",
        )
    } else {
        (
            "Two-step sign-in was turned off",
            "no longer asks for a code from an authenticator app",
        )
    };
    notice(
        to,
        subject,
        &[
            format!("The account {} {what}.", to.as_str()),
            "If this wasn't you, reset your password now and turn two-step sign-in on again."
                .to_owned(),
        ],
    )
}

/// Sent when the service's operator removed the account's second factors (a lost phone).
pub fn factors_removed_by_operator(to: &Email, passkeys: bool) -> Message {
    let what = if passkeys {
        "its two-step sign-in and its passkeys were removed"
    } else {
        "its two-step sign-in was turned off"
    };
    notice(
        to,
        "Support removed your second factor",
        &[
            format!(
                "At your request to support, the account {}: {what}.",
                to.as_str()
            ),
            "Sign in with your password, and turn two-step sign-in on again from your account."
                .to_owned(),
            "If you did not ask for this, reply to this mail or contact support at once."
                .to_owned(),
        ],
    )
}

/// Sent when the first proof of an address removed the ways in added before it: whoever added
/// them never showed they could read this mailbox (a squatter's provider or passkey).
pub fn ways_in_removed(
    to: &Email,
    providers: &[String],
    passkeys: &[String],
    app: bool,
) -> Message {
    let mut removed: Vec<String> = providers
        .iter()
        .map(|p| format!("sign-in with {p}"))
        .collect();
    removed.extend(
        passkeys
            .iter()
            .map(|name| format!("the passkey \"{name}\"")),
    );
    if app {
        removed.push("an authenticator app (two-step sign-in)".to_owned());
    }
    notice(
        to,
        "We removed sign-in methods added before you confirmed your address",
        &[
            format!(
                "The account {} was used before this address was confirmed. To keep it yours, \
                 we removed what was added to it until now: {}.",
                to.as_str(),
                removed.join(", ")
            ),
            "If you added them yourself, add them again from your account; if not, someone \
             created this account with your address, and nothing they added can sign in now."
                .to_owned(),
        ],
    )
}

/// Sent after the service's operator deleted an account.
pub fn account_deleted_by_operator(to: &Email) -> Message {
    notice(
        to,
        "Your account was deleted",
        &[
            format!(
                "The service's operator deleted the account {} and everything stored with it.",
                to.as_str()
            ),
            "You can sign up again with this address.".to_owned(),
        ],
    )
}

fn with_code(
    to: &Email,
    subject: String,
    intro: &str,
    code: &str,
    ttl_seconds: i64,
    otherwise: &str,
) -> Message {
    let validity = minutes(ttl_seconds);
    let text = format!(
        "{intro}\n\nYour code is {code}. Enter it within {validity}; it works once.\n\n{otherwise}\n"
    );
    let html = format!(
        "<p>{intro}</p><p>Your code is</p>\
         <p style=\"font-size:28px;letter-spacing:6px;font-family:monospace\"><b>{code}</b></p>\
         <p>Enter it within {validity}; it works once.</p><p>{otherwise}</p>",
        intro = escape_html(intro),
        otherwise = escape_html(otherwise)
    );
    Message::to(to, subject, text, html)
}

fn notice(to: &Email, subject: &str, paragraphs: &[String]) -> Message {
    let text = paragraphs.join("\n\n") + "\n";
    let html = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape_html(p)))
        .collect();
    Message::to(to, subject.to_owned(), text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> Email {
        Email::parse(raw).unwrap()
    }

    #[test]
    fn code_mails_carry_the_code_and_its_validity() {
        let to = email("a@example.com");
        for message in [
            verification_code(&to, "012345", 300),
            email_change_code(&to, "012345", 300),
        ] {
            assert!(message.subject.contains("012345"));
            assert!(message.text.contains("code is 012345"));
            assert!(message.html.contains("012345") && message.html.contains("5 minutes"));
        }
    }

    #[test]
    fn notices_name_the_account_escaped_and_say_what_to_do() {
        let to = email("o'neil@example.com");
        let notices = [
            sign_up_attempt(&to),
            email_changed(&to, &email("new@example.com")),
            password_changed_signed_in(&to),
            account_deleted(&to),
            second_factor_changed(&to, true),
            second_factor_changed(&to, false),
        ];
        for message in notices {
            assert_eq!(message.to, "o'neil@example.com");
            assert!(
                message.text.contains("o'neil@example.com"),
                "{}",
                message.subject
            );
            assert!(
                message.html.contains("o&#39;neil@example.com"),
                "{}",
                message.subject
            );
            assert!(message.text.contains("wasn't you"), "{}", message.subject);
            assert!(
                !message.text.contains("code is"),
                "no notice carries a code"
            );
        }
    }
}
