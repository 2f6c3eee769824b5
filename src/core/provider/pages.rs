//! The hosted pages' text: templates (`edge/provider/pages/`) filled with escaped values.

/// `text` made safe for HTML text and quoted attribute values (OWASP XSS Prevention Cheat Sheet,
/// rules 1 and 2).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// `template` with each `{{name}}` replaced by its value, which the caller escaped (or built
/// from escaped parts). A placeholder without a value is left empty.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        if let Some((_, value)) = values.iter().find(|(n, _)| *n == name) {
            out.push_str(value);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Whether the sign-in page may go back to `to` once the person signed in: an authorization
/// request or the device page of this origin, and nothing else (no open redirect).
pub fn is_return_to(to: &str) -> bool {
    to.starts_with("/oauth2/authorize?") || is_device_page(to)
}

/// Whether `to` is the device page (RFC 8628 §3.3's verification URI), with or without its code.
pub fn is_device_page(to: &str) -> bool {
    to == "/oauth2/device" || to.starts_with("/oauth2/device?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_filled_once() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
        let filled = fill(
            "<p title=\"{{t}}\">{{t}} {{missing}}</p>",
            &[("t", &escape("{{t}}<"))],
        );
        assert_eq!(filled, "<p title=\"{{t}}&lt;\">{{t}}&lt; </p>");
    }

    #[test]
    fn the_sign_in_page_returns_to_an_authorize_request_or_the_device_page_only() {
        assert!(is_return_to("/oauth2/authorize?client_id=c"));
        assert!(is_return_to("/oauth2/device"));
        assert!(is_return_to("/oauth2/device?user_code=BCDF-GHJK"));
        for bad in [
            "/oauth2/devices",
            "//evil.example/oauth2/device",
            "https://evil.example/",
            "/oauth2/authorize",
        ] {
            assert!(!is_return_to(bad), "{bad}");
        }
    }
}
