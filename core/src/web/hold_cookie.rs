//! A hold's secret, kept by the citizen's browser: the details, review and confirm pages name the
//! hold in their URL, and only the browser that placed it can show its secret.

use poem::Request;
use uuid::Uuid;

use crate::app::PlacedHold;
use crate::holds::HoldToken;

fn name(id: Uuid) -> String {
    format!("hold-{}", id.simple())
}

/// The secret of hold `id` that this browser keeps, if any.
pub fn read(request: &Request, id: Uuid) -> Option<HoldToken> {
    super::cookie(request, &name(id)).and_then(HoldToken::parse)
}

/// A `Set-Cookie` value that keeps `placed`'s secret for the tenant's pages while the hold can
/// still be confirmed (live, or renewable for a while after).
pub fn set(request: &Request, placed: &PlacedHold, now: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = (placed.hold.expires_at - now).num_seconds().max(0) + 3600;
    let https = request.uri().scheme_str() == Some("https")
        || request.header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!(
        "{}={}; Path=/t/{}/; Max-Age={seconds}; HttpOnly; SameSite=Lax{}",
        name(placed.hold.id),
        placed.token.as_str(),
        placed.tenant.config.slug,
        if https { "; Secure" } else { "" },
    )
}
