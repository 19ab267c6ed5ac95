//! A tenant's configuration as its admins edit it: read it with its version, save a new version
//! of the whole (refused when someone saved meanwhile), see the history, restore a version.

use super::StaffSession;
use super::audit::Actor;
use crate::app::tenants::Expected;
use crate::app::{AppError, ApplyReport, Sportello, StrandPolicy};
use crate::domain::{FieldErrors, Role};
use crate::packs::{MANIFEST, PackError, PackSource};
use crate::store::{Tenants, VersionSummary, Versions};

/// The configuration in force: its version (the ETag) and its text.
#[derive(Clone, Debug)]
pub struct ConfigurationView {
    pub version: i64,
    pub manifest: String,
}

/// What an edit made of the stored configuration.
pub(super) struct Edited {
    pub manifest: String,
    /// The key prefix of the part it changed (`services[2].`), so that validation errors name
    /// that part's own fields; empty for the whole text.
    pub part: String,
    /// A new logo, in place of the stored one.
    pub logo: Option<(Vec<u8>, String)>,
    /// New pack files (a dataset, a plugin module) by path, over the stored ones.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Edited {
    pub fn whole(manifest: String) -> Self {
        Self { manifest, part: String::new(), logo: None, files: Vec::new() }
    }
}

/// A pack problem as field errors: the key is the field, the reason the message.
pub(super) fn invalid(error: PackError) -> AppError {
    let mut errors = FieldErrors::default();
    errors.push(error.key, "invalid_configuration", error.reason);
    AppError::Invalid(errors)
}

impl Sportello {
    pub async fn configuration(&self, session: &StaffSession, slug: &str) -> Result<ConfigurationView, AppError> {
        self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        Ok(ConfigurationView { version: stored.version, manifest: stored.pack })
    }

    /// Saves `manifest` as the next version, if the tenant is still at `expected`. The whole
    /// configuration is validated as a pack is; plugin modules, datasets and the logo it names
    /// must be uploaded already.
    pub async fn save_configuration(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        manifest: &str,
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        self.edit_configuration(session, slug, expected, policy, |_| Ok(Edited::whole(manifest.to_owned()))).await
    }

    /// Saves what `edit` makes of the stored text as the next version, if the tenant is still at
    /// `expected`.
    pub(super) async fn edit_configuration(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        policy: &StrandPolicy,
        edit: impl FnOnce(&str) -> Result<Edited, AppError>,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let expected = expected.ok_or(AppError::VersionRequired)?;
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        if stored.version != expected {
            // Edited from an older version: said before the edit is tried on a text it was not
            // made for (its errors, or a part gone meanwhile, would be blamed on the form).
            let stale = Err(AppError::StaleVersion { current: stored.version, changes: Vec::new() });
            return self.explained(tenant.id, expected, stale).await;
        }
        let Edited { manifest, part, logo, files: uploaded } = edit(&stored.pack)?;
        let relative = |mut error: PackError| {
            if let Some(key) = error.key.strip_prefix(&part).filter(|_| !part.is_empty()) {
                error.key = key.to_owned();
            }
            invalid(error)
        };
        let mut files = Tenants::files(self.store.reader(), tenant.id).await?;
        files.retain(|(path, _)| !uploaded.iter().any(|(new, _)| new == path));
        files.extend(uploaded);
        let logo = logo.or(stored.logo);
        let (source, config) = PackSource::edited(slug, &manifest, &files, logo).map_err(relative)?;
        let actor = Actor::of(session);
        let saved =
            self.store_configuration(&source, &config, MANIFEST, Expected::Version(expected), policy, &actor).await;
        self.explained(tenant.id, expected, saved).await
    }

    /// A stale save answered with what was saved meanwhile; a pack problem as field errors.
    pub(super) async fn explained(
        &self,
        tenant: crate::domain::TenantId,
        expected: i64,
        saved: Result<ApplyReport, AppError>,
    ) -> Result<ApplyReport, AppError> {
        match saved {
            Err(AppError::StaleVersion { .. }) => {
                let since = Versions::since(self.store.reader(), tenant, expected).await?;
                let current = since.last().map_or(expected, |v| v.version);
                let changes = since
                    .iter()
                    .flat_map(|v| v.changes.iter().map(move |c| format!("{c} (version {}, {})", v.version, v.saved_by)))
                    .collect();
                Err(AppError::StaleVersion { current, changes })
            }
            Err(AppError::Pack(error)) => Err(invalid(error)),
            other => other,
        }
    }

    /// Every saved version, newest first.
    pub async fn configuration_history(
        &self,
        session: &StaffSession,
        slug: &str,
    ) -> Result<Vec<VersionSummary>, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        Ok(Versions::list(self.store.reader(), tenant.id).await?)
    }

    /// The text of one saved version.
    pub async fn configuration_version(
        &self,
        session: &StaffSession,
        slug: &str,
        version: i64,
    ) -> Result<ConfigurationView, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let found =
            Versions::get(self.store.reader(), tenant.id, version).await?.ok_or(AppError::NotFound("version"))?;
        Ok(ConfigurationView { version, manifest: found.manifest })
    }

    /// Saves an old version again, files and logo included, as the next version.
    pub async fn restore_configuration(
        &self,
        session: &StaffSession,
        slug: &str,
        version: i64,
        expected: Option<i64>,
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let expected = expected.ok_or(AppError::VersionRequired)?;
        let old = Versions::get(self.store.reader(), tenant.id, version).await?.ok_or(AppError::NotFound("version"))?;
        let config = crate::packs::parse_config(&old.manifest).map_err(invalid)?;
        let source = PackSource { dir: slug.into(), manifest: old.manifest, logo: old.logo, files: old.files };
        let actor = Actor::of(session);
        let saved =
            self.store_configuration(&source, &config, MANIFEST, Expected::Version(expected), policy, &actor).await;
        let report = self.explained(tenant.id, expected, saved).await?;
        let detail = serde_json::json!({ "restored": version, "version": report.version });
        self.audit(Some(tenant.id), &actor, "configuration.restored", detail).await?;
        Ok(report)
    }
}
