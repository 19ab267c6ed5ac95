//! Tenant configuration snapshots, cached per process and refreshed by version number, so that
//! several instances notice a pack applied elsewhere within `RECHECK` without sharing memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::{AppError, Sportello};
use crate::domain::{TenantConfig, TenantId};
use crate::packs::parse_config;
use crate::store::Tenants;

const RECHECK: Duration = Duration::from_secs(2);

/// A tenant's configuration at one version.
#[derive(Debug)]
pub struct TenantSnapshot {
    pub id: TenantId,
    pub version: i64,
    pub config: TenantConfig,
    pub logo: Option<(Vec<u8>, String)>,
}

#[derive(Default)]
pub(super) struct Catalog {
    cache: RwLock<HashMap<String, (Arc<TenantSnapshot>, Instant)>>,
}

impl Catalog {
    fn cached(&self, slug: &str) -> Option<(Arc<TenantSnapshot>, Instant)> {
        self.cache.read().ok()?.get(slug).cloned()
    }

    fn put(&self, slug: &str, snapshot: Arc<TenantSnapshot>) {
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(slug.to_owned(), (snapshot, Instant::now()));
        }
    }

    pub(super) fn forget(&self, slug: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(slug);
        }
    }
}

impl Sportello {
    /// The tenant's current configuration, or `NotFound("tenant")`.
    pub async fn tenant(&self, slug: &str) -> Result<Arc<TenantSnapshot>, AppError> {
        if let Some((snapshot, checked)) = self.catalog.cached(slug) {
            if checked.elapsed() < RECHECK {
                return Ok(snapshot);
            }
            if Tenants::version(self.store.reader(), slug).await? == Some(snapshot.version) {
                self.catalog.put(slug, snapshot.clone());
                return Ok(snapshot);
            }
        }
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        // A stored pack was valid when applied; if a newer Sportello rejects it, say so clearly.
        let config = parse_config(&stored.pack)?;
        let snapshot = Arc::new(TenantSnapshot { id: stored.id, version: stored.version, config, logo: stored.logo });
        self.catalog.put(slug, snapshot.clone());
        Ok(snapshot)
    }
}
