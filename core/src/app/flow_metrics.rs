//! How holds and bookings ended, counted by tenant and outcome (served on `/metrics`), so that an
//! operator sees a click day's refusals or a failing database as numbers, never as names.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::AppError;

/// What was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flow {
    Hold,
    Booking,
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Self::Hold => "holds",
            Self::Booking => "bookings",
        }
    }
}

/// One counter: how many `flow` requests of `tenant` ended in `outcome`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowCount {
    pub tenant: String,
    pub flow: Flow,
    pub outcome: &'static str,
    pub count: u64,
}

#[derive(Default)]
pub(super) struct FlowMetrics(Mutex<BTreeMap<(String, Flow, &'static str), u64>>);

impl FlowMetrics {
    /// Counts one answer: `Ok(label)` for a success ("placed", "confirmed", "replayed"), or the error.
    pub(super) fn count(&self, tenant: &str, flow: Flow, outcome: Result<&'static str, &AppError>) {
        let label = outcome.unwrap_or_else(|error| refusal(error));
        // A poisoned lock only loses a count; bookings go on.
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry((tenant.to_owned(), flow, label)).or_default() += 1;
        }
    }

    pub(super) fn snapshot(&self) -> Vec<FlowCount> {
        let Ok(counts) = self.0.lock() else { return Vec::new() };
        counts
            .iter()
            .map(|((tenant, flow, outcome), count)| FlowCount {
                tenant: tenant.clone(),
                flow: *flow,
                outcome,
                count: *count,
            })
            .collect()
    }
}

/// A few labels that tell a busy day (taken, limited) from a broken one (unavailable): a bounded
/// set, whatever the error holds.
fn refusal(error: &AppError) -> &'static str {
    match error {
        AppError::SlotTaken | AppError::NothingFreeToday => "slot_taken",
        AppError::HoldUnknown => "hold_expired",
        AppError::HoldUsed(_) | AppError::HoldIdTaken | AppError::IdempotencyMismatch => "conflict",
        AppError::Invalid(_) => "invalid",
        AppError::RateLimited { .. } | AppError::TooManyHolds(_) => "rate_limited",
        AppError::BookingLimit(_) => "booking_limit",
        AppError::ServiceInactive | AppError::TenantSuspended => "closed",
        AppError::NotFound(_) => "not_found",
        AppError::RuleUnavailable => "rule_unavailable",
        AppError::Busy | AppError::Store(_) | AppError::Holds(_) => "unavailable",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_successes_and_refusals_by_tenant() {
        let metrics = FlowMetrics::default();
        metrics.count("a", Flow::Hold, Ok("placed"));
        metrics.count("a", Flow::Hold, Ok("placed"));
        metrics.count("a", Flow::Hold, Err(&AppError::SlotTaken));
        metrics.count("b", Flow::Booking, Err(&AppError::Busy));
        let counted: Vec<_> = metrics.snapshot().into_iter().map(|c| (c.tenant, c.flow, c.outcome, c.count)).collect();
        assert_eq!(
            counted,
            vec![
                ("a".into(), Flow::Hold, "placed", 2),
                ("a".into(), Flow::Hold, "slot_taken", 1),
                ("b".into(), Flow::Booking, "unavailable", 1),
            ]
        );
    }
}
