//! Applying tenant packs: create or update a tenant idempotently, reporting what changed.

use std::path::Path;

use super::{AppError, Sportello};
use crate::packs::{Change, Item, PackError, PackSource, diff, parse_config};
use crate::store::{Bookings, Tenants};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub slug: String,
    pub created: bool,
    /// Empty when the pack was already applied as it is.
    pub changes: Vec<Change>,
}

impl Sportello {
    /// Reads, validates and applies the pack in `dir`. An invalid pack changes nothing.
    pub async fn apply_pack(&self, dir: &Path) -> Result<ApplyReport, AppError> {
        let (source, config) = PackSource::read(dir)?;
        let file = dir.join(crate::packs::MANIFEST).display().to_string();
        // A module that does not compile, speaks another ABI or imports what we do not provide
        // is refused here, precisely, and changes nothing.
        for (index, spec) in config.plugins.iter().enumerate() {
            let bytes = source.files.iter().find(|(path, _)| *path == spec.file).map(|(_, b)| b.clone());
            if let Err(error) = self.load_plugin(spec.id.as_str(), bytes.unwrap_or_default()).await {
                return Err(
                    PackError::new(&file, format!("plugins[{index}].file"), format!("{}: {error}", spec.file)).into()
                );
            }
        }
        let slug = config.slug.to_string();
        let now = self.clock.now();
        let tx = self.store.begin_write().await?;
        let existing = Tenants::find(tx.conn(), &slug).await?;
        let (created, changes) = match &existing {
            None => (true, vec![Change::TenantCreated]),
            Some(stored) => {
                let old = parse_config(&stored.pack).ok();
                let mut changes = match &old {
                    Some(old) => diff(old, &config),
                    None => vec![Change::Replaced],
                };
                let grid_changed = old.as_ref().is_some_and(|o| o.grid_minutes != config.grid_minutes);
                if grid_changed && Bookings::count_upcoming(tx.conn(), stored.id, None, None, now).await? > 0 {
                    return Err(
                        PackError::new(&file, "grid_minutes", "cannot change while upcoming bookings exist").into()
                    );
                }
                if Tenants::files(tx.conn(), stored.id).await? != source.files {
                    changes.push(Change::Files);
                }
                if stored.logo != source.logo {
                    changes.push(Change::Logo);
                }
                // Removing a service or office must not strand citizens who booked it.
                for (item, removed) in changes.iter().filter_map(|c| match c {
                    Change::Removed(item, slug) => Some((*item, slug.as_str())),
                    _ => None,
                }) {
                    let (service, office) = match item {
                        Item::Service => (Some(removed), None),
                        Item::Office => (None, Some(removed)),
                    };
                    let upcoming = Bookings::count_upcoming(tx.conn(), stored.id, service, office, now).await?;
                    if upcoming > 0 {
                        let kind = item.name();
                        return Err(PackError::new(
                            &file,
                            format!("{kind}s"),
                            format!("removing {kind} {removed:?} would strand {upcoming} upcoming booking(s); cancel or move them first"),
                        )
                        .into());
                    }
                }
                (false, changes)
            }
        };
        if !changes.is_empty() {
            let saved = Tenants::save(tx.conn(), &slug, &config.name, &source.manifest, source.logo, now).await?;
            Tenants::replace_files(tx.conn(), saved.id, &source.files).await?;
        }
        tx.commit().await?;
        self.catalog.forget(&slug);
        Ok(ApplyReport { slug, created, changes })
    }

    /// Applies every pack folder under `dir` (each holding a `tenant.toml`), in name order.
    pub async fn apply_all_packs(&self, dir: &Path) -> Result<Vec<ApplyReport>, AppError> {
        let read_error = |e: std::io::Error| PackError::new(dir.display().to_string(), "(folder)", e.to_string());
        let mut folders: Vec<_> = std::fs::read_dir(dir)
            .map_err(read_error)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.join(crate::packs::MANIFEST).is_file())
            .collect();
        folders.sort();
        let mut reports = Vec::new();
        for folder in folders {
            reports.push(self.apply_pack(&folder).await?);
        }
        Ok(reports)
    }
}
