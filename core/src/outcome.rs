//! What a use case's error means to whoever asked: one table for the API and the pages.
//!
//! `http/problem.rs` turns an `Outcome` into problem JSON, the pages into an error page in the
//! visitor's language; neither decides a status on its own. Faults (ours or a dependency's) are
//! logged here, once, without personal data, and counted for `/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::app::AppError;

/// How an error is answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: u16,
    /// The problem type, `/problems/{kind}`.
    pub kind: &'static str,
    pub title: &'static str,
    /// In English, for API clients.
    pub detail: String,
    /// Message keys of the error page's title and text.
    pub page_title: &'static str,
    pub page_body: &'static str,
    /// Seconds a client should wait before trying again.
    pub retry_after: Option<u32>,
    /// True when the fault is ours or a dependency's, not the client's.
    pub fault: bool,
}

/// Faults answered since the process started, by problem type.
static FAULTS: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

/// How long a client should wait after a database or hold-store outage.
const OUTAGE_RETRY_SECONDS: u32 = 5;

impl Outcome {
    fn client(
        status: u16,
        kind: &'static str,
        title: &'static str,
        detail: String,
        page: (&'static str, &'static str),
    ) -> Self {
        Self { status, kind, title, detail, page_title: page.0, page_body: page.1, retry_after: None, fault: false }
    }

    fn fault(
        status: u16,
        kind: &'static str,
        title: &'static str,
        detail: &str,
        body: &'static str,
        retry_after: Option<u32>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.to_owned(),
            page_title: "unavailable-title",
            page_body: body,
            retry_after,
            fault: true,
        }
    }

    /// The outcome of `error`. A fault is logged and counted: call this once per answer.
    pub fn of(error: &AppError) -> Self {
        let outcome = Self::classify(error);
        if outcome.fault {
            // The error's text names the failing part (database, Redis, pack), never the citizen.
            tracing::error!(kind = outcome.kind, %error, "request failed");
            if let Ok(mut faults) = FAULTS.lock() {
                *faults.entry(outcome.kind).or_default() += 1;
            }
        }
        outcome
    }

    fn classify(error: &AppError) -> Self {
        let detail = error.to_string();
        match error {
            AppError::NotFound(what) => Self::client(
                404,
                "not-found",
                "Not found",
                format!("No such {what}."),
                ("not-found-title", "not-found-body"),
            ),
            AppError::Invalid(_) => Self::client(
                422,
                "validation",
                "Invalid request",
                "Some fields need attention.".into(),
                ("invalid-title", "invalid-body"),
            ),
            AppError::ServiceInactive => Self::client(
                409,
                "service-inactive",
                "Service not bookable",
                detail,
                ("service-inactive-title", "service-inactive-body"),
            ),
            AppError::SlotTaken => Self::client(
                409,
                "slot-taken",
                "Slot no longer available",
                detail,
                ("hold-expired-title", "slot-taken"),
            ),
            AppError::HoldUnknown => {
                Self::client(409, "hold-expired", "Hold expired", detail, ("hold-gone-title", "hold-gone-body"))
            }
            AppError::HoldUsed(code) => Self::client(
                409,
                "hold-used",
                "Hold already confirmed",
                code.as_ref().map_or(detail, |code| format!("This hold was already confirmed: booking {code}.")),
                ("already-confirmed-title", "already-confirmed-body"),
            ),
            AppError::HoldIdTaken => {
                Self::client(409, "hold-id-taken", "Hold id in use", detail, ("hold-gone-title", "hold-gone-body"))
            }
            AppError::NobodyWaiting => Self::client(
                409,
                "nobody-waiting",
                "Nobody waiting",
                detail,
                ("nobody-waiting-title", "nobody-waiting-body"),
            ),
            AppError::NothingFreeToday => Self::client(
                409,
                "nothing-free-today",
                "Nothing free today",
                detail,
                ("nothing-free-today-title", "nothing-free-today-body"),
            ),
            AppError::DeskRefused(_) => Self::client(
                409,
                "desk-step-refused",
                "Desk step not possible",
                detail,
                ("desk-refused-title", "desk-refused-body"),
            ),
            AppError::NotChangeable => Self::client(
                409,
                "booking-not-changeable",
                "Booking cannot change",
                detail,
                ("not-changeable-title", "not-changeable-body"),
            ),
            AppError::RateLimited { retry_after } => Self {
                retry_after: Some(*retry_after),
                ..Self::client(429, "rate-limited", "Too many requests", detail, ("rate-limited-title", "rate-limited"))
            },
            AppError::TooManyHolds(_) => Self::client(
                429,
                "too-many-holds",
                "Too many slots on hold",
                detail,
                ("rate-limited-title", "too-many-holds"),
            ),
            AppError::BookingLimit(_) => Self::client(
                409,
                "booking-limit-reached",
                "Booking limit reached",
                detail,
                ("booking-limit-title", "booking-limit-body"),
            ),
            AppError::IdempotencyMismatch => Self::client(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                detail,
                ("already-confirmed-title", "already-confirmed-body"),
            ),
            AppError::TenantSuspended => Self::client(
                503,
                "tenant-suspended",
                "Temporarily unavailable",
                detail,
                ("unavailable-title", "tenant-suspended-body"),
            ),
            AppError::Unauthenticated => Self::client(
                401,
                "unauthenticated",
                "Sign in first",
                detail,
                ("unauthenticated-title", "unauthenticated-body"),
            ),
            AppError::LoginFailed => Self::client(
                401,
                "login-failed",
                "Login failed",
                detail,
                ("unauthenticated-title", "login-failed-body"),
            ),
            AppError::Forbidden => {
                Self::client(403, "forbidden", "Forbidden", detail, ("forbidden-title", "forbidden-body"))
            }
            AppError::CodeRequired => Self::client(
                401,
                "code-required",
                "Second factor required",
                detail,
                ("unauthenticated-title", "login-failed-body"),
            ),
            AppError::TwoFactorRequired => Self::client(
                403,
                "two-factor-required",
                "Second factor required",
                detail,
                ("two-factor-required-title", "two-factor-required-body"),
            ),
            AppError::StaleForm => {
                Self::client(403, "form-expired", "Form expired", detail, ("forbidden-title", "form-expired-body"))
            }
            AppError::StaleVersion { current, changes } => Self::client(
                412,
                "stale-version",
                "Saved meanwhile",
                if changes.is_empty() {
                    detail
                } else {
                    format!("Version {current} was saved meanwhile: {}. Review it and edit again.", changes.join("; "))
                },
                ("stale-version-title", "stale-version-body"),
            ),
            AppError::StrandsBookings(_) => Self::client(
                409,
                "strands-bookings",
                "Bookings would be stranded",
                detail,
                ("strands-bookings-title", "strands-bookings-body"),
            ),
            AppError::BookingsChanged => Self::client(
                409,
                "bookings-changed",
                "Bookings changed",
                detail,
                ("strands-bookings-title", "strands-bookings-body"),
            ),
            AppError::VersionRequired => {
                Self::client(428, "if-match-required", "If-Match required", detail, ("invalid-title", "invalid-body"))
            }
            AppError::LinkInvalid => {
                Self::client(404, "link-invalid", "Link not valid", detail, ("not-found-title", "link-invalid-body"))
            }
            AppError::LinkExpired => {
                Self::client(410, "link-expired", "Link expired", detail, ("link-expired-title", "link-expired-body"))
            }
            AppError::InvitationInvalid => Self::client(
                404,
                "invitation-invalid",
                "Invitation not valid",
                detail,
                ("not-found-title", "invitation-invalid-body"),
            ),
            AppError::Internal(_) => {
                Self::fault(500, "internal", "Internal error", "Please try again later.", "unavailable-body", None)
            }
            AppError::Busy => Self::fault(503, "busy", "Busy", &detail, "unavailable-body", Some(1)),
            AppError::RuleUnavailable => Self::fault(
                503,
                "rule-unavailable",
                "Service rule unavailable",
                "This service's rule is unavailable: please try again later or call the office.",
                "rule-unavailable-body",
                Some(30),
            ),
            AppError::Pack(_) => Self::fault(
                500,
                "tenant-misconfigured",
                "Tenant misconfigured",
                "This public body's configuration needs attention; please call the office.",
                "misconfigured-body",
                None,
            ),
            AppError::Store(_) | AppError::Holds(_) => Self::fault(
                503,
                "unavailable",
                "Temporarily unavailable",
                "Please try again in a moment.",
                "unavailable-body",
                Some(OUTAGE_RETRY_SECONDS),
            ),
        }
    }
}

/// Faults answered so far, by problem type, for `/metrics`.
pub fn faults() -> Vec<(&'static str, u64)> {
    FAULTS.lock().map(|f| f.iter().map(|(k, v)| (*k, *v)).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn outages_are_faults_with_a_retry_and_client_errors_are_not() {
        let outage = Outcome::of(&AppError::Store(StoreError::Corrupt("x".into())));
        assert_eq!((outage.status, outage.kind, outage.fault, outage.retry_after), (503, "unavailable", true, Some(5)));
        assert!(faults().iter().any(|(kind, n)| *kind == "unavailable" && *n >= 1));
        let taken = Outcome::of(&AppError::SlotTaken);
        assert_eq!((taken.status, taken.fault), (409, false));
        let not_found = Outcome::of(&AppError::NotFound("booking"));
        assert_eq!((not_found.status, not_found.page_title), (404, "not-found-title"));
    }
}
