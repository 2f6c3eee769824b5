//! The mails of email sign-in: a code (and, when the app asked for one, a link) to sign in or to
//! create the account, or, for an address without an account while sign-up by email is off, a
//! notice that none exists. Every address gets a mail within the same caps, so the answer and
//! the mail traffic tell a stranger nothing (OWASP Authentication Cheat Sheet, "Authentication
//! and Error Messages").

use crate::core::accounts::email::Email;
use crate::core::mail::{escape_html, minutes, Message};

/// Why the code was mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The address has an account: the code signs in to it.
    SignIn,
    /// The address has none, and sign-up by email is on: the code creates it.
    SignUp,
}

/// The mail with a six-digit code and, if asked for, a link; the code works on any device, the
/// link only in the browser that asked for it.
pub fn code(
    to: &Email,
    purpose: Purpose,
    code: &str,
    link: Option<&str>,
    ttl_seconds: i64,
) -> Message {
    let validity = minutes(ttl_seconds);
    let (subject, intro) = match purpose {
        Purpose::SignIn => (
            format!("Your sign-in code: {code}"),
            "Someone asked to sign in to your account — we hope it was you.",
        ),
        Purpose::SignUp => (
            format!("Your code to create your account: {code}"),
            "Someone asked to create an account for this address — we hope it was you.",
        ),
    };
    let otherwise = "If it wasn't you, ignore this mail: nobody can use the code or the link \
                     without access to this mailbox.";
    let link_text = link.map_or_else(String::new, |url| {
        format!("Or open this link in the browser where you asked for it:\n{url}\n\n")
    });
    let text = format!(
        "{intro}\n\nYour code is {code}. Enter it within {validity}; it works once, on any \
         device.\n\n{link_text}{otherwise}\n"
    );
    let link_html = link.map_or_else(String::new, |url| {
        format!(
            "<p><a href=\"{url}\">Sign in</a> (in the browser where you asked for it)</p>",
            url = escape_html(url)
        )
    });
    let html = format!(
        "<p>{intro}</p><p>Your code is</p>\
         <p style=\"font-size:28px;letter-spacing:6px;font-family:monospace\"><b>{code}</b></p>\
         <p>Enter it within {validity}; it works once, on any device.</p>{link_html}<p>{otherwise}</p>",
        intro = escape_html(intro),
        otherwise = escape_html(otherwise)
    );
    Message::to(to, subject, text, html)
}

/// Sent instead of a code when sign-up by email is off and the address has no account.
pub fn no_account(to: &Email) -> Message {
    let subject = "Sign-in attempt: no account for this address".to_owned();
    let text = format!(
        "Someone asked to sign in with {to}, but no account uses this address.\n\n\
         If it was you, sign up first, or sign in with the address your account uses.\n\n\
         If it wasn't you, ignore this mail.\n",
        to = to.as_str()
    );
    let html = format!(
        "<p>Someone asked to sign in with <b>{to}</b>, but no account uses this address.</p>\
         <p>If it was you, sign up first, or sign in with the address your account uses.</p>\
         <p>If it wasn't you, ignore this mail.</p>",
        to = escape_html(to.as_str())
    );
    Message::to(to, subject, text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_mail_carries_the_link_only_when_asked() {
        let to = Email::parse("ada@example.com").unwrap();
        let plain = code(&to, Purpose::SignIn, "012345", None, 600);
        assert!(plain.subject.contains("012345"));
        assert!(plain.text.contains("10 minutes") && !plain.text.contains("http"));
        let url = "https://app.example/in#sign_in_token=abc&x=<y>";
        let linked = code(&to, Purpose::SignUp, "012345", Some(url), 600);
        assert!(linked.subject.contains("create your account"));
        assert!(linked.text.contains(url));
        assert!(linked.html.contains("&amp;x=&lt;y&gt;") && !linked.html.contains("<y>"));
    }

    #[test]
    fn the_notice_has_no_code() {
        let to = Email::parse("nobody@example.com").unwrap();
        let notice = no_account(&to);
        assert!(notice.text.contains("no account uses this address"));
        assert!(!notice.text.chars().any(|c| c.is_ascii_digit()));
    }
}
