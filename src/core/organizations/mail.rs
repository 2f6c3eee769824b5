//! The invitation mail: who invited the address to which organization, with which role, and the
//! link (or, without an app page to link to, the token to paste) that accepts it once the
//! invitee is signed in with this verified address.

use crate::core::accounts::email::Email;
use crate::core::mail::{escape_html, minutes, Message};

/// The fragment parameter of an invitation link: a fragment never reaches a server (RFC 3986
/// §3.5), so neither a mail scanner nor a log learns the token.
pub const FRAGMENT_PARAMETER: &str = "invitation";

/// The link to the app's page with the token in its fragment.
pub fn link(page: &str, token: &str) -> String {
    let separator = if page.contains('#') { '&' } else { '#' };
    format!("{page}{separator}{FRAGMENT_PARAMETER}={token}")
}

/// What an invitation mail says.
pub struct Invitation<'a> {
    pub organization: &'a str,
    pub role: &'a str,
    pub token: &'a str,
    pub link: Option<&'a str>,
    pub ttl_seconds: i64,
}

pub fn invitation(to: &Email, invitation: &Invitation<'_>) -> Message {
    let validity = minutes(invitation.ttl_seconds);
    let subject = format!("You are invited to join {}", invitation.organization);
    let how = invitation.link.map_or_else(
        || {
            format!(
                "Sign in, then accept with this invitation token:\n{}",
                invitation.token
            )
        },
        |url| format!("Open this link, signed in with this address, to accept:\n{url}"),
    );
    let text = format!(
        "You are invited to join {org} as {role}.\n\n{how}\n\nThe invitation lasts {validity} \
         and only an account that has verified this address can accept it. If you did not \
         expect it, ignore this mail.\n",
        org = invitation.organization,
        role = invitation.role,
    );
    let action = invitation.link.map_or_else(
        || {
            format!(
                "<p>Sign in, then accept with this invitation token:</p><p><code>{}</code></p>",
                escape_html(invitation.token)
            )
        },
        |url| {
            format!(
                "<p><a href=\"{}\">Accept the invitation</a></p>",
                escape_html(url)
            )
        },
    );
    let html = format!(
        "<p>You are invited to join <b>{org}</b> as <b>{role}</b>.</p>{action}\
         <p>The invitation lasts {validity} and only an account that has verified this address \
         can accept it. If you did not expect it, ignore this mail.</p>",
        org = escape_html(invitation.organization),
        role = escape_html(invitation.role),
    );
    Message::to(to, subject, text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_rides_in_a_fragment_and_names_are_escaped() {
        assert_eq!(
            link("https://app.example/join", "t0k"),
            "https://app.example/join#invitation=t0k"
        );
        assert_eq!(
            link("https://app.example/#x", "t"),
            "https://app.example/#x&invitation=t"
        );
        let to = Email::parse("a@example.com").unwrap();
        let mail = invitation(
            &to,
            &Invitation {
                organization: "<Acme>",
                role: "admin",
                token: "tok",
                link: None,
                ttl_seconds: 604_800,
            },
        );
        assert!(mail.html.contains("&lt;Acme&gt;") && !mail.html.contains("<Acme>"));
        assert!(mail.text.contains("tok"));
    }
}
