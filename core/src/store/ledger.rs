//! The capacity ledger: the one place where capacity is decided.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

use super::StoreError;
use super::entities::ledger::{self, Column, Entity};
use crate::domain::TenantId;

/// A unit's bookings, and how many times they changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitUsage {
    pub used: u32,
    pub changes: i64,
}

/// Reads and conditional writes of per-unit booking counts.
pub struct Ledger;

impl Ledger {
    /// Takes one place on every unit, only if each has fewer than `capacity` bookings.
    /// Returns `false` (and changes nothing that the caller's rollback would not undo) when full.
    /// Must run inside a write transaction.
    pub async fn take(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        units: &[i64],
        capacity: u16,
    ) -> Result<bool, StoreError> {
        let rows = units.iter().map(|&unit_start| ledger::ActiveModel {
            tenant_id: sea_orm::Set(tenant.get()),
            office: sea_orm::Set(office.to_owned()),
            unit_start: sea_orm::Set(unit_start),
            used: sea_orm::Set(0),
            changes: sea_orm::Set(0),
        });
        Entity::insert_many(rows).on_conflict_do_nothing().exec_without_returning(conn).await?;
        // One statement over all units; rows are locked in key order, so concurrent takes
        // over overlapping units cannot deadlock each other.
        let updated = Entity::update_many()
            .col_expr(Column::Used, Expr::col(Column::Used).add(1))
            .col_expr(Column::Changes, Expr::col(Column::Changes).add(1))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::UnitStart.is_in(units.iter().copied()))
            .filter(Column::Used.lt(i32::from(capacity)))
            .exec(conn)
            .await?;
        Ok(updated.rows_affected == units.len() as u64)
    }

    /// Gives back one place on every unit.
    pub async fn release(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        units: &[i64],
    ) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Used, Expr::col(Column::Used).sub(1))
            .col_expr(Column::Changes, Expr::col(Column::Changes).add(1))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::UnitStart.is_in(units.iter().copied()))
            .filter(Column::Used.gt(0))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Bookings and change counts of exactly `units` (units never booked are left out).
    /// Two reads that agree saw no booking, cancellation or move on those units in between.
    pub async fn units(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        units: &[i64],
    ) -> Result<HashMap<i64, UnitUsage>, StoreError> {
        let rows: Vec<(i64, i32, i64)> = Entity::find()
            .select_only()
            .column(Column::UnitStart)
            .column(Column::Used)
            .column(Column::Changes)
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::UnitStart.is_in(units.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(unit, used, changes)| (unit, UnitUsage { used: u32::try_from(used).unwrap_or(0), changes }))
            .collect())
    }

    /// Bookings per unit for units in `[from, to)`, one query for the whole range.
    pub async fn usage(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        from: i64,
        to: i64,
    ) -> Result<HashMap<i64, u32>, StoreError> {
        let rows: Vec<(i64, i32)> = Entity::find()
            .select_only()
            .column(Column::UnitStart)
            .column(Column::Used)
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::UnitStart.gte(from))
            .filter(Column::UnitStart.lt(to))
            .filter(Column::Used.gt(0))
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows.into_iter().map(|(unit, used)| (unit, u32::try_from(used).unwrap_or(0))).collect())
    }
}
