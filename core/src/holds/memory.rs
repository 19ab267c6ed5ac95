//! Holds in this process's memory: the embedded default for a single instance.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{Acquired, Hold, HoldHealth, HoldStore, HoldStoreError};
use crate::domain::TenantId;
use crate::domain::slots::Unit;

/// How long an expired hold is remembered, so that its slot can still be named.
const EXPIRED_MEMORY: TimeDelta = TimeDelta::hours(1);
/// Expired holds are swept from memory every this many acquisitions.
const SWEEP_EVERY: u64 = 1024;

type OfficeKey = (TenantId, String);
/// Ids and expiries of holds.
type Expiries = Vec<(Uuid, DateTime<Utc>)>;
/// The holds covering each unit of one office.
type UnitHolds = BTreeMap<Unit, Expiries>;

#[derive(Default)]
struct Inner {
    /// Keyed by tenant too: hold ids may come from clients, so two tenants may pick the same.
    holds: HashMap<(TenantId, Uuid), Hold>,
    /// Per tenant and client, the ids and expiries of its holds.
    clients: HashMap<(TenantId, String), Expiries>,
    /// Token buckets: tokens left and when they were counted.
    buckets: HashMap<String, (f64, DateTime<Utc>)>,
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
        if let Some(held) = hold.client.as_ref().and_then(|c| self.clients.get_mut(&(tenant, c.clone()))) {
            held.retain(|(other, _)| *other != id);
        }
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
        self.clients.retain(|_, held| {
            held.retain(|(_, expires)| *expires > now);
            !held.is_empty()
        });
        // A bucket untouched for a while is full again: forgetting it changes nothing.
        self.buckets.retain(|_, (_, counted)| now - *counted < TimeDelta::minutes(10));
    }
}

#[async_trait]
impl HoldStore for MemoryHolds {
    async fn acquire(
        &self,
        hold: &Hold,
        free: &HashMap<Unit, u32>,
        max_per_client: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Acquired, HoldStoreError> {
        let mut inner = self.lock()?;
        inner.acquisitions += 1;
        if inner.acquisitions % SWEEP_EVERY == 0 {
            inner.sweep(now);
        }
        if inner.holds.get(&(hold.tenant, hold.id)).is_some_and(|earlier| earlier.owner != hold.owner) {
            return Ok(Acquired::NotOwner);
        }
        let key = (hold.tenant, hold.office.to_string());
        let fits = hold.units.iter().all(|unit| {
            let capacity = free.get(unit).copied().unwrap_or(0);
            inner.live_on(&key, *unit, hold.id, now) < capacity
        });
        // A refused retry drops the owner's live hold under this id: told there is no place, they
        // keep none. An expired one stays readable, for a late confirmation to name its slot.
        let live = inner.holds.get(&(hold.tenant, hold.id)).is_some_and(|earlier| earlier.expires_at > now);
        if !fits {
            if live {
                inner.forget(hold.tenant, hold.id);
            }
            return Ok(Acquired::Full);
        }
        if let (Some(client), Some(max)) = (&hold.client, max_per_client) {
            let others = inner
                .clients
                .get(&(hold.tenant, client.clone()))
                .map_or(0, |held| held.iter().filter(|(id, expires)| *id != hold.id && *expires > now).count());
            if others >= max as usize {
                if live {
                    inner.forget(hold.tenant, hold.id);
                }
                return Ok(Acquired::ClientLimit);
            }
        }
        // Acquiring an id again (a retry, or a renewal) replaces the earlier hold.
        inner.forget(hold.tenant, hold.id);
        let units = inner.units.entry(key).or_default();
        for unit in &hold.units {
            units.entry(*unit).or_default().push((hold.id, hold.expires_at));
        }
        if let Some(client) = &hold.client {
            inner.clients.entry((hold.tenant, client.clone())).or_default().push((hold.id, hold.expires_at));
        }
        inner.holds.insert((hold.tenant, hold.id), hold.clone());
        Ok(Acquired::Placed)
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<Hold>, HoldStoreError> {
        Ok(self.lock()?.holds.get(&(tenant, id)).cloned())
    }

    async fn release(&self, tenant: TenantId, id: Uuid) -> Result<bool, HoldStoreError> {
        Ok(self.lock()?.forget(tenant, id).is_some())
    }

    async fn consume(&self, hold: &Hold) -> Result<(), HoldStoreError> {
        self.lock()?.forget(hold.tenant, hold.id);
        Ok(())
    }

    async fn live_counts(
        &self,
        tenant: TenantId,
        office: &str,
        units: &[Unit],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Unit, u32>, HoldStoreError> {
        let inner = self.lock()?;
        let Some(held) = inner.units.get(&(tenant, office.to_owned())) else { return Ok(HashMap::new()) };
        Ok(units
            .iter()
            .filter_map(|unit| {
                let live = held.get(unit)?.iter().filter(|(_, expires)| *expires > now).count() as u32;
                (live > 0).then_some((*unit, live))
            })
            .collect())
    }

    async fn throttle(&self, key: &str, per_minute: u32, now: DateTime<Utc>) -> Result<Option<u32>, HoldStoreError> {
        if per_minute == 0 {
            return Ok(None);
        }
        let mut inner = self.lock()?;
        let capacity = f64::from(per_minute);
        let (tokens, counted) = inner.buckets.get(key).copied().unwrap_or((capacity, now));
        let elapsed_minutes = (now - counted).num_milliseconds().max(0) as f64 / 60_000.0;
        let tokens = (tokens + elapsed_minutes * capacity).min(capacity);
        let (left, wait) = if tokens >= 1.0 {
            (tokens - 1.0, None)
        } else {
            (tokens, Some(((1.0 - tokens) * 60.0 / capacity).ceil().max(1.0) as u32))
        };
        inner.buckets.insert(key.to_owned(), (left, now));
        Ok(wait)
    }

    async fn health(&self) -> HoldHealth {
        match self.lock() {
            Ok(_) => HoldHealth::Ok,
            Err(e) => HoldHealth::Degraded(e.to_string()),
        }
    }
}
