//! A tenant's own settings (name, zone, languages, branding, privacy notice, the hold and the
//! anti-hoarding limits) and its logo, edited by its admins. Saved like every other change: a
//! new version, validated whole, refused when stale.

use super::StaffSession;
use super::configuration::{Edited, invalid};
use crate::app::{AppError, ApplyReport, Sportello, StrandPolicy};
use crate::domain::Role;
use crate::packs::{Manifest, SettingsDraft, check_logo, settings};
use crate::store::Tenants;

/// The settings in force, with their version and whether a logo is set.
#[derive(Clone, Debug)]
pub struct SettingsView {
    pub version: i64,
    pub settings: SettingsDraft,
    pub has_logo: bool,
}

pub(super) fn editable(stored: &str) -> Result<Manifest, AppError> {
    Manifest::parse(stored).map_err(|_| {
        AppError::field("pack", "unreadable_configuration", "The configuration text does not parse: fix it first.")
    })
}

impl Sportello {
    pub async fn settings(&self, session: &StaffSession, slug: &str) -> Result<SettingsView, AppError> {
        self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        let settings = settings(&stored.pack).map_err(invalid)?;
        Ok(SettingsView { version: stored.version, has_logo: stored.logo.is_some(), settings })
    }

    /// Saves new settings. A new time zone may move upcoming bookings out of the hours: then
    /// `policy` decides, as for any change that strands bookings.
    pub async fn save_settings(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        draft: &SettingsDraft,
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        self.check_sender(draft)?;
        self.edit_configuration(session, slug, expected, policy, |stored| {
            let lowers = settings(stored).is_ok_and(|now| now.require_two_factor && !draft.require_two_factor);
            if lowers && session.api_key().is_some() {
                // A key has no second factor: it may not drop the requirement of one.
                return Err(AppError::Forbidden);
            }
            let mut manifest = editable(stored)?;
            manifest.put_settings(draft);
            Ok(Edited::whole(manifest.text()))
        })
        .await
    }

    /// A body's own sender address is refused where the platform may not send for its domain:
    /// its messages would be rejected or marked as forged (SPF, DMARC).
    fn check_sender(&self, draft: &SettingsDraft) -> Result<(), AppError> {
        let (Some(mail), Some(address)) = (&self.mail, draft.mail.sender_address.as_deref()) else { return Ok(()) };
        if mail.may_send_as(address.trim()) {
            return Ok(());
        }
        let reason = match mail.sender_domains.as_slice() {
            [] => "This platform sends only from its own address: leave it empty.".to_owned(),
            domains => {
                format!("This platform may send only for {}: ask its operator to add yours.", domains.join(", "))
            }
        };
        Err(AppError::field("sender_address", "sender_domain_not_allowed", reason))
    }

    /// Replaces the logo with `bytes`, judged by their content (PNG, JPEG, WebP, or an SVG with
    /// nothing that could run or fetch).
    pub async fn upload_logo(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        bytes: Vec<u8>,
    ) -> Result<ApplyReport, AppError> {
        self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let kind = check_logo(&bytes).map_err(|e| AppError::field("logo", e.code(), e.to_string()))?;
        self.edit_configuration(session, slug, expected, &StrandPolicy::Refuse, |stored| {
            let mut manifest = editable(stored)?;
            manifest.put_logo(Some(kind.file_name()));
            let logo = Some((bytes, kind.content_type().to_owned()));
            Ok(Edited { logo, ..Edited::whole(manifest.text()) })
        })
        .await
    }

    /// Removes the logo: the pages show the body's name alone.
    pub async fn remove_logo(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
    ) -> Result<ApplyReport, AppError> {
        self.edit_configuration(session, slug, expected, &StrandPolicy::Refuse, |stored| {
            let mut manifest = editable(stored)?;
            manifest.put_logo(None);
            Ok(Edited::whole(manifest.text()))
        })
        .await
    }
}
