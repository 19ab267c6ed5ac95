//! Units this instance recently saw full in the ledger.
//!
//! On a click day most hold requests are for places already sold. Answering those from a
//! second-long memory spares the database thousands of reads. It is safe: a full unit only
//! frees up by a cancellation or a move (this instance forgets the units at once; others within
//! `MEMORY`), so a stale answer is at worst a moment unfair, never an oversell — the ledger
//! write still decides every booking.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::TenantId;
use crate::domain::slots::Unit;

const MEMORY: Duration = Duration::from_secs(1);
/// Past this many entries, expired ones are swept.
const SWEEP_ABOVE: usize = 10_000;

type Key = (TenantId, String, Unit);

#[derive(Default)]
pub(super) struct FullUnits(Mutex<HashMap<Key, Instant>>);

impl FullUnits {
    pub(super) fn any(&self, tenant: TenantId, office: &str, units: &[Unit]) -> bool {
        let Ok(seen) = self.0.lock() else { return false };
        units.iter().any(|u| seen.get(&(tenant, office.to_owned(), *u)).is_some_and(|at| at.elapsed() < MEMORY))
    }

    pub(super) fn remember(&self, tenant: TenantId, office: &str, units: impl Iterator<Item = Unit>) {
        let Ok(mut seen) = self.0.lock() else { return };
        let now = Instant::now();
        for unit in units {
            seen.insert((tenant, office.to_owned(), unit), now);
        }
        if seen.len() > SWEEP_ABOVE {
            seen.retain(|_, at| at.elapsed() < MEMORY);
        }
    }

    /// Forgets every sold-out unit of `tenant`: its configuration changed, and desks with it.
    pub(super) fn forget_tenant(&self, tenant: TenantId) {
        if let Ok(mut seen) = self.0.lock() {
            seen.retain(|(t, _, _), _| *t != tenant);
        }
    }

    pub(super) fn forget(&self, tenant: TenantId, office: &str, units: &[Unit]) {
        if let Ok(mut seen) = self.0.lock() {
            for unit in units {
                seen.remove(&(tenant, office.to_owned(), *unit));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_for_a_moment_and_forgets_on_request() {
        let full = FullUnits::default();
        full.remember(TenantId::from_stored(1), "o", [0, 900].into_iter());
        assert!(full.any(TenantId::from_stored(1), "o", &[900, 1800]));
        assert!(!full.any(TenantId::from_stored(2), "o", &[900]), "per tenant");
        assert!(!full.any(TenantId::from_stored(1), "p", &[900]), "per office");
        full.forget(TenantId::from_stored(1), "o", &[900]);
        assert!(!full.any(TenantId::from_stored(1), "o", &[900, 1800]));
        assert!(full.any(TenantId::from_stored(1), "o", &[0]));
    }
}
