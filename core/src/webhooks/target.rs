//! Where a webhook may go. A body's admin types the address, so it must not become a way into
//! the platform's own network (SSRF): the address is http(s) on a host name or a public IP, and
//! every address its name resolves to when it is sent must be public too (`client.rs` connects
//! only to those). The platform may allow private targets (its tests, an intranet install).

use std::net::{IpAddr, Ipv4Addr};

/// Whether targets on loopback, private, link-local and other non-public addresses are allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetPolicy {
    #[default]
    PublicOnly,
    AllowPrivate,
}

impl TargetPolicy {
    pub fn allows(self, ip: IpAddr) -> bool {
        self == Self::AllowPrivate || is_public(ip)
    }
}

/// A checked webhook address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("use an http:// or https:// address of at most 500 characters, without user or password")]
    Malformed,
    #[error("this address is on a private or reserved network, which webhooks may not reach")]
    Private,
}

impl Target {
    pub fn parse(raw: &str, policy: TargetPolicy) -> Result<Self, TargetError> {
        let raw = raw.trim();
        if raw.len() > 500 || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(TargetError::Malformed);
        }
        let url = reqwest::Url::parse(raw).map_err(|_| TargetError::Malformed)?;
        // Punycode and percent-encoding can lengthen it: judged as it will be stored.
        if url.as_str().len() > 500
            || !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
            || url.fragment().is_some()
        {
            return Err(TargetError::Malformed);
        }
        match url.host() {
            None => return Err(TargetError::Malformed),
            Some(url::Host::Ipv4(ip)) if !policy.allows(IpAddr::V4(ip)) => return Err(TargetError::Private),
            Some(url::Host::Ipv6(ip)) if !policy.allows(IpAddr::V6(ip)) => return Err(TargetError::Private),
            Some(url::Host::Domain(name)) if policy == TargetPolicy::PublicOnly && is_local_name(name) => {
                return Err(TargetError::Private);
            }
            Some(_) => {}
        }
        Ok(Self(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Names that only ever mean this machine or its network.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || [".localhost", ".local", ".internal", ".home.arpa"].iter().any(|s| name.ends_with(s))
}

/// Reachable on the public internet: not loopback, private (RFC 1918, unique local), link-local
/// (the cloud metadata address among them), shared (CGNAT), documentation, benchmarking,
/// multicast, broadcast or reserved; IPv4 inside IPv6 is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let low_v4 = || Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
            // Addresses that carry an IPv4 address are judged by it: NAT64 (64:ff9b::/96, and the
            // local-use 64:ff9b:1::/48) and IPv4-compatible (::/96) in their last 32 bits, 6to4
            // (2002::/16) in the 32 bits after the prefix.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_v4(low_v4());
            }
            if s[..3] == [0x64, 0xff9b, 1] {
                return false;
            }
            if s[..6] == [0, 0, 0, 0, 0, 0] {
                return !v6.is_loopback() && !v6.is_unspecified() && is_public_v4(low_v4());
            }
            if s[0] == 0x2002 {
                return is_public_v4(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])));
            }
            // Otherwise only global unicast (2000::/3), without the documentation, Teredo and
            // other special-purpose blocks of 2001::/23.
            (s[0] & 0xe000) == 0x2000 && !(s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_reserved_addresses_are_not_targets() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::7f00:1",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "64:ff9b:1::a00:1",
            "2001::1",
            "2001:db8::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in
            ["93.184.216.34", "8.8.8.8", "2a00:1450:4002::1", "64:ff9b::808:808", "2002:808:808::1", "2001:4860::8888"]
        {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn addresses_are_checked_before_they_are_stored() {
        let public = TargetPolicy::PublicOnly;
        assert!(Target::parse("https://crm.ente.example/hooks/sportello", public).is_ok());
        for (raw, error) in [
            ("ftp://ente.example/x", TargetError::Malformed),
            ("https://user:pass@ente.example/", TargetError::Malformed),
            ("https://ente.example/a b", TargetError::Malformed),
            ("not a url", TargetError::Malformed),
            ("http://127.0.0.1:8080/x", TargetError::Private),
            ("http://[::1]/x", TargetError::Private),
            ("http://169.254.169.254/latest/meta-data/", TargetError::Private),
            ("http://localhost:9000/", TargetError::Private),
            ("http://metadata.google.internal/", TargetError::Private),
        ] {
            assert_eq!(Target::parse(raw, public), Err(error), "{raw}");
        }
        assert!(Target::parse("http://127.0.0.1:8080/x", TargetPolicy::AllowPrivate).is_ok());
    }
}
