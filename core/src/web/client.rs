//! Who is asking: the key of the anti-hoarding limits, for the pages and the API alike.

use poem::Request;

/// The client's IP address, the key of the anti-hoarding limits: the first `X-Forwarded-For`
/// hop when `trust_forwarded_for`, else the peer address. The API uses it too.
pub(crate) fn client_address(request: &Request, trust_forwarded_for: bool) -> Option<String> {
    let forwarded = || request.header("x-forwarded-for")?.split(',').next().map(str::trim).filter(|h| !h.is_empty());
    if let Some(first) = forwarded().filter(|_| trust_forwarded_for) {
        return Some(first.to_owned());
    }
    request.remote_addr().as_socket_addr().map(|a| a.ip().to_string())
}
