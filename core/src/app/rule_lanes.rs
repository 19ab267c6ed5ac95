//! One lane per tenant for running its rules: a tenant runs at most one plugin call at a time.
//!
//! A tenant whose rule spins can then hold at most one core, and never makes another tenant's
//! rules wait. A call that cannot get its tenant's lane within `WAIT` is not run (the citizen
//! gets "rule unavailable, try again"), so a burst queues briefly instead of piling up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::TenantId;

/// How long a call may wait for its tenant's lane.
const WAIT: Duration = Duration::from_millis(200);

#[derive(Default)]
pub(super) struct RuleLanes(Mutex<HashMap<TenantId, Arc<Semaphore>>>);

impl RuleLanes {
    /// The tenant's lane, or `None` if it stayed busy for `WAIT`.
    pub(super) async fn enter(&self, tenant: TenantId) -> Option<OwnedSemaphorePermit> {
        let lane = {
            let mut lanes = self.0.lock().ok()?;
            lanes.entry(tenant).or_insert_with(|| Arc::new(Semaphore::new(1))).clone()
        };
        tokio::time::timeout(WAIT, lane.acquire_owned()).await.ok()?.ok()
    }
}
