//! A tenant's data files uploaded by its admins: a dataset (CSV, e.g. the payment notices
//! exported each week from a billing system) or the module of one of its plugins, new or
//! replaced; and their removal. Each is the next configuration version, checked like a pack: a
//! CSV by line, a module by compiling it against the plugin interface.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use super::configuration::Edited;
use crate::app::{AppError, ApplyReport, Sportello, StrandPolicy};
use crate::domain::{CitizenField, Role, Slug};
use crate::packs::{EditError, MAX_DATASET_BYTES, MAX_PLUGIN_BYTES, Manifest};
use crate::plugin_host::Dataset;

fn editable(stored: &str) -> Result<Manifest, AppError> {
    Manifest::parse(stored).map_err(|_| {
        AppError::field("pack", "unreadable_configuration", "The configuration text does not parse: fix it first.")
    })
}

/// A plugin module uploaded, with what the plugin may see of the citizen.
pub struct PluginUpload {
    pub id: String,
    pub module: Vec<u8>,
    /// `None` keeps what an existing plugin sees (a new one sees nothing).
    pub citizen_fields: Option<Vec<String>>,
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

    /// Replaces the module of plugin `id`, or adds the plugin (as `plugins/<id>.wasm`): the
    /// module must compile and speak the plugin interface, or nothing changes. `citizen_fields`,
    /// when given, are the citizen's details the plugin is shown from now on.
    pub async fn upload_plugin(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        upload: PluginUpload,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let PluginUpload { id, module, citizen_fields } = upload;
        let id = Slug::parse(id.trim())
            .map_err(|e| AppError::field("plugin", "invalid_plugin_id", format!("{id:?} {e}")))?;
        if let Some(unknown) =
            citizen_fields.iter().flatten().find(|f| !CitizenField::ALL.iter().any(|known| known.code() == *f))
        {
            let reason = format!("{unknown:?} is not one of first_name, last_name, email, phone, fiscal_code.");
            return Err(AppError::field("citizen_fields", "invalid_citizen_field", reason));
        }
        if module.len() > MAX_PLUGIN_BYTES {
            return Err(AppError::field("file", "file_too_large", "A plugin module may be at most 8 MiB."));
        }
        let size = module.len();
        let added = !tenant.config.plugins.iter().any(|p| p.id == id);
        let report = self
            .edit_configuration(session, slug, expected, &StrandPolicy::Refuse, |stored| {
                let mut manifest = editable(stored)?;
                let path = manifest.put_plugin(id.as_str(), citizen_fields.as_deref());
                Ok(Edited { files: vec![(path, module)], ..Edited::whole(manifest.text()) })
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
        // Which citizen details a plugin sees is a privacy decision: it is recorded.
        let detail = json!({
            "plugin": id.as_str(), "added": added, "citizen_fields": citizen_fields,
            "bytes": size, "version": report.version,
        });
        self.audit(Some(tenant.id), &Actor::of(session), "plugin.uploaded", detail).await?;
        Ok(report)
    }

    /// Removes plugin `id`; refused while a service uses it.
    pub async fn remove_plugin(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        id: &str,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let users: Vec<&str> = tenant
            .config
            .services
            .iter()
            .filter(|s| s.plugin.as_ref().is_some_and(|p| p.id.as_str() == id))
            .map(|s| s.slug.as_str())
            .collect();
        if !users.is_empty() {
            let reason = format!("Used by {}: choose another plugin for them first.", users.join(", "));
            return Err(AppError::field("plugin", "plugin_in_use", reason));
        }
        self.remove_named(session, slug, expected, "plugin", id, Manifest::remove_plugin).await
    }

    /// Removes dataset `name`. A plugin that still reads it finds no rows, as for an unknown key.
    pub async fn remove_dataset(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        name: &str,
    ) -> Result<ApplyReport, AppError> {
        self.remove_named(session, slug, expected, "dataset", name, Manifest::remove_dataset).await
    }

    /// Removes the plugin or dataset (`what`) `name` from the manifest, as the next version.
    async fn remove_named(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        what: &'static str,
        name: &str,
        remove: fn(&mut Manifest, &str) -> Result<(), EditError>,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let report = self
            .edit_configuration(session, slug, expected, &StrandPolicy::Refuse, |stored| {
                let mut manifest = editable(stored)?;
                remove(&mut manifest, name).map_err(|_| AppError::NotFound(what))?;
                Ok(Edited::whole(manifest.text()))
            })
            .await?;
        let detail = json!({ what: name, "version": report.version });
        self.audit(Some(tenant.id), &Actor::of(session), &format!("{what}.removed"), detail).await?;
        Ok(report)
    }
}
