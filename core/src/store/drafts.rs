//! What a citizen typed into the details form, between the form and the review: one draft per
//! booking in progress, named by the digest of its hold secret, gone when it expires.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::StoreError;
use super::entities::booking_draft::{self, Column, Entity};
use crate::domain::TenantId;
use crate::holds::OwnerDigest;

/// A form's fields by name.
pub type DraftFields = BTreeMap<String, String>;

pub struct Drafts;

impl Drafts {
    /// Keeps `fields` for `owner` until `expires_at`, replacing an earlier draft. Every expired
    /// draft (of any tenant: this is housekeeping, not a query of one body's data) goes at the same
    /// time, so that none outlives its hold by much while citizens book.
    pub async fn save(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        owner: &OwnerDigest,
        fields: &DraftFields,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Entity::delete_many().filter(Column::ExpiresAt.lt(now)).exec(conn).await?;
        let row = booking_draft::ActiveModel {
            tenant_id: Set(tenant.get()),
            owner_digest: Set(owner.as_str().to_owned()),
            fields: Set(serde_json::to_string(fields).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            expires_at: Set(expires_at),
        };
        Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::TenantId, Column::OwnerDigest])
                    .update_columns([Column::Fields, Column::ExpiresAt])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// The unexpired draft of `owner`, if any.
    pub async fn find(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        owner: &OwnerDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<DraftFields>, StoreError> {
        let found = Entity::find_by_id((tenant.get(), owner.as_str().to_owned())).one(conn).await?;
        let Some(row) = found.filter(|row| row.expires_at >= now) else { return Ok(None) };
        serde_json::from_str(&row.fields).map(Some).map_err(|_| StoreError::Corrupt("a booking draft".to_owned()))
    }

    /// Forgets `owner`'s draft (booked, or given up).
    pub async fn delete(conn: &impl ConnectionTrait, tenant: TenantId, owner: &OwnerDigest) -> Result<(), StoreError> {
        Entity::delete_by_id((tenant.get(), owner.as_str().to_owned())).exec(conn).await?;
        Ok(())
    }
}
