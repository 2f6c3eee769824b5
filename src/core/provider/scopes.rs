//! The scopes the provider knows (OpenID Connect Core §5.4, §11, and `organization`, this
//! service's own), read from a request's space-separated `scope` and kept in one order, so that
//! stored and compared scopes agree.

/// Every scope, in the order they are stored and shown.
pub const KNOWN: [&str; 5] = ["openid", "profile", "email", "offline_access", ORGANIZATION];

/// The scope whose tokens carry an organization the person chooses at consent, with their role
/// in it (`org_id`, `org_role`, `org_permissions`, as a first-party token's).
pub const ORGANIZATION: &str = "organization";

/// A set of known scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<&'static str>);

impl Scopes {
    /// A `scope` parameter: space-separated known scopes (RFC 6749 §3.3). An unknown one is
    /// `Err` with its name; repeats count once.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut found = Vec::new();
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let known = KNOWN
                .iter()
                .find(|k| **k == word)
                .ok_or_else(|| word.chars().take(40).collect::<String>())?;
            found.push(*known);
        }
        Ok(Self::from_known(&found))
    }

    /// Every known scope.
    pub fn all() -> Self {
        Self(KNOWN.to_vec())
    }

    fn from_known(found: &[&'static str]) -> Self {
        Self(
            KNOWN
                .iter()
                .copied()
                .filter(|k| found.contains(k))
                .collect(),
        )
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every scope of `self` is in `other`.
    pub fn within(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    /// Both sets together.
    pub fn union(&self, other: &Scopes) -> Scopes {
        let joined: Vec<&'static str> = self.0.iter().chain(other.0.iter()).copied().collect();
        Self::from_known(&joined)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }

    /// What the consent page says a scope lets the app do.
    pub fn describe(scope: &str) -> &'static str {
        match scope {
            "openid" => "Know who you are (your account's id)",
            "profile" => "See your name",
            "email" => "See your email address and whether it is verified",
            "offline_access" => "Stay signed in to your account when you are not using it",
            ORGANIZATION => "Know the organization you choose below, and your role in it",
            _ => "",
        }
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_known_words_in_one_order() {
        let scopes = Scopes::parse("email  openid email").unwrap();
        assert_eq!(scopes.to_string(), "openid email");
        assert_eq!(Scopes::parse("openid admin").unwrap_err(), "admin");
        assert!(Scopes::parse("").unwrap().is_empty());
        assert_eq!(
            Scopes::parse("organization openid").unwrap().to_string(),
            "openid organization"
        );
    }

    #[test]
    fn every_known_scope_is_described() {
        for scope in KNOWN {
            assert!(!Scopes::describe(scope).is_empty(), "{scope}");
        }
    }

    #[test]
    fn within_and_union() {
        let small = Scopes::parse("openid").unwrap();
        let large = Scopes::parse("openid email profile").unwrap();
        assert!(small.within(&large) && !large.within(&small));
        assert_eq!(
            small.union(&Scopes::parse("email").unwrap()).to_string(),
            "openid email"
        );
    }
}
