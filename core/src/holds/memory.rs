//! Holds in this process's memory: the embedded default for a single instance.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{Hold, HoldStore, HoldStoreError};
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
    holds: HashMap<Uuid, Hold>,
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
    fn live_on(&mut self, key: &OfficeKey, unit: Unit, now: DateTime<Utc>) -> u32 {
        let Some(entries) = self.units.get_mut(key).and_then(|units| units.get_mut(&unit)) else { return 0 };
        entries.retain(|(_, expires)| *expires > now);
        entries.len() as u32
    }

    fn forget(&mut self, id: Uuid) -> Option<Hold> {
        let hold = self.holds.remove(&id)?;
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
        let stale: Vec<Uuid> =
            self.holds.values().filter(|h| h.expires_at + EXPIRED_MEMORY < now).map(|h| h.id).collect();
        for id in stale {
            self.forget(id);
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
            inner.live_on(&key, *unit, now) < capacity
        });
        if !fits {
            return Ok(false);
        }
        inner.forget(hold.id);
        let units = inner.units.entry(key).or_default();
        for unit in &hold.units {
            units.entry(*unit).or_default().push((hold.id, hold.expires_at));
        }
        inner.holds.insert(hold.id, hold.clone());
        Ok(true)
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<Hold>, HoldStoreError> {
        Ok(self.lock()?.holds.get(&id).filter(|h| h.tenant == tenant).cloned())
    }

    async fn release(&self, tenant: TenantId, id: Uuid) -> Result<bool, HoldStoreError> {
        let mut inner = self.lock()?;
        if inner.holds.get(&id).is_none_or(|h| h.tenant != tenant) {
            return Ok(false);
        }
        Ok(inner.forget(id).is_some())
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

    async fn ping(&self) -> Result<(), HoldStoreError> {
        self.lock().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Mode, Slug};

    fn hold(tenant: i32, units: &[Unit], expires_at: DateTime<Utc>) -> Hold {
        Hold {
            id: Uuid::new_v4(),
            tenant: TenantId(tenant),
            service: Slug::parse("s").unwrap(),
            office: Slug::parse("o").unwrap(),
            mode: Mode::InPerson,
            start: DateTime::from_timestamp(units[0], 0).unwrap(),
            end: DateTime::from_timestamp(units[units.len() - 1] + 900, 0).unwrap(),
            units: units.to_vec(),
            expires_at,
        }
    }

    #[tokio::test]
    async fn holds_count_against_capacity_until_they_expire_or_are_released() {
        let store = MemoryHolds::new();
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let later = now + TimeDelta::minutes(10);
        let free = HashMap::from([(0, 2), (900, 1)]);
        let first = hold(1, &[0], later);
        let second = hold(1, &[0, 900], later);
        let third = hold(1, &[0], later);
        assert!(store.acquire(&first, &free, now).await.unwrap());
        assert!(store.acquire(&second, &free, now).await.unwrap());
        assert!(!store.acquire(&third, &free, now).await.unwrap(), "unit 0 is full");
        assert_eq!(store.live_counts(TenantId(1), "o", 0, 1800, now).await.unwrap(), HashMap::from([(0, 2), (900, 1)]));
        // Another tenant's office with the same name is separate capacity.
        assert!(store.acquire(&hold(2, &[0], later), &free, now).await.unwrap());
        assert!(!store.release(TenantId(2), first.id).await.unwrap(), "a tenant cannot release another's hold");
        assert!(store.release(TenantId(1), first.id).await.unwrap());
        assert!(store.acquire(&third, &free, now).await.unwrap());
        // After expiry nothing is live, but the hold can still be read.
        let after = later + TimeDelta::seconds(1);
        assert!(store.live_counts(TenantId(1), "o", 0, 1800, after).await.unwrap().is_empty());
        assert_eq!(store.get(TenantId(1), second.id).await.unwrap().map(|h| h.id), Some(second.id));
        assert_eq!(store.get(TenantId(2), second.id).await.unwrap(), None);
    }
}
