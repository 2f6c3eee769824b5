//! Requests to the token, revocation and introspection endpoints: form bodies (RFC 6749 §3.2)
//! and the client's authentication (§2.3.1: `client_secret_basic` or `client_secret_post`; a
//! public client names itself and proves the code with PKCE).

use crate::core::provider::resource::asked;
use base64ct::{Base64, Encoding};

/// How the client authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
}

/// Why a request is refused, as the token endpoint answers (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub error: &'static str,
    pub description: &'static str,
}

pub const INVALID_CLIENT: TokenError = TokenError {
    error: "invalid_client",
    description: "Client authentication failed",
};

fn invalid_request(description: &'static str) -> TokenError {
    TokenError {
        error: "invalid_request",
        description,
    }
}

/// The one value of `name` in a form: repeated is `invalid_request` (RFC 6749 §3.2).
pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, TokenError> {
    let mut found = form
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    match (found.next(), found.next()) {
        (first, None) => Ok(first.filter(|v| !v.is_empty())),
        _ => Err(invalid_request("A parameter is repeated")),
    }
}

/// A required form value.
pub fn required<'a>(
    form: &'a [(String, String)],
    name: &str,
    missing: &'static str,
) -> Result<&'a str, TokenError> {
    field(form, name)?.ok_or_else(|| invalid_request(missing))
}

/// The client of a request: HTTP Basic (`client_id:client_secret`, each form-urlencoded first,
/// RFC 6749 §2.3.1) or the form's `client_id` and `client_secret`; never both.
pub fn client(
    authorization: Option<&str>,
    form: &[(String, String)],
) -> Result<ClientCredentials, TokenError> {
    let posted_id = field(form, "client_id")?;
    let posted_secret = field(form, "client_secret")?;
    let basic = authorization
        .map(str::trim)
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Basic"));
    match basic {
        Some((_, encoded)) => {
            if posted_secret.is_some() {
                return Err(invalid_request("Use one client authentication method"));
            }
            let decoded = Base64::decode_vec(encoded.trim()).map_err(|_| INVALID_CLIENT)?;
            let text = String::from_utf8(decoded).map_err(|_| INVALID_CLIENT)?;
            let (id, secret) = text.split_once(':').ok_or(INVALID_CLIENT)?;
            let id = urldecode(id);
            if posted_id.is_some_and(|posted| posted != id) {
                return Err(INVALID_CLIENT);
            }
            Ok(ClientCredentials {
                client_id: id,
                secret: Some(urldecode(secret)),
            })
        }
        None => Ok(ClientCredentials {
            client_id: posted_id.ok_or(INVALID_CLIENT)?.to_owned(),
            secret: posted_secret.map(str::to_owned),
        }),
    }
}

fn urldecode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A token request's `resource`, if it names one, must be the grant's: one grant, one audience
/// (RFC 8707 §2.2).
pub fn same_resource(form: &[(String, String)], granted: Option<&str>) -> Result<(), TokenError> {
    match asked(form).as_slice() {
        [] => Ok(()),
        [one] if Some(*one) == granted => Ok(()),
        _ => Err(TokenError {
            error: "invalid_target",
            description: "resource must be the one the grant was given for",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn basic_post_and_none() {
        let header = format!("Basic {}", Base64::encode_string(b"c%3A1:s%2Bx"));
        let basic = client(Some(&header), &form(&[])).unwrap();
        assert_eq!(
            basic,
            ClientCredentials {
                client_id: "c:1".into(),
                secret: Some("s+x".into())
            }
        );
        let post = client(None, &form(&[("client_id", "c1"), ("client_secret", "s")])).unwrap();
        assert_eq!(post.secret.as_deref(), Some("s"));
        let public = client(None, &form(&[("client_id", "c1")])).unwrap();
        assert_eq!(public.secret, None);
        assert_eq!(
            client(None, &form(&[])).unwrap_err().error,
            "invalid_client"
        );
        assert_eq!(
            client(Some(&header), &form(&[("client_secret", "s")]))
                .unwrap_err()
                .error,
            "invalid_request"
        );
        assert_eq!(
            client(Some("Basic !!"), &form(&[])).unwrap_err().error,
            "invalid_client"
        );
        assert_eq!(
            field(&form(&[("a", "1"), ("a", "2")]), "a")
                .unwrap_err()
                .error,
            "invalid_request"
        );
    }
}
