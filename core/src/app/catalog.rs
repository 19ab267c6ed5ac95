//! Tenant configuration snapshots, cached per process and refreshed by version number, so that
//! several instances notice a pack applied elsewhere within `RECHECK` without sharing memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::{AppError, Sportello};
use crate::domain::{Service, Slug, TenantConfig, TenantId};
use crate::packs::parse_config;
use crate::plugin_host::{Dataset, Datasets, Hook, Plugin, PluginError};
use crate::store::Tenants;

const RECHECK: Duration = Duration::from_secs(2);

/// A tenant's configuration at one version.
#[derive(Debug)]
pub struct TenantSnapshot {
    pub id: TenantId,
    pub version: i64,
    pub config: TenantConfig,
    pub logo: Option<(Vec<u8>, String)>,
    /// The pack's plugins, compiled, by id.
    pub plugins: HashMap<String, Plugin>,
    /// The pack's datasets, for its plugins; replaced whole with the snapshot, never edited.
    pub datasets: Arc<Datasets>,
    /// The pack's page templates that replace built-in ones: name (`details`) → text.
    pub templates: BTreeMap<String, String>,
    /// Suspended by the platform: citizens are told it is temporarily unavailable.
    pub suspended: bool,
}

impl TenantSnapshot {
    /// Whether `service`'s rule can check a field as the citizen types (the `lookup` hook).
    pub fn has_lookup(&self, service: &Service) -> bool {
        service
            .plugin
            .as_ref()
            .and_then(|b| self.plugins.get(b.id.as_str()))
            .is_some_and(|p| p.implements(Hook::Lookup))
    }
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

    /// The snapshot this instance has of `slug`, if any (however old).
    pub(super) fn known(&self, slug: &str) -> Option<Arc<TenantSnapshot>> {
        self.cached(slug).map(|(snapshot, _)| snapshot)
    }

    pub(super) fn forget(&self, slug: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(slug);
        }
    }
}

/// Parses a stored pack's datasets (they were checked when the pack was applied).
fn load_datasets(config: &TenantConfig, files: &HashMap<String, Vec<u8>>) -> Datasets {
    config
        .datasets
        .iter()
        .filter_map(|(name, path)| Some((name.to_string(), Dataset::from_csv(files.get(path)?).ok()?)))
        .collect()
}

impl Sportello {
    /// Compiles (or finds in the cache) every plugin of a stored pack, off the async workers.
    async fn compile_plugins(
        &self,
        config: &TenantConfig,
        files: &HashMap<String, Vec<u8>>,
    ) -> HashMap<String, Plugin> {
        let mut plugins = HashMap::new();
        for spec in &config.plugins {
            let Some(bytes) = files.get(&spec.file) else {
                tracing::error!(tenant = %config.slug, plugin = %spec.id, "stored plugin module is missing");
                continue;
            };
            // A plugin that no longer loads makes only its services unavailable.
            match self.load_plugin(spec.id.as_str(), bytes.clone()).await {
                Ok(plugin) => {
                    plugins.insert(spec.id.to_string(), plugin);
                }
                Err(error) => {
                    tracing::error!(tenant = %config.slug, plugin = %spec.id, %error, "stored plugin does not load");
                }
            }
        }
        plugins
    }

    /// Compiles a plugin on a blocking thread: compiling takes milliseconds to seconds of CPU,
    /// which must not stall the requests sharing an async worker.
    pub(super) async fn load_plugin(&self, id: &str, bytes: Vec<u8>) -> Result<Plugin, PluginError> {
        let (host, id) = (self.plugins.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || host.load(&id, &bytes))
            .await
            .map_err(|e| PluginError::Host(e.to_string()))?
    }

    /// Every tenant of this installation, by slug. One that cannot be loaded is left out (and logged).
    pub async fn tenants(&self) -> Result<Vec<Arc<TenantSnapshot>>, AppError> {
        let mut tenants = Vec::new();
        for slug in Tenants::all_slugs(self.store.reader()).await? {
            match self.tenant(&slug).await {
                Ok(tenant) => tenants.push(tenant),
                Err(AppError::TenantSuspended) => {}
                Err(error) => tracing::error!(tenant = %slug, %error, "tenant left out of the list"),
            }
        }
        Ok(tenants)
    }

    /// The tenant's current configuration, or `NotFound("tenant")`, or `TenantSuspended`.
    pub async fn tenant(&self, slug: &str) -> Result<Arc<TenantSnapshot>, AppError> {
        let tenant = self.tenant_snapshot(slug).await?;
        if tenant.suspended {
            return Err(AppError::TenantSuspended);
        }
        Ok(tenant)
    }

    /// The tenant's current configuration, suspended or not (its staff still work on it).
    pub(super) async fn tenant_snapshot(&self, slug: &str) -> Result<Arc<TenantSnapshot>, AppError> {
        // Parsed at the edge: no text that cannot be a slug (a NUL, a control character) reaches a query.
        let slug = Slug::parse(slug).map_err(|_| AppError::NotFound("tenant"))?;
        let slug = slug.as_str();
        if let Some((snapshot, checked)) = self.catalog.cached(slug) {
            if checked.elapsed() < RECHECK {
                return Ok(snapshot);
            }
            if Tenants::version(self.store.reader(), slug).await? == Some((snapshot.version, snapshot.suspended)) {
                self.catalog.put(slug, snapshot.clone());
                return Ok(snapshot);
            }
        }
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        // A stored pack was valid when applied; if a newer Sportello rejects it, say so clearly.
        let config = parse_config(&stored.pack)?;
        let files: HashMap<String, Vec<u8>> =
            Tenants::files(self.store.reader(), stored.id).await?.into_iter().collect();
        let plugins = self.compile_plugins(&config, &files).await;
        let datasets = Arc::new(load_datasets(&config, &files));
        let templates = templates(&files);
        let (id, version, logo, suspended) = (stored.id, stored.version, stored.logo, stored.suspended);
        let snapshot = Arc::new(TenantSnapshot { id, version, config, logo, plugins, datasets, templates, suspended });
        self.catalog.put(slug, snapshot.clone());
        Ok(snapshot)
    }
}

/// The page templates among a pack's files, by name.
fn templates(files: &HashMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    files
        .iter()
        .filter_map(|(path, bytes)| {
            let name = path.strip_prefix(crate::packs::TEMPLATES_DIR)?.strip_prefix('/')?.strip_suffix(".hbs")?;
            Some((name.to_owned(), String::from_utf8(bytes.clone()).ok()?))
        })
        .collect()
}
