//! Finding a request's route in the table (`routes::ROUTES`): a path and method resolve to an
//! endpoint, a wrong method (with its `Allow`), or nothing; and the methods a path has, for CORS.

use worker::Method;

use crate::edge::routes::{Endpoint, Shield, ROUTES};

/// What a path and method resolve to.
pub enum Found {
    Route {
        pattern: &'static str,
        shield: Shield,
        endpoint: Endpoint,
        params: Vec<String>,
    },
    /// The path exists with other methods: `allow` lists them (RFC 9110 §10.2.1).
    WrongMethod {
        allow: String,
    },
    NotFound,
}

/// Looks the request's path and method up in the table.
pub fn find(method: &Method, path: &str) -> Found {
    for (route_method, pattern, endpoint, shield) in ROUTES {
        if route_method != method {
            continue;
        }
        if let Some(params) = matches(pattern, path) {
            return Found::Route {
                pattern,
                shield: *shield,
                endpoint: *endpoint,
                params,
            };
        }
    }
    match methods(path) {
        Some(allow) => Found::WrongMethod { allow },
        None => Found::NotFound,
    }
}

/// What a CORS preflight of `path` allows: the table's methods, except on the admin API, which is
/// for the operator's backend and must never be called from a browser (no preflight, so no page
/// can send it a key cross-origin).
pub fn preflight_methods(path: &str) -> Option<String> {
    if path.starts_with("/admin/") {
        return None;
    }
    methods(path)
}

/// The methods the table has for `path`, with `OPTIONS` (every path answers a preflight), as an
/// `Allow` or `Access-Control-Allow-Methods` value; `None` for a path the table does not know.
pub fn methods(path: &str) -> Option<String> {
    let mut names: Vec<&str> = ROUTES
        .iter()
        .filter(|(_, pattern, ..)| matches(pattern, path).is_some())
        .map(|(method, ..)| method_name(method))
        .collect();
    if names.is_empty() {
        return None;
    }
    names.push("OPTIONS");
    Some(names.join(", "))
}

fn method_name(method: &Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Patch => "PATCH",
        _ => "OPTIONS",
    }
}

/// `Some(params)` when `path` fits `pattern`: equal segment by segment, a `{name}` segment
/// standing for any one non-empty segment (its values are the params, in order).
fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
    if !pattern.contains('{') {
        return (pattern == path).then(Vec::new);
    }
    let mut params = Vec::new();
    let mut wanted = pattern.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(name), Some(segment))
                if name.starts_with('{') && name.ends_with('}') && !segment.is_empty() =>
            {
                params.push(segment.to_owned());
            }
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern_of(method: Method, path: &str) -> Option<(&'static str, Option<String>)> {
        match find(&method, path) {
            Found::Route {
                pattern, params, ..
            } => Some((pattern, params.into_iter().next())),
            _ => None,
        }
    }

    #[test]
    fn paths_resolve_to_their_pattern() {
        assert_eq!(pattern_of(Method::Get, "/health"), Some(("/health", None)));
        assert_eq!(pattern_of(Method::Delete, "/me"), Some(("/me", None)));
        assert_eq!(
            pattern_of(Method::Delete, "/sessions/abc_-1"),
            Some(("/sessions/{id}", Some("abc_-1".to_owned())))
        );
        assert_eq!(
            pattern_of(Method::Get, "/oauth/google/start"),
            Some(("/oauth/{id}/start", Some("google".to_owned())))
        );
        assert_eq!(pattern_of(Method::Get, "/oauth//start"), None);
        assert_eq!(pattern_of(Method::Get, "/oauth/a/b/start"), None);
        match find(&Method::Delete, "/organizations/o1/teams/t1/members/7") {
            Found::Route { params, .. } => assert_eq!(params, ["o1", "t1", "7"]),
            _ => panic!("a pattern of three parameters"),
        }
    }

    #[test]
    fn wrong_methods_and_unknown_paths_are_told_apart() {
        let allow = |method, path| match find(&method, path) {
            Found::WrongMethod { allow } => Some(allow),
            _ => None,
        };
        assert_eq!(
            allow(Method::Patch, "/me").as_deref(),
            Some("GET, DELETE, OPTIONS")
        );
        assert_eq!(
            allow(Method::Get, "/login").as_deref(),
            Some("POST, OPTIONS")
        );
        assert_eq!(
            allow(Method::Get, "/sessions/x").as_deref(),
            Some("DELETE, OPTIONS")
        );
        for path in [
            "/",
            "/me/",
            "/sessions/",
            "/sessions/a/b",
            "/health/x",
            "/HEALTH",
        ] {
            assert!(
                matches!(find(&Method::Get, path), Found::NotFound),
                "{path}"
            );
        }
    }

    #[test]
    fn every_pattern_is_listed_once_per_method() {
        for (i, (method, pattern, ..)) in ROUTES.iter().enumerate() {
            assert!(
                ROUTES[i + 1..]
                    .iter()
                    .all(|(m, p, ..)| m != method || p != pattern),
                "{pattern}"
            );
        }
    }
}
