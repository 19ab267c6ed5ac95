//! A tenant's services and offices edited one at a time (the admin forms and the admin API's
//! `services` and `offices` resources). Each edit changes one part of the stored `tenant.toml`
//! and is saved exactly like an edit of the whole text: validated whole, versioned, audited,
//! refused when stale, and held back when it would strand bookings.

use super::StaffSession;
use super::configuration::{Edited, invalid};
use crate::app::{AppError, ApplyReport, Sportello, StrandPolicy};
use crate::domain::{PluginSpec, Role};
use crate::packs::{EditError, Manifest, OfficeDraft, ServiceDraft, drafts};
use crate::store::Tenants;

/// A tenant's services and offices as their forms show them, at one version.
#[derive(Clone, Debug)]
pub struct Parts {
    pub version: i64,
    pub services: Vec<ServiceDraft>,
    pub offices: Vec<OfficeDraft>,
    /// Datasets (name, file) of the pack.
    pub datasets: Vec<(String, String)>,
    pub plugins: Vec<PluginSpec>,
}

/// Which part an edit is about, for its errors.
#[derive(Clone, Copy)]
enum Kind {
    Service,
    Office,
}

impl Kind {
    fn list(self) -> &'static str {
        match self {
            Self::Service => "services",
            Self::Office => "offices",
        }
    }

    fn explain(self, error: EditError) -> AppError {
        match error {
            EditError::Missing => AppError::NotFound(match self {
                Self::Service => "service",
                Self::Office => "office",
            }),
            EditError::Taken => {
                AppError::field("slug", "part_slug_taken", "Another one already has this address name.")
            }
            EditError::Unreadable(error) => invalid(error),
        }
    }
}

impl Sportello {
    /// The services and offices in force, with the version they belong to.
    pub async fn parts(&self, session: &StaffSession, slug: &str) -> Result<Parts, AppError> {
        self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        let (services, offices) = drafts(&stored.pack).map_err(invalid)?;
        let config = crate::packs::parse_config(&stored.pack).map_err(invalid)?;
        let datasets = config.datasets.iter().map(|(name, file)| (name.to_string(), file.clone())).collect();
        Ok(Parts { version: stored.version, services, offices, datasets, plugins: config.plugins })
    }

    /// Replaces the service `original` with `draft`, or adds it (`original` is `None`).
    pub async fn save_service(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        original: Option<&str>,
        draft: &ServiceDraft,
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        self.edit_part(session, slug, expected, policy, Kind::Service, |m| m.put_service(original, draft).map(Some))
            .await
    }

    /// Removes a service and every office's offer of it.
    pub async fn remove_service(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        service: &str,
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        self.edit_part(session, slug, expected, policy, Kind::Service, |m| m.remove_service(service).map(|()| None))
            .await
    }

    pub async fn save_office(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        original: Option<&str>,
        draft: &OfficeDraft,
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        self.edit_part(session, slug, expected, policy, Kind::Office, |m| m.put_office(original, draft).map(Some)).await
    }

    pub async fn remove_office(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        office: &str,
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        self.edit_part(session, slug, expected, policy, Kind::Office, |m| m.remove_office(office).map(|()| None)).await
    }

    /// Applies `edit` to the stored text and saves it; `edit` gives the index of the part it
    /// wrote, if one remains.
    async fn edit_part(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        policy: &StrandPolicy,
        kind: Kind,
        edit: impl FnOnce(&mut Manifest) -> Result<Option<usize>, EditError>,
    ) -> Result<ApplyReport, AppError> {
        self.edit_configuration(session, slug, expected, policy, |stored| {
            let mut manifest = Manifest::parse(stored).map_err(|e| kind.explain(e))?;
            let index = edit(&mut manifest).map_err(|e| kind.explain(e))?;
            let part = index.map(|i| format!("{}[{i}].", kind.list())).unwrap_or_default();
            Ok(Edited { part, ..Edited::whole(manifest.text()) })
        })
        .await
    }
}
