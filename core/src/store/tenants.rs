//! Tenants: their pack (the configuration source), logo and configuration version.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::StoreError;
use super::entities::tenant::{self, Column, Entity};
use crate::domain::TenantId;

#[derive(Clone, Debug)]
pub struct StoredTenant {
    pub id: TenantId,
    pub slug: String,
    pub pack: String,
    pub version: i64,
    pub logo: Option<(Vec<u8>, String)>,
}

impl From<tenant::Model> for StoredTenant {
    fn from(m: tenant::Model) -> Self {
        let logo = m.logo.zip(m.logo_content_type);
        Self { id: TenantId(m.id), slug: m.slug, pack: m.pack, version: m.config_version, logo }
    }
}

pub struct Tenants;

impl Tenants {
    pub async fn find(conn: &impl ConnectionTrait, slug: &str) -> Result<Option<StoredTenant>, StoreError> {
        Ok(Entity::find().filter(Column::Slug.eq(slug)).one(conn).await?.map(StoredTenant::from))
    }

    /// The configuration version only: a cheap check that a cached snapshot is current.
    pub async fn version(conn: &impl ConnectionTrait, slug: &str) -> Result<Option<i64>, StoreError> {
        Ok(Entity::find()
            .select_only()
            .column(Column::ConfigVersion)
            .filter(Column::Slug.eq(slug))
            .into_tuple()
            .one(conn)
            .await?)
    }

    pub async fn all_slugs(conn: &impl ConnectionTrait) -> Result<Vec<String>, StoreError> {
        Ok(Entity::find().select_only().column(Column::Slug).into_tuple().all(conn).await?)
    }

    /// Creates the tenant, or replaces its pack and bumps its configuration version.
    pub async fn save(
        conn: &impl ConnectionTrait,
        slug: &str,
        name: &str,
        pack: &str,
        logo: Option<(Vec<u8>, String)>,
        now: DateTime<Utc>,
    ) -> Result<StoredTenant, StoreError> {
        let (logo, logo_content_type) = logo.map_or((None, None), |(bytes, kind)| (Some(bytes), Some(kind)));
        let saved = match Entity::find().filter(Column::Slug.eq(slug)).one(conn).await? {
            Some(existing) => {
                let version = existing.config_version + 1;
                let mut active: tenant::ActiveModel = existing.into();
                active.name = Set(name.to_owned());
                active.pack = Set(pack.to_owned());
                active.logo = Set(logo);
                active.logo_content_type = Set(logo_content_type);
                active.config_version = Set(version);
                active.updated_at = Set(now);
                active.update(conn).await?
            }
            None => {
                tenant::ActiveModel {
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
                .await?
            }
        };
        Ok(saved.into())
    }
}
