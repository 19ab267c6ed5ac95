//! A tenant's data files uploaded by its admins: a dataset (CSV, e.g. the payment notices
//! exported each week from a billing system) or a new module for one of its plugins. Each upload
//! is the next configuration version, checked like a pack: a CSV by line, a module by compiling it
//! against the plugin interface.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use super::configuration::Edited;
use crate::app::{AppError, ApplyReport, Sportello, StrandPolicy};
use crate::domain::{Role, Slug};
use crate::packs::{MAX_DATASET_BYTES, MAX_PLUGIN_BYTES, Manifest};
use crate::plugin_host::Dataset;

fn editable(stored: &str) -> Result<Manifest, AppError> {
    Manifest::parse(stored).map_err(|_| {
        AppError::field("pack", "unreadable_configuration", "The configuration text does not parse: fix it first.")
    })
}

impl Sportello {
    /// Replaces dataset `name` with `csv`, or adds it (as `datasets/<name>.csv`).
    pub async fn upload_dataset(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        name: &str,
        csv: Vec<u8>,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let name = Slug::parse(name.trim())
            .map_err(|e| AppError::field("name", "invalid_dataset_name", format!("{name:?} {e}")))?;
        if csv.len() > MAX_DATASET_BYTES {
            return Err(AppError::field("file", "file_too_large", "A dataset may be at most 16 MiB."));
        }
        let rows = Dataset::from_csv(&csv).map_err(|reason| AppError::field("file", "invalid_csv", reason))?.len();
        let size = csv.len();
        let report = self
            .edit_configuration(session, slug, expected, &StrandPolicy::Refuse, |stored| {
                let mut manifest = editable(stored)?;
                let path = manifest.put_dataset(name.as_str());
                Ok(Edited { files: vec![(path, csv)], ..Edited::whole(manifest.text()) })
            })
            .await?;
        let detail = json!({ "dataset": name.as_str(), "rows": rows, "bytes": size, "version": report.version });
        self.audit(Some(tenant.id), &Actor::of(session), "dataset.uploaded", detail).await?;
        Ok(report)
    }

    /// Replaces the module of plugin `id`: it must compile and speak the plugin interface, or
    /// nothing changes.
    pub async fn upload_plugin(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        id: &str,
        module: Vec<u8>,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let path = tenant
            .config
            .plugins
            .iter()
            .find(|p| p.id.as_str() == id)
            .map(|p| p.file.clone())
            .ok_or(AppError::NotFound("plugin"))?;
        if module.len() > MAX_PLUGIN_BYTES {
            return Err(AppError::field("file", "file_too_large", "A plugin module may be at most 8 MiB."));
        }
        let size = module.len();
        let report = self
            .edit_configuration(session, slug, expected, &StrandPolicy::Refuse, |stored| {
                Ok(Edited { files: vec![(path, module)], ..Edited::whole(stored.to_owned()) })
            })
            .await
            .map_err(|e| match e {
                // The module's own problem, said on the upload.
                AppError::Invalid(mut errors) => {
                    for error in &mut errors.0 {
                        error.field = "file".into();
                    }
                    AppError::Invalid(errors)
                }
                other => other,
            })?;
        let detail = json!({ "plugin": id, "bytes": size, "version": report.version });
        self.audit(Some(tenant.id), &Actor::of(session), "plugin.uploaded", detail).await?;
        Ok(report)
    }
}
