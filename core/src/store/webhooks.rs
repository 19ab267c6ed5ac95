//! A tenant's webhook subscriptions. Every query takes the tenant.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::StoreError;
use super::entities::webhook::{ActiveModel, Column, Entity, Model};
use crate::domain::TenantId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWebhook {
    pub id: i32,
    pub url: String,
    /// Event types, e.g. `booking.created`.
    pub events: Vec<String>,
    pub personal_data: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Model> for StoredWebhook {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            url: m.url,
            events: m.events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
            personal_data: m.personal_data,
            secret: m.secret,
            previous_secret: m.previous_secret,
            previous_until: m.previous_until,
            disabled_at: m.disabled_at,
            disabled_reason: m.disabled_reason,
            created_at: m.created_at,
        }
    }
}

pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub events: &'a [&'a str],
    pub personal_data: bool,
    pub secret: &'a str,
    pub now: DateTime<Utc>,
}

pub struct Webhooks;

impl Webhooks {
    pub async fn create(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        new: NewWebhook<'_>,
    ) -> Result<StoredWebhook, StoreError> {
        let row = ActiveModel {
            tenant_id: Set(tenant.get()),
            url: Set(new.url.to_owned()),
            events: Set(new.events.join(",")),
            personal_data: Set(new.personal_data),
            secret: Set(new.secret.to_owned()),
            previous_secret: Set(None),
            previous_until: Set(None),
            disabled_at: Set(None),
            disabled_reason: Set(None),
            created_at: Set(new.now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(row.into())
    }

    /// Within a write transaction: waits for any other change to this tenant's subscriptions, so
    /// that counting them and adding one is one step (SQLite has one writer already).
    pub async fn lock_tenant(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<(), StoreError> {
        super::lock_key(conn, format!("sportello:{}:webhooks", tenant.get())).await
    }

    pub async fn count(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<u64, StoreError> {
        Ok(Entity::find().filter(Column::TenantId.eq(tenant.get())).count(conn).await?)
    }

    pub async fn list(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<StoredWebhook>, StoreError> {
        let rows = Entity::find().filter(Column::TenantId.eq(tenant.get())).order_by_asc(Column::Id).all(conn).await?;
        Ok(rows.into_iter().map(StoredWebhook::from).collect())
    }

    pub async fn find(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
    ) -> Result<Option<StoredWebhook>, StoreError> {
        let row = Entity::find().filter(Column::TenantId.eq(tenant.get())).filter(Column::Id.eq(id)).one(conn).await?;
        Ok(row.map(StoredWebhook::from))
    }

    /// The enabled subscriptions of `tenant` to `event`.
    pub async fn subscribed(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        event: &str,
    ) -> Result<Vec<StoredWebhook>, StoreError> {
        let rows = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::DisabledAt.is_null())
            .order_by_asc(Column::Id)
            .all(conn)
            .await?;
        Ok(rows.into_iter().map(StoredWebhook::from).filter(|w| w.events.iter().any(|e| e == event)).collect())
    }

    /// `false` when there was no such subscription.
    pub async fn delete(conn: &impl ConnectionTrait, tenant: TenantId, id: i32) -> Result<bool, StoreError> {
        let result = Entity::delete_many()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// A new secret; the one it replaces keeps signing until `previous_until`. One statement, so
    /// two rotations at once each keep the secret they replaced (the first's becomes the previous).
    pub async fn rotate(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        secret: &str,
        previous_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::PreviousSecret, Expr::col(Column::Secret))
            .col_expr(Column::Secret, Expr::value(secret.to_owned()))
            .col_expr(Column::PreviousUntil, Expr::value(Some(previous_until)))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Switches a subscription off (its receiver answered 410 Gone) or on again (`None`).
    pub async fn set_disabled(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        disabled: Option<(DateTime<Utc>, &str)>,
    ) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::DisabledAt, disabled.map(|(at, _)| at).into())
            .col_expr(Column::DisabledReason, disabled.map(|(_, why)| why.to_owned()).into())
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }
}
