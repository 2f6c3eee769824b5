//! The mails we send, as plain text and HTML.

use crate::core::accounts::email::Email;

/// One outgoing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Message {
    pub(crate) fn to(to: &Email, subject: String, text: String, html: String) -> Self {
        Self {
            to: to.as_str().to_owned(),
            subject,
            text,
            html,
        }
    }
}

/// The mail carrying a password-reset code.
pub fn reset_code(to: &Email, code: &str, ttl_seconds: i64) -> Message {
    let validity = minutes(ttl_seconds);
    let subject = format!("Your password reset code: {code}");
    let text = format!(
        "Someone asked to reset the password of the account {to} — we hope it was you.\n\n\
         Your code is {code}. Enter it with your new password within {validity}; it works once.\n\n\
         If you did not ask for this, ignore this mail: your password stays as it is, and nobody \
         can use the code without access to this mailbox.\n",
        to = to.as_str()
    );
    let html = format!(
        "<p>Someone asked to reset the password of the account <b>{to}</b> — we hope it was you.</p>\
         <p>Your code is</p><p style=\"font-size:28px;letter-spacing:6px;font-family:monospace\"><b>{code}</b></p>\
         <p>Enter it with your new password within {validity}; it works once.</p>\
         <p>If you did not ask for this, ignore this mail: your password stays as it is.</p>",
        to = escape_html(to.as_str())
    );
    Message::to(to, subject, text, html)
}

/// The notice sent after a password was changed.
pub fn password_changed(to: &Email) -> Message {
    let subject = "Your password was changed".to_owned();
    let text = format!(
        "The password of the account {to} was just changed, and every signed-in device was \
         signed out.\n\nIf this wasn't you, reset your password now and check the mailbox's own \
         security: whoever changed it could read your mail.\n",
        to = to.as_str()
    );
    let html = format!(
        "<p>The password of the account <b>{to}</b> was just changed, and every signed-in device \
         was signed out.</p><p><b>If this wasn't you</b>, reset your password now and check the \
         mailbox's own security: whoever changed it could read your mail.</p>",
        to = escape_html(to.as_str())
    );
    Message::to(to, subject, text, html)
}

pub(crate) fn minutes(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} seconds"),
        60..=119 => "1 minute".to_owned(),
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 2 * 3_600 => format!("{} hours", s / 3_600),
        s => format!("{} minutes", s / 60),
    }
}

pub(crate) fn escape_html(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_mail_says_what_when_and_what_if_not() {
        let to = Email::parse("o'neil@example.com").unwrap();
        let message = reset_code(&to, "012345", 300);
        assert_eq!(message.to, "o'neil@example.com");
        for body in [&message.text, &message.html] {
            assert!(body.contains("012345"));
            assert!(body.contains("5 minutes"));
            assert!(body.contains("did not ask"));
        }
        assert!(message.html.contains("o&#39;neil@example.com"));
    }

    #[test]
    fn the_notice_says_what_to_do() {
        let message = password_changed(&Email::parse("a@example.com").unwrap());
        assert!(message.text.contains("If this wasn't you"));
        assert!(message.html.contains("If this wasn't you"));
    }

    #[test]
    fn validity_reads_naturally() {
        assert_eq!(minutes(30), "30 seconds");
        assert_eq!(minutes(60), "1 minute");
        assert_eq!(minutes(900), "15 minutes");
    }
}
