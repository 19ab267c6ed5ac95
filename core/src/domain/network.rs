//! Clients as the limits count them: one subscriber's line, whatever address of it they use.

// `core::net`: addresses only, no sockets.
use core::net::IpAddr;

/// The key a client's limits are counted under: its IPv4 address, or its IPv6 network's /64 —
/// one subscriber's line, whose addresses it may rotate at will to get a fresh budget each time.
pub fn limit_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        // Not an address (a proxy's odd header): counted as given, within a bound.
        Err(_) => address.chars().take(64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::limit_key;

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_stays_whole() {
        assert_eq!(limit_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(limit_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(limit_key("2001:db8:1:3::1"), limit_key("2001:db8:1:2::1"));
        assert_eq!(limit_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(limit_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(limit_key(&"x".repeat(500)).len(), 64);
    }
}
