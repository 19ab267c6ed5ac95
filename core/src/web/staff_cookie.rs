//! The staff session cookie, for the admin pages and the admin API's login alike.
//!
//! `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it), and
//! `Secure` with the `__Host-` prefix (only over HTTPS, only set by this host, for every path)
//! unless the server was started explicitly for plain http (`--plain-http`, the demo).

use chrono::{DateTime, Utc};
use poem::Request;

fn name(plain_http: bool) -> &'static str {
    if plain_http { "sportello-staff" } else { "__Host-sportello-staff" }
}

/// The session token the browser sent, if any.
pub fn read(request: &Request, plain_http: bool) -> Option<String> {
    super::cookie(request, name(plain_http)).map(str::to_owned)
}

/// A `Set-Cookie` value carrying `token` until the session's absolute expiry.
pub fn set(token: &str, expires_at: DateTime<Utc>, now: DateTime<Utc>, plain_http: bool) -> String {
    let seconds = (expires_at - now).num_seconds().max(0);
    format!("{}={token}; {}; Max-Age={seconds}", name(plain_http), attributes(plain_http))
}

/// A `Set-Cookie` value that makes the browser forget the session.
pub fn clear(plain_http: bool) -> String {
    format!("{}=; {}; Max-Age=0", name(plain_http), attributes(plain_http))
}

fn attributes(plain_http: bool) -> &'static str {
    if plain_http { "Path=/; HttpOnly; SameSite=Strict" } else { "Path=/; HttpOnly; SameSite=Strict; Secure" }
}
