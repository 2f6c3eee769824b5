//! The client address that per-address limits are keyed by (login lockout, flood shield).

use std::net::IpAddr;

/// The bucket of requests that carry no readable `CF-Connecting-IP` (on Cloudflare every request
/// has one; locally, or through a misbehaving proxy, they share this one bucket).
pub const UNKNOWN: &str = "unknown";

/// A client as rate limits see it: an IPv4 address, or the /64 prefix of an IPv6 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(String);

impl ClientAddress {
    /// Reads `CF-Connecting-IP`. IPv6 is keyed by its /64, because one subscriber is usually
    /// handed a whole /64 and can rotate through it at will (RFC 6177; OWASP Credential Stuffing
    /// Prevention: rate-limit by network, not only by address).
    pub fn from_header(header: Option<&str>) -> Self {
        match header
            .map(str::trim)
            .and_then(|raw| raw.parse::<IpAddr>().ok())
        {
            Some(IpAddr::V4(v4)) => Self(v4.to_string()),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(v4.to_string()),
                None => {
                    let s = v6.segments();
                    Self(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
                }
            },
            None => Self(UNKNOWN.to_owned()),
        }
    }

    /// A client recorded earlier by its `as_str` (a login waiting for its second factor).
    pub fn from_stored(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_their_buckets() {
        let cases = [
            (Some("203.0.113.7"), "203.0.113.7", "IPv4 as it is"),
            (Some(" 203.0.113.7 "), "203.0.113.7", "trimmed"),
            (
                Some("2001:db8:1:2:3:4:5:6"),
                "2001:db8:1:2::/64",
                "IPv6 by its /64",
            ),
            (
                Some("2001:0db8:0001:0002:ffff::1"),
                "2001:db8:1:2::/64",
                "one /64, another host",
            ),
            (Some("::ffff:198.51.100.1"), "198.51.100.1", "IPv4-mapped"),
            (None, UNKNOWN, "no header"),
            (Some(""), UNKNOWN, "empty"),
            (Some("not an address"), UNKNOWN, "garbage"),
            (
                Some("1.2.3.4, 5.6.7.8"),
                UNKNOWN,
                "a list is not an address",
            ),
        ];
        for (header, expected, why) in cases {
            assert_eq!(
                ClientAddress::from_header(header).as_str(),
                expected,
                "{why}"
            );
        }
    }
}
