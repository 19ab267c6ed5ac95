//! The secret of the citizen's booking in progress, kept by their browser: one cookie per tenant
//! naming the current hold and its secret. The details, review and receipt pages name the hold in
//! their URL, and only the browser that placed it can show its secret. A new choice of time keeps
//! the secret and replaces the hold, so a citizen never holds more than one place at a time.

use poem::Request;
use uuid::Uuid;

use crate::app::{DRAFT_GRACE, PlacedHold};
use crate::holds::HoldToken;

const NAME: &str = "hold";

/// The hold this browser is booking with, and its secret.
pub fn current(request: &Request) -> Option<(Uuid, HoldToken)> {
    let (id, token) = super::cookie(request, NAME)?.split_once('.')?;
    Some((Uuid::parse_str(id).ok()?, HoldToken::parse(token)?))
}

/// The secret of hold `id`, if it is the one this browser is booking with.
pub fn read(request: &Request, id: Uuid) -> Option<HoldToken> {
    current(request).filter(|(current, _)| *current == id).map(|(_, token)| token)
}

fn secure(request: &Request) -> &'static str {
    let https = request.uri().scheme_str() == Some("https")
        || request.header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
    if https { "; Secure" } else { "" }
}

/// A `Set-Cookie` value that keeps `placed`'s secret for the tenant's pages while the hold can
/// still be confirmed (live, or renewable for a while after) and its receipt shown.
pub fn set(request: &Request, placed: &PlacedHold, now: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = (placed.hold.expires_at - now + DRAFT_GRACE).num_seconds().max(0);
    format!(
        "{NAME}={}.{}; Path=/t/{}/; Max-Age={seconds}; HttpOnly; SameSite=Lax{}",
        placed.hold.id.simple(),
        placed.token.as_str(),
        placed.tenant.config.slug,
        secure(request),
    )
}

/// A `Set-Cookie` value that starts a booking in progress before any place is held (a service
/// that checks answers first): the secret, with no hold yet (the nil id).
pub fn start(request: &Request, tenant: &str, token: &HoldToken, lasts: chrono::TimeDelta) -> String {
    format!(
        "{NAME}={}.{}; Path=/t/{tenant}/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        Uuid::nil().simple(),
        token.as_str(),
        lasts.num_seconds().max(0),
        secure(request),
    )
}

/// A `Set-Cookie` value that forgets the booking in progress (its place was given back).
pub fn clear(request: &Request, tenant: &str) -> String {
    format!("{NAME}=; Path=/t/{tenant}/; Max-Age=0; HttpOnly; SameSite=Lax{}", secure(request))
}
