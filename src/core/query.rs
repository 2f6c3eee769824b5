//! A request URL's query string, read one way for every route: its `name=value` pairs,
//! percent-decoded (`application/x-www-form-urlencoded`, as the WHATWG URL standard reads a
//! query), and the URL's origin.

/// The query's pairs, in order, decoded; an absent query is none.
pub fn pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The first value of `name`, if any.
pub fn value(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// `scheme://host[:port]` of an absolute URL.
/// A path segment with its percent-escapes decoded (RFC 3986 §2.1): a metadata-document client's
/// id is a URL, sent in a path as `https%3A%2F%2F…`. `None` if it does not decode to UTF-8.
pub fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

pub fn origin(url: &str) -> &str {
    let before = url.split(['?', '#']).next().unwrap_or(url);
    match before.find("://") {
        Some(at) => before[at + 3..]
            .find('/')
            .map_or(before, |end| &before[..at + 3 + end]),
        None => before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_query_decoded() {
        let url = "https://auth.example/logout?x=1&scope=all#frag";
        let read = pairs(url);
        assert_eq!(value(&read, "scope").as_deref(), Some("all"));
        assert_eq!(value(&read, "x").as_deref(), Some("1"));
        assert_eq!(value(&read, "y"), None);
        assert!(pairs("https://auth.example/logout").is_empty());
        assert_eq!(
            value(&pairs("https://a.example/?scope"), "scope").as_deref(),
            Some("")
        );
        let decoded = pairs("https://a.example/?scope=al%6C&to=a%2Bb+c");
        assert_eq!(value(&decoded, "scope").as_deref(), Some("all"));
        assert_eq!(value(&decoded, "to").as_deref(), Some("a+b c"));
    }

    #[test]
    fn the_origin() {
        assert_eq!(
            origin("https://auth.example:8787/oauth/x/callback?code=1"),
            "https://auth.example:8787"
        );
        assert_eq!(origin("http://127.0.0.1:9?x=/y"), "http://127.0.0.1:9");
    }

    #[test]
    fn path_segments_decode_their_escapes() {
        assert_eq!(
            decode_segment("https%3A%2F%2Fa.example%2Fc.json").as_deref(),
            Some("https://a.example/c.json")
        );
        assert_eq!(decode_segment("abc%2").as_deref(), Some("abc%2"));
        assert_eq!(decode_segment("%FF"), None);
    }
}
