//! API keys of a tenant's admin API, known only by their digests.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::StoreError;
use super::entities::api_key::{self, Column, Entity};
use super::staff::{offices_of, offices_text, role_of};
use crate::domain::{Role, Slug, TenantId};

#[derive(Clone, Debug)]
pub struct StoredApiKey {
    pub id: i32,
    pub tenant: TenantId,
    pub name: String,
    pub role: Role,
    pub offices: Vec<Slug>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<api_key::Model> for StoredApiKey {
    type Error = StoreError;

    fn try_from(m: api_key::Model) -> Result<Self, StoreError> {
        Ok(Self {
            id: m.id,
            tenant: TenantId::from_stored(m.tenant_id),
            name: m.name,
            role: role_of(&m.role)?,
            offices: offices_of(&m.offices)?,
            created_by: m.created_by,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        })
    }
}

/// A key to store: everything but its secret, which only its digest stands for.
pub struct NewApiKey<'a> {
    pub tenant: TenantId,
    pub name: &'a str,
    pub key_digest: &'a str,
    pub role: Role,
    pub offices: &'a [Slug],
    pub created_by: &'a str,
    pub now: DateTime<Utc>,
}

pub struct ApiKeys;

impl ApiKeys {
    pub async fn create(conn: &impl ConnectionTrait, new: &NewApiKey<'_>) -> Result<i32, StoreError> {
        let saved = api_key::ActiveModel {
            tenant_id: Set(new.tenant.get()),
            name: Set(new.name.to_owned()),
            key_digest: Set(new.key_digest.to_owned()),
            role: Set(new.role.code().to_owned()),
            offices: Set(offices_text(new.offices)),
            created_by: Set(new.created_by.to_owned()),
            created_at: Set(new.now),
            last_used_at: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(saved.id)
    }

    /// The key with this digest, revoked or not.
    pub async fn by_digest(conn: &impl ConnectionTrait, digest: &str) -> Result<Option<StoredApiKey>, StoreError> {
        Entity::find().filter(Column::KeyDigest.eq(digest)).one(conn).await?.map(StoredApiKey::try_from).transpose()
    }

    /// The tenant's keys, newest first.
    pub async fn of_tenant(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<StoredApiKey>, StoreError> {
        let rows = Entity::find().filter(Column::TenantId.eq(tenant.get())).order_by_desc(Column::Id).all(conn).await?;
        rows.into_iter().map(StoredApiKey::try_from).collect()
    }

    /// Revokes the tenant's key `id` (a revoked key stays revoked as it was): the key and whether
    /// this call revoked it, or `None` when the tenant has no such key.
    pub async fn revoke(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        now: DateTime<Utc>,
    ) -> Result<Option<(StoredApiKey, bool)>, StoreError> {
        let updated = Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        let found =
            Entity::find().filter(Column::Id.eq(id)).filter(Column::TenantId.eq(tenant.get())).one(conn).await?;
        Ok(found.map(StoredApiKey::try_from).transpose()?.map(|key| (key, updated.rows_affected > 0)))
    }

    /// Revokes the keys `maker` made in `tenant` (they lost the right to make them).
    pub async fn revoke_made_by(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        maker: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let revoked = Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(now))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::CreatedBy.eq(maker))
            .filter(Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        Ok(revoked.rows_affected)
    }

    pub async fn touch(conn: &impl ConnectionTrait, id: i32, now: DateTime<Utc>) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }
}
