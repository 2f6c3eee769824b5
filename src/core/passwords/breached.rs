//! The Have I Been Pwned range query (k-anonymity): only the first five hex digits of the
//! password's SHA-1 leave the worker (NIST SP 800-63B §5.1.1.2: check against breached corpuses).

use sha1::{Digest, Sha1};

/// The two halves of a password's uppercase hex SHA-1: the 5-character prefix that is sent, and
/// the 35-character suffix that is looked for in the answer.
#[derive(Debug, PartialEq, Eq)]
pub struct RangeQuery {
    pub prefix: String,
    pub suffix: String,
}

impl RangeQuery {
    pub fn for_password(password: &str) -> Self {
        let hex: String = Sha1::digest(password.as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let (prefix, suffix) = hex.split_at(5);
        Self {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
        }
    }

    /// Whether the range answer (`SUFFIX:COUNT` lines) lists our suffix with a count above zero
    /// (padding entries, asked for with `Add-Padding`, have a count of zero).
    pub fn found_in(&self, range: &str) -> bool {
        range.lines().any(|line| {
            line.trim().split_once(':').is_some_and(|(suffix, count)| {
                suffix.eq_ignore_ascii_case(&self.suffix)
                    && count.trim().parse::<u64>().is_ok_and(|n| n > 0)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_sha1_of_the_password() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8
        let query = RangeQuery::for_password("password");
        assert_eq!(query.prefix, "5BAA6");
        assert_eq!(query.suffix, "1E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }

    #[test]
    fn finds_listed_suffixes_but_not_padding() {
        let query = RangeQuery::for_password("password");
        let answer = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\r\n";
        assert!(query.found_in(answer));
        assert!(
            !query.found_in("1E4C9B93F3F0682250B6CF8331B7EE68FD8:0\r\n"),
            "padding"
        );
        assert!(!query.found_in("0018A45C4D1DEF81644B54AB7F969B88D65:3\r\n"));
        assert!(!query.found_in(""));
    }
}
