//! The secret calendar feeds of offices (only their digests). Every query takes the tenant.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::StoreError;
use super::entities::office_feed::{ActiveModel, Column, Entity, Model};
use crate::domain::TenantId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFeed {
    pub office: String,
    pub token_digest: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<Model> for StoredFeed {
    fn from(m: Model) -> Self {
        Self { office: m.office, token_digest: m.token_digest, created_by: m.created_by, created_at: m.created_at }
    }
}

pub struct OfficeFeeds;

impl OfficeFeeds {
    /// The office's feed gets a new secret; the address before it stops working.
    pub async fn replace(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        token_digest: &str,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Self::remove(conn, tenant, office).await?;
        ActiveModel {
            tenant_id: Set(tenant.get()),
            office: Set(office.to_owned()),
            token_digest: Set(token_digest.to_owned()),
            created_by: Set(created_by.to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    /// `false` when the office had no feed.
    pub async fn remove(conn: &impl ConnectionTrait, tenant: TenantId, office: &str) -> Result<bool, StoreError> {
        let result = Entity::delete_many()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .exec(conn)
            .await?;
        Ok(result.rows_affected > 0)
    }

    pub async fn of_office(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
    ) -> Result<Option<StoredFeed>, StoreError> {
        let row = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .one(conn)
            .await?;
        Ok(row.map(StoredFeed::from))
    }

    pub async fn list(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<StoredFeed>, StoreError> {
        let rows =
            Entity::find().filter(Column::TenantId.eq(tenant.get())).order_by_asc(Column::Office).all(conn).await?;
        Ok(rows.into_iter().map(StoredFeed::from).collect())
    }
}
