//! The bodies of email sign-in, parsed at the boundary: the start (`email`, and for a link the
//! app's `redirect_to` and PKCE `code_challenge`), the code, and the link's token with the app's
//! `code_verifier`.

use crate::core::accounts::email::Email;
use crate::core::body::Body;
use crate::core::codes::otp::OtpCode;
use crate::core::email_sign_in::link::LinkToken;
use crate::core::requests::code_field;
use crate::core::social::oauth_requests::{code_verifier, parse_link, Start};
use crate::core::violation::{refused, Violations};

/// `POST /email-sign-in {email, link?: {redirect_to, code_challenge, code_challenge_method}}`: a
/// link is asked for by an object naming where it goes and the app's PKCE challenge (its fields
/// are named as they are within it).
#[derive(Debug)]
pub struct SignInStart {
    pub email: Email,
    pub link: Option<Start>,
}

impl SignInStart {
    /// `allowed` says whether a `redirect_to` is on the allow-list.
    pub fn parse(body: &Body, allowed: impl Fn(&str) -> bool) -> Result<Self, Violations> {
        let email = body.string("email").and_then(Email::parse);
        let link = match body.object("link") {
            Ok(Some(link)) => parse_link(&link, allowed).map(Some),
            Ok(None) => Ok(None),
            Err(wrong) => Err(Violations(vec![wrong])),
        };
        match (email, link) {
            (Ok(email), Ok(link)) => Ok(Self { email, link }),
            (Ok(_), Err(link)) => Err(link),
            (Err(email), Ok(_)) => Err(refused([Some(email)])),
            (Err(email), Err(mut link)) => {
                link.0.insert(0, email);
                Err(link)
            }
        }
    }
}

/// `POST /email-sign-in/code {email, code}`. A code that is not six digits is `None`, answered
/// (and counted) like a wrong one.
#[derive(Debug)]
pub struct CodeSignIn {
    pub email: Email,
    pub code: Option<OtpCode>,
}

impl TryFrom<&Body> for CodeSignIn {
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

/// `POST /email-sign-in/link {token, code_verifier}`. A token of the wrong shape is `None`
/// (it matches nothing); a missing or malformed verifier is refused before anything is read, so
/// a page run without the app's verifier spends nothing.
#[derive(Debug)]
pub struct LinkSignIn {
    pub token: Option<LinkToken>,
    pub code_verifier: String,
}

impl TryFrom<&Body> for LinkSignIn {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let token = body.string("token").map(LinkToken::presented);
        let verifier = code_verifier(body);
        match (token, verifier) {
            (Ok(token), Ok(code_verifier)) => Ok(Self {
                token,
                code_verifier,
            }),
            (t, v) => Err(refused([t.err(), v.err()])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        Body::parse(json.as_bytes()).unwrap()
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn a_start_with_or_without_a_link() {
        let allowed = |url: &str| url == "https://app.example/in";
        let plain = SignInStart::parse(&body(r#"{"email":"A@Example.com"}"#), allowed).unwrap();
        assert_eq!(plain.email.as_str(), "a@example.com");
        assert!(plain.link.is_none());
        let json = format!(
            r#"{{"email":"a@example.com","link":{{"redirect_to":"https://app.example/in","code_challenge":"{CHALLENGE}","code_challenge_method":"S256"}}}}"#
        );
        let link = SignInStart::parse(&body(&json), allowed)
            .unwrap()
            .link
            .unwrap();
        assert_eq!(link.redirect_to, "https://app.example/in");
        assert_eq!(link.code_challenge, CHALLENGE);
    }

    #[test]
    fn a_link_needs_an_allowed_page_and_a_challenge() {
        let allowed = |url: &str| url == "https://app.example/in";
        let elsewhere = format!(
            r#"{{"email":"a@example.com","link":{{"redirect_to":"https://evil.example/","code_challenge":"{CHALLENGE}","code_challenge_method":"S256"}}}}"#
        );
        let refused = SignInStart::parse(&body(&elsewhere), allowed).unwrap_err();
        assert_eq!(refused.0[0].field, "redirect_to");
        let no_challenge = r#"{"email":"nope","link":{"redirect_to":"https://app.example/in"}}"#;
        let refused = SignInStart::parse(&body(no_challenge), allowed).unwrap_err();
        let fields: Vec<&str> = refused.0.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["email", "code_challenge"]);
        let not_an_object = r#"{"email":"a@example.com","link":"https://app.example/in"}"#;
        let refused = SignInStart::parse(&body(not_an_object), allowed).unwrap_err();
        assert_eq!(
            (refused.0[0].field, refused.0[0].reason),
            ("link", "wrong_type")
        );
    }

    #[test]
    fn a_link_needs_the_verifier_and_a_code_may_be_any_shape() {
        let missing = LinkSignIn::try_from(&body(r#"{"token":"x"}"#)).unwrap_err();
        assert_eq!(missing.0[0].field, "code_verifier");
        let json = format!(r#"{{"token":"not a token","code_verifier":"{VERIFIER}"}}"#);
        assert!(LinkSignIn::try_from(&body(&json)).unwrap().token.is_none());
        let code = CodeSignIn::try_from(&body(r#"{"email":"a@example.com","code":"12"}"#)).unwrap();
        assert!(code.code.is_none());
        let missing = CodeSignIn::try_from(&body(r#"{"email":"a@example.com"}"#)).unwrap_err();
        assert_eq!(missing.0[0].field, "code");
    }
}
