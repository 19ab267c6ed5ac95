//! The history of a tenant's configuration: each saved version's manifest and files, who saved
//! it and what changed. Files are stored once per content digest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use sha2::{Digest, Sha256};

use super::StoreError;
use super::entities::{pack_blob, tenant_version};
use super::tenants::PackFile;
use crate::domain::TenantId;

/// A version as listed in the history.
#[derive(Clone, Debug)]
pub struct VersionSummary {
    pub version: i64,
    pub saved_at: DateTime<Utc>,
    pub saved_by: String,
    pub changes: Vec<String>,
}

/// A version whole, to show or restore.
#[derive(Clone, Debug)]
pub struct StoredVersion {
    pub summary: VersionSummary,
    pub manifest: String,
    pub files: Vec<PackFile>,
    pub logo: Option<(Vec<u8>, String)>,
}

/// What a new version is made of.
pub struct NewVersion<'a> {
    pub tenant: TenantId,
    pub version: i64,
    pub manifest: &'a str,
    pub files: &'a [PackFile],
    pub logo: Option<&'a (Vec<u8>, String)>,
    pub saved_at: DateTime<Utc>,
    pub saved_by: &'a str,
    pub changes: &'a [String],
}

fn digest_of(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("configuration version {what}: {error}"))
}

fn summary(m: &tenant_version::Model) -> Result<VersionSummary, StoreError> {
    Ok(VersionSummary {
        version: m.version,
        saved_at: m.saved_at,
        saved_by: m.saved_by.clone(),
        changes: serde_json::from_str(&m.changes).map_err(|e| corrupt("changes", e))?,
    })
}

pub struct Versions;

impl Versions {
    /// Keeps `bytes` once, by digest; returns the digest.
    async fn keep_blob(conn: &impl ConnectionTrait, bytes: &[u8]) -> Result<String, StoreError> {
        let digest = digest_of(bytes);
        let row = pack_blob::ActiveModel { digest: Set(digest.clone()), content: Set(bytes.to_vec()) };
        pack_blob::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(conn).await?;
        Ok(digest)
    }

    pub async fn record(conn: &impl ConnectionTrait, new: NewVersion<'_>) -> Result<(), StoreError> {
        let mut files = BTreeMap::new();
        for (path, bytes) in new.files {
            files.insert(path.clone(), Self::keep_blob(conn, bytes).await?);
        }
        let logo = match new.logo {
            Some((bytes, content_type)) => {
                Some(serde_json::json!([content_type, Self::keep_blob(conn, bytes).await?]).to_string())
            }
            None => None,
        };
        let row = tenant_version::ActiveModel {
            tenant_id: Set(new.tenant.get()),
            version: Set(new.version),
            manifest: Set(new.manifest.to_owned()),
            files: Set(serde_json::to_string(&files).map_err(|e| corrupt("files", e))?),
            logo: Set(logo),
            saved_at: Set(new.saved_at),
            saved_by: Set(new.saved_by.chars().take(254).collect()),
            changes: Set(serde_json::to_string(new.changes).map_err(|e| corrupt("changes", e))?),
        };
        // A version is written once; two saves racing to record the same past version agree on it.
        tenant_version::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(conn).await?;
        Ok(())
    }

    /// Whether the history holds `version` already.
    pub async fn has(conn: &impl ConnectionTrait, tenant: TenantId, version: i64) -> Result<bool, StoreError> {
        Ok(tenant_version::Entity::find_by_id((tenant.get(), version))
            .select_only()
            .column(tenant_version::Column::Version)
            .into_tuple::<i64>()
            .one(conn)
            .await?
            .is_some())
    }

    /// The history, newest first.
    pub async fn list(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<VersionSummary>, StoreError> {
        let rows = tenant_version::Entity::find()
            .filter(tenant_version::Column::TenantId.eq(tenant.get()))
            .order_by_desc(tenant_version::Column::Version)
            .all(conn)
            .await?;
        rows.iter().map(summary).collect()
    }

    /// The versions saved after `version`, oldest first: what someone else changed meanwhile.
    pub async fn since(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        version: i64,
    ) -> Result<Vec<VersionSummary>, StoreError> {
        let rows = tenant_version::Entity::find()
            .filter(tenant_version::Column::TenantId.eq(tenant.get()))
            .filter(tenant_version::Column::Version.gt(version))
            .order_by_asc(tenant_version::Column::Version)
            .all(conn)
            .await?;
        rows.iter().map(summary).collect()
    }

    pub async fn get(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        version: i64,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let Some(m) = tenant_version::Entity::find_by_id((tenant.get(), version)).one(conn).await? else {
            return Ok(None);
        };
        let paths: BTreeMap<String, String> = serde_json::from_str(&m.files).map_err(|e| corrupt("files", e))?;
        let mut files = Vec::with_capacity(paths.len());
        for (path, digest) in paths {
            files.push((path, Self::blob(conn, &digest).await?));
        }
        let logo = match &m.logo {
            Some(text) => {
                let (content_type, digest): (String, String) =
                    serde_json::from_str(text).map_err(|e| corrupt("logo", e))?;
                Some((Self::blob(conn, &digest).await?, content_type))
            }
            None => None,
        };
        Ok(Some(StoredVersion { summary: summary(&m)?, manifest: m.manifest, files, logo }))
    }

    async fn blob(conn: &impl ConnectionTrait, digest: &str) -> Result<Vec<u8>, StoreError> {
        let found = pack_blob::Entity::find_by_id(digest.to_owned()).one(conn).await?;
        found.map(|b| b.content).ok_or_else(|| corrupt("file", format!("blob {digest} is missing")))
    }
}
