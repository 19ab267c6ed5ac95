//! The audit log: appended to, never changed.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::StoreError;
use super::entities::audit_event::{self, Column, Entity};
use crate::domain::{BookingCode, TenantId};

/// One entry, as written and as read.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub id: i64,
    /// None: a platform event.
    pub tenant: Option<TenantId>,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i32>,
    pub actor: String,
    pub client_address: Option<String>,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Which entries to read: one tenant's (or the platform's), newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub tenant: Option<TenantId>,
    /// Only actions starting with this (`login`, `staff.`…).
    pub action: Option<String>,
    /// Only entries older than this id (the next page).
    pub before: Option<i64>,
    pub limit: u64,
}

pub struct AuditLog;

impl AuditLog {
    pub async fn append(conn: &impl ConnectionTrait, entry: &AuditEntry) -> Result<(), StoreError> {
        audit_event::ActiveModel {
            tenant_id: Set(entry.tenant.map(TenantId::get)),
            at: Set(entry.at),
            actor_id: Set(entry.actor_id),
            actor: Set(entry.actor.chars().take(254).collect()),
            client_address: Set(entry.client_address.as_ref().map(|a| a.chars().take(64).collect())),
            action: Set(entry.action.clone()),
            detail: Set(entry.detail.to_string()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    /// The entries of `tenant` that name booking `code` (opened, changed, noted…), oldest first.
    pub async fn of_booking(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        code: &BookingCode,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // Details are compact JSON with the booking as `"booking":"<code>"` (as shown, `ABCD-EFGH`);
        // a code is letters, digits and a dash, nothing LIKE would read as a wildcard.
        let rows = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Detail.contains(format!("\"booking\":\"{code}\"")))
            .order_by_asc(Column::Id)
            .all(conn)
            .await?;
        rows.into_iter().map(entry_of).collect()
    }

    pub async fn read(conn: &impl ConnectionTrait, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut select = Entity::find();
        select = match query.tenant {
            Some(t) => select.filter(Column::TenantId.eq(t.get())),
            None => select.filter(Column::TenantId.is_null()),
        };
        if let Some(action) = &query.action {
            select = select.filter(Column::Action.starts_with(action));
        }
        if let Some(before) = query.before {
            select = select.filter(Column::Id.lt(before));
        }
        let rows = select.order_by_desc(Column::Id).limit(query.limit).all(conn).await?;
        rows.into_iter().map(entry_of).collect()
    }
}

fn entry_of(m: audit_event::Model) -> Result<AuditEntry, StoreError> {
    let detail =
        serde_json::from_str(&m.detail).map_err(|e| StoreError::Corrupt(format!("audit entry {}: {e}", m.id)))?;
    Ok(AuditEntry {
        id: m.id,
        tenant: m.tenant_id.map(TenantId::from_stored),
        at: m.at,
        actor_id: m.actor_id,
        actor: m.actor,
        client_address: m.client_address,
        action: m.action,
        detail,
    })
}
