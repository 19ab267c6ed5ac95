//! Who is asking: the key of the anti-hoarding limits, for the pages and the API alike.

use poem::Request;

use crate::domain::network::limit_key;

/// The client's IP address: the first `X-Forwarded-For` hop when `trust_forwarded_for`, else the
/// peer address. What staff actions record in the audit log.
pub(crate) fn client_address(request: &Request, trust_forwarded_for: bool) -> Option<String> {
    let forwarded = || request.header("x-forwarded-for")?.split(',').next().map(str::trim).filter(|h| !h.is_empty());
    if let Some(first) = forwarded().filter(|_| trust_forwarded_for) {
        return Some(first.to_owned());
    }
    request.remote_addr().as_socket_addr().map(|a| a.ip().to_string())
}

/// The key a client's limits are counted under: its IPv4 address, or its IPv6 network's /64 —
/// one subscriber's line, whose addresses it may rotate at will to get a fresh budget each time.
pub(crate) fn client_key(request: &Request, trust_forwarded_for: bool) -> Option<String> {
    let address = client_address(request, trust_forwarded_for)?;
    Some(limit_key(&address))
}
