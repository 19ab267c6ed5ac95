//! Which booking each hold became: the primary key lets a hold become at most one.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::StoreError;
use super::entities::hold_claim::{self, Entity};
use crate::domain::TenantId;
use crate::holds::OwnerDigest;

/// A hold's claim: the booking it became and whose it was.
pub struct HoldClaim {
    pub booking_id: i32,
    pub owner: Option<OwnerDigest>,
}

pub struct HoldClaims;

impl HoldClaims {
    pub async fn find(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        hold: Uuid,
    ) -> Result<Option<HoldClaim>, StoreError> {
        let found = Entity::find_by_id((tenant.get(), hold.to_string())).one(conn).await?;
        Ok(found.map(|m| HoldClaim { booking_id: m.booking_id, owner: OwnerDigest::from_stored(&m.owner_digest) }))
    }

    /// Records that `hold` became `booking_id`, inside the booking's transaction. Fails with a
    /// unique violation when the hold was already claimed (or a concurrent transaction is
    /// claiming it and commits first).
    pub async fn claim(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        hold: Uuid,
        owner: &OwnerDigest,
        booking_id: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        hold_claim::ActiveModel {
            tenant_id: Set(tenant.get()),
            hold_id: Set(hold.to_string()),
            booking_id: Set(booking_id),
            owner_digest: Set(owner.as_str().to_owned()),
            claimed_at: Set(now),
        }
        .insert(conn)
        .await?;
        Ok(())
    }
}
