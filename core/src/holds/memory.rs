//! Holds in this process's memory: the embedded default for a single instance.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{Hold, HoldHealth, HoldStore, HoldStoreError};
use crate::domain::TenantId;
use crate::domain::slots::Unit;

/// How long an expired hold is remembered, so that its slot can still be named.
const EXPIRED_MEMORY: TimeDelta = TimeDelta::hours(1);
/// Expired holds are swept from memory every this many acquisitions.
const SWEEP_EVERY: u64 = 1024;

type OfficeKey = (TenantId, String);
/// Ids and expiries of the holds covering each unit of one office.
type UnitHolds = BTreeMap<Unit, Vec<(Uuid, DateTime<Utc>)>>;

#[derive(Default)]
struct Inner {
    /// Keyed by tenant too: hold ids may come from clients, so two tenants may pick the same.
    holds: HashMap<(TenantId, Uuid), Hold>,
    units: HashMap<OfficeKey, UnitHolds>,
    acquisitions: u64,
}

#[derive(Default)]
pub struct MemoryHolds {
    inner: Mutex<Inner>,
}

impl MemoryHolds {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, HoldStoreError> {
        // A poisoned lock means a panic elsewhere; report it rather than panic again.
        self.inner.lock().map_err(|_| HoldStoreError::Unavailable("hold table lock poisoned".into()))
    }
}

impl Inner {
    /// Live holds on `unit`, not counting hold `except` (so that a retried acquisition is idempotent).
    fn live_on(&mut self, key: &OfficeKey, unit: Unit, except: Uuid, now: DateTime<Utc>) -> u32 {
        let Some(entries) = self.units.get_mut(key).and_then(|units| units.get_mut(&unit)) else { return 0 };
        entries.retain(|(_, expires)| *expires > now);
        entries.iter().filter(|(id, _)| *id != except).count() as u32
    }

    fn forget(&mut self, tenant: TenantId, id: Uuid) -> Option<Hold> {
        let hold = self.holds.remove(&(tenant, id))?;
        let key = (hold.tenant, hold.office.to_string());
        if let Some(units) = self.units.get_mut(&key) {
            for unit in &hold.units {
                if let Some(entries) = units.get_mut(unit) {
                    entries.retain(|(held, _)| *held != id);
                    if entries.is_empty() {
                        units.remove(unit);
                    }
                }
            }
        }
        Some(hold)
    }

    fn sweep(&mut self, now: DateTime<Utc>) {
        let stale: Vec<(TenantId, Uuid)> =
            self.holds.values().filter(|h| h.expires_at + EXPIRED_MEMORY < now).map(|h| (h.tenant, h.id)).collect();
        for (tenant, id) in stale {
            self.forget(tenant, id);
        }
        for units in self.units.values_mut() {
            units.retain(|_, entries| {
                entries.retain(|(_, expires)| *expires > now);
                !entries.is_empty()
            });
        }
    }
}

#[async_trait]
impl HoldStore for MemoryHolds {
    async fn acquire(
        &self,
        hold: &Hold,
        free: &HashMap<Unit, u32>,
        now: DateTime<Utc>,
    ) -> Result<bool, HoldStoreError> {
        let mut inner = self.lock()?;
        inner.acquisitions += 1;
        if inner.acquisitions % SWEEP_EVERY == 0 {
            inner.sweep(now);
        }
        let key = (hold.tenant, hold.office.to_string());
        let fits = hold.units.iter().all(|unit| {
            let capacity = free.get(unit).copied().unwrap_or(0);
            inner.live_on(&key, *unit, hold.id, now) < capacity
        });
        if !fits {
            return Ok(false);
        }
        // Acquiring an id again (a retry, or a renewal) replaces the earlier hold.
        inner.forget(hold.tenant, hold.id);
        let units = inner.units.entry(key).or_default();
        for unit in &hold.units {
            units.entry(*unit).or_default().push((hold.id, hold.expires_at));
        }
        inner.holds.insert((hold.tenant, hold.id), hold.clone());
        Ok(true)
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<Hold>, HoldStoreError> {
        Ok(self.lock()?.holds.get(&(tenant, id)).cloned())
    }

    async fn release(&self, tenant: TenantId, id: Uuid) -> Result<bool, HoldStoreError> {
        Ok(self.lock()?.forget(tenant, id).is_some())
    }

    async fn live_counts(
        &self,
        tenant: TenantId,
        office: &str,
        from: Unit,
        to: Unit,
        now: DateTime<Utc>,
    ) -> Result<HashMap<Unit, u32>, HoldStoreError> {
        let inner = self.lock()?;
        let Some(units) = inner.units.get(&(tenant, office.to_owned())) else { return Ok(HashMap::new()) };
        Ok(units
            .range(from..to)
            .filter_map(|(unit, entries)| {
                let live = entries.iter().filter(|(_, expires)| *expires > now).count() as u32;
                (live > 0).then_some((*unit, live))
            })
            .collect())
    }

    async fn health(&self) -> HoldHealth {
        match self.lock() {
            Ok(_) => HoldHealth::Ok,
            Err(e) => HoldHealth::Degraded(e.to_string()),
        }
    }
}
