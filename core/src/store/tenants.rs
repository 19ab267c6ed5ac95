//! Tenants: their pack (the configuration source), logo and configuration version.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::StoreError;
use super::entities::pack_file;
use super::entities::tenant::{self, Column, Entity};
use crate::domain::TenantId;

#[derive(Clone, Debug)]
pub struct StoredTenant {
    pub id: TenantId,
    pub slug: String,
    pub pack: String,
    pub version: i64,
    pub logo: Option<(Vec<u8>, String)>,
    pub suspended: bool,
}

/// A tenant in a list: no pack text, no logo.
#[derive(Clone, Debug)]
pub struct TenantRow {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub version: i64,
    pub suspended: bool,
}

/// A file of a pack other than its manifest: a plugin module or a dataset.
pub type PackFile = (String, Vec<u8>);

impl From<tenant::Model> for StoredTenant {
    fn from(m: tenant::Model) -> Self {
        let logo = m.logo.zip(m.logo_content_type);
        let suspended = m.suspended_at.is_some();
        Self { id: TenantId::from_stored(m.id), slug: m.slug, pack: m.pack, version: m.config_version, logo, suspended }
    }
}

/// The columns a list reads: id, slug, name, version, suspended since.
type ListedColumns = (i32, String, String, i64, Option<DateTime<Utc>>);

pub struct Tenants;

impl Tenants {
    pub async fn find(conn: &impl ConnectionTrait, slug: &str) -> Result<Option<StoredTenant>, StoreError> {
        Ok(Entity::find().filter(Column::Slug.eq(slug)).one(conn).await?.map(StoredTenant::from))
    }

    /// The configuration version and whether the tenant is suspended: a cheap check that a
    /// cached snapshot is current.
    pub async fn version(conn: &impl ConnectionTrait, slug: &str) -> Result<Option<(i64, bool)>, StoreError> {
        let found: Option<(i64, Option<DateTime<Utc>>)> = Entity::find()
            .select_only()
            .columns([Column::ConfigVersion, Column::SuspendedAt])
            .filter(Column::Slug.eq(slug))
            .into_tuple()
            .one(conn)
            .await?;
        Ok(found.map(|(version, suspended)| (version, suspended.is_some())))
    }

    pub async fn all_slugs(conn: &impl ConnectionTrait) -> Result<Vec<String>, StoreError> {
        Ok(Entity::find().select_only().column(Column::Slug).into_tuple().all(conn).await?)
    }

    /// Every tenant, by slug, without the heavy columns.
    pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<TenantRow>, StoreError> {
        let rows: Vec<ListedColumns> = Entity::find()
            .select_only()
            .columns([Column::Id, Column::Slug, Column::Name, Column::ConfigVersion, Column::SuspendedAt])
            .order_by_asc(Column::Slug)
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, slug, name, version, suspended)| TenantRow {
                id: TenantId::from_stored(id),
                slug,
                name,
                version,
                suspended: suspended.is_some(),
            })
            .collect())
    }

    /// Suspends (`Some(since)`) or reactivates a tenant; its id, or None if there is no such tenant.
    pub async fn set_suspended(
        conn: &impl ConnectionTrait,
        slug: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Option<TenantId>, StoreError> {
        let Some(found) = Entity::find().filter(Column::Slug.eq(slug)).one(conn).await? else { return Ok(None) };
        let id = found.id;
        let mut active: tenant::ActiveModel = found.into();
        active.suspended_at = Set(since);
        active.update(conn).await?;
        Ok(Some(TenantId::from_stored(id)))
    }

    /// The tenant's slug.
    pub async fn slug_of(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Option<String>, StoreError> {
        Ok(Entity::find_by_id(tenant.get()).one(conn).await?.map(|t| t.slug))
    }

    /// Locks the tenant's row until the transaction ends, so that changes to its staff are made
    /// one after the other (SQLite's write transactions are serial already).
    pub async fn lock(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Id, Expr::col(Column::Id))
            .filter(Column::Id.eq(tenant.get()))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// The pack's plugin modules and datasets, by path.
    pub async fn files(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<PackFile>, StoreError> {
        let rows = pack_file::Entity::find()
            .filter(pack_file::Column::TenantId.eq(tenant.get()))
            .order_by_asc(pack_file::Column::Path)
            .all(conn)
            .await?;
        Ok(rows.into_iter().map(|f| (f.path, f.content)).collect())
    }

    /// Replaces the pack's files.
    pub async fn replace_files(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        files: &[PackFile],
    ) -> Result<(), StoreError> {
        pack_file::Entity::delete_many().filter(pack_file::Column::TenantId.eq(tenant.get())).exec(conn).await?;
        for (path, content) in files {
            pack_file::ActiveModel {
                tenant_id: Set(tenant.get()),
                path: Set(path.clone()),
                content: Set(content.clone()),
            }
            .insert(conn)
            .await?;
        }
        Ok(())
    }

    /// Creates the tenant, or replaces its pack and bumps its configuration version, only if it
    /// is still at `expected` (compare and set: of two saves from the same version one wins).
    /// `Ok(None)` when the version moved on meanwhile.
    pub async fn save(
        conn: &impl ConnectionTrait,
        slug: &str,
        name: &str,
        pack: &str,
        logo: Option<(Vec<u8>, String)>,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredTenant>, StoreError> {
        let (logo, logo_content_type) = logo.map_or((None, None), |(bytes, kind)| (Some(bytes), Some(kind)));
        let Some(expected) = expected else {
            let created = tenant::ActiveModel {
                slug: Set(slug.to_owned()),
                name: Set(name.to_owned()),
                pack: Set(pack.to_owned()),
                logo: Set(logo),
                logo_content_type: Set(logo_content_type),
                config_version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(conn)
            .await?;
            return Ok(Some(created.into()));
        };
        let updated = Entity::update_many()
            .col_expr(Column::Name, Expr::value(name))
            .col_expr(Column::Pack, Expr::value(pack))
            .col_expr(Column::Logo, Expr::value(logo))
            .col_expr(Column::LogoContentType, Expr::value(logo_content_type))
            .col_expr(Column::ConfigVersion, Expr::value(expected + 1))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Slug.eq(slug))
            .filter(Column::ConfigVersion.eq(expected))
            .exec(conn)
            .await?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        Self::find(conn, slug).await
    }
}
