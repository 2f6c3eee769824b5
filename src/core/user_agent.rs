//! The `User-Agent` a session was started with, as `GET /sessions` shows it: enough for a person
//! to tell their phone from their laptop, bounded so a client cannot store kilobytes per login.

/// Characters kept of a User-Agent; longer ones end with `…`.
pub const MAX_CHARS: usize = 120;

/// The header shortened to `MAX_CHARS`, with control characters dropped and runs of whitespace
/// made one space (it is shown to people and written to JSON). `None` when nothing is left.
pub fn shorten(raw: &str) -> Option<String> {
    let words: Vec<&str> = raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect();
    let clean = words.join(" ");
    if clean.is_empty() {
        return None;
    }
    if clean.chars().count() <= MAX_CHARS {
        return Some(clean);
    }
    let mut short: String = clean.chars().take(MAX_CHARS - 1).collect();
    short.push('…');
    Some(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_agents_are_kept_clean() {
        assert_eq!(shorten("curl/8.5.0").as_deref(), Some("curl/8.5.0"));
        assert_eq!(
            shorten(" Mozilla/5.0 \t(X11;\u{0}\nLinux) ").as_deref(),
            Some("Mozilla/5.0 (X11; Linux)")
        );
        assert_eq!(shorten(" \n\u{7}"), None, "nothing left");
    }

    #[test]
    fn long_agents_are_cut_on_a_character() {
        let long = "é".repeat(500);
        let short = shorten(&long).unwrap();
        assert_eq!(short.chars().count(), MAX_CHARS);
        assert!(short.ends_with('…'));
    }
}
