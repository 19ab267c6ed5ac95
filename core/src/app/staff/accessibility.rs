//! A body's accessibility statement, edited by its admins: saved like every other change (a new
//! version, validated whole, refused when stale) and published on its citizen pages.

use super::StaffSession;
use super::configuration::{Edited, invalid};
use super::settings::editable;
use crate::app::{AppError, ApplyReport, Sportello, StrandPolicy};
use crate::domain::Role;
use crate::packs::{AccessibilityDraft, accessibility};
use crate::store::Tenants;

/// The statement in force (if any) and the version it belongs to.
#[derive(Clone, Debug)]
pub struct AccessibilityView {
    pub version: i64,
    pub statement: Option<AccessibilityDraft>,
}

impl Sportello {
    pub async fn accessibility_statement(
        &self,
        session: &StaffSession,
        slug: &str,
    ) -> Result<AccessibilityView, AppError> {
        self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        Ok(AccessibilityView { version: stored.version, statement: accessibility(&stored.pack).map_err(invalid)? })
    }

    /// Publishes a new statement, or withdraws it (`None`).
    pub async fn save_accessibility_statement(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        draft: Option<&AccessibilityDraft>,
    ) -> Result<ApplyReport, AppError> {
        // Nothing of it touches bookings: none can be stranded.
        self.edit_configuration(session, slug, expected, &StrandPolicy::Refuse, |stored| {
            let mut manifest = editable(stored)?;
            manifest.put_accessibility(draft);
            Ok(Edited::whole(manifest.text()))
        })
        .await
    }
}
