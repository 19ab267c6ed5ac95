//! Idempotency keys of booking requests: a retried request gets the first answer.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::StoreError;
use super::entities::idempotency_key::{self, Entity};
use crate::domain::TenantId;

pub struct IdempotencyKeys;

impl IdempotencyKeys {
    /// The (request hash, booking id) recorded under `key`.
    pub async fn find(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<(String, i32)>, StoreError> {
        let found = Entity::find_by_id((tenant.get(), key.to_owned())).one(conn).await?;
        Ok(found.map(|m| (m.request_hash, m.booking_id)))
    }

    /// Fails with a unique violation when a concurrent request recorded the key first.
    pub async fn record(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        key: &str,
        request_hash: &str,
        booking_id: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        idempotency_key::ActiveModel {
            tenant_id: Set(tenant.get()),
            key: Set(key.to_owned()),
            request_hash: Set(request_hash.to_owned()),
            booking_id: Set(booking_id),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
        Ok(())
    }
}
