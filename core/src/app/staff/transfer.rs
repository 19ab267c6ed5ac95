//! A tenant's configuration as one file: exported as a pack archive (what `sportello tenant
//! apply` reads on another install), and imported as the tenant's next version.

use super::StaffSession;
use super::audit::Actor;
use super::configuration::invalid;
use crate::app::tenants::Expected;
use crate::app::{AppError, ApplyReport, Sportello, StrandPolicy};
use crate::domain::Role;
use crate::packs::{MANIFEST, PackSource, unpack_archive};
use crate::store::Tenants;

/// An exported pack: a file name and its bytes.
#[derive(Clone, Debug)]
pub struct ExportedPack {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl Sportello {
    /// The configuration in force as a `.tar.gz` pack archive.
    pub async fn export_pack(&self, session: &StaffSession, slug: &str) -> Result<ExportedPack, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let stored = Tenants::find(self.store.reader(), slug).await?.ok_or(AppError::NotFound("tenant"))?;
        let files = Tenants::files(self.store.reader(), tenant.id).await?;
        let source = PackSource { dir: slug.into(), manifest: stored.pack, logo: stored.logo, files };
        let bytes = source.archive(slug).map_err(invalid)?;
        self.audit(
            Some(tenant.id),
            &Actor::of(session),
            "configuration.exported",
            serde_json::json!({
                "version": stored.version,
            }),
        )
        .await?;
        Ok(ExportedPack { file_name: format!("{slug}-v{}.tar.gz", stored.version), bytes })
    }

    /// Saves a pack archive as the next version, if the tenant is still at `expected`: the same
    /// checks as any save, and the archive's folder must be this tenant's.
    pub async fn import_pack(
        &self,
        session: &StaffSession,
        slug: &str,
        expected: Option<i64>,
        archive: &[u8],
        policy: &StrandPolicy,
    ) -> Result<ApplyReport, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let expected = expected.ok_or(AppError::VersionRequired)?;
        let pack = |e: crate::packs::PackError| AppError::field("pack", "invalid_pack", e.to_string());
        // Decompression is CPU work: off the async workers.
        let owned = archive.to_vec();
        let unpacked = tokio::task::spawn_blocking(move || unpack_archive(&owned))
            .await
            .map_err(|e| AppError::Internal(format!("unpacking an archive: {e}")))?;
        let (folder, files) = unpacked.map_err(pack)?;
        if folder != slug {
            // Another tenant's pack would be saved as that tenant: never through this one.
            let reason = format!("the archive holds the pack of {folder:?}, not of {slug:?}");
            return Err(AppError::field("pack", "other_tenant_pack", reason));
        }
        let (source, config) = PackSource::from_files(&folder, files, &folder).map_err(pack)?;
        let actor = Actor::of(session);
        let saved =
            self.store_configuration(&source, &config, MANIFEST, Expected::Version(expected), policy, &actor).await;
        self.explained(tenant.id, expected, saved).await
    }
}
