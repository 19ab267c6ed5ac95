//! The counter queue's records on a booking: its ticket of the day at its office (given in the
//! check-in's transaction, unique per office, day and code) and the desk it was called to; and
//! an office's last calls, for the display board.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::StoreError;
use super::entities::booking::{Column, Entity};
use crate::domain::TenantId;

/// A call the display board shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub ticket: String,
    /// Where to go (a call from the API may name no desk).
    pub desk: Option<String>,
    pub at: DateTime<Utc>,
}

/// A call as read: ticket, desk, time.
type CallRow = (Option<String>, Option<String>, Option<DateTime<Utc>>);

pub struct Queue;

impl Queue {
    /// Within the check-in's transaction: waits for any other check-in at `office` on `day`, so
    /// that reading the last number and giving the next is one step.
    pub async fn lock_office_day(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        day: NaiveDate,
    ) -> Result<(), StoreError> {
        super::lock_key(conn, format!("sportello:{}:tickets:{office}:{day}", tenant.get())).await
    }

    /// The last number given today at `office` to tickets starting with `prefix` (0 for none).
    pub async fn last_number(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        day: NaiveDate,
        prefix: char,
    ) -> Result<u32, StoreError> {
        let last: Option<Option<i32>> = Entity::find()
            .select_only()
            .column_as(Column::TicketNumber.max(), "last")
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::TicketDay.eq(day))
            .filter(Column::Ticket.starts_with(prefix.to_string()))
            .into_tuple()
            .one(conn)
            .await?;
        Ok(last.flatten().and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
    }

    /// Gives booking `id` its ticket; a number already given there that day is a unique violation.
    pub async fn give_ticket(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        (day, number, code): (NaiveDate, u32, &str),
    ) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Ticket, Expr::value(code.to_owned()))
            .col_expr(Column::TicketNumber, Expr::value(i32::try_from(number).unwrap_or(i32::MAX)))
            .col_expr(Column::TicketDay, Expr::value(day))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Takes back booking `id`'s ticket (its check-in was undone) and forgets its desk.
    pub async fn take_back_ticket(conn: &impl ConnectionTrait, tenant: TenantId, id: i32) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Ticket, Expr::value(Option::<String>::None))
            .col_expr(Column::TicketNumber, Expr::value(Option::<i32>::None))
            .col_expr(Column::TicketDay, Expr::value(Option::<NaiveDate>::None))
            .col_expr(Column::Desk, Expr::value(Option::<String>::None))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Records the desk booking `id` was called to (in the call's transaction).
    pub async fn set_desk(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        desk: &str,
    ) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Desk, Expr::value(desk.to_owned()))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// The office's calls of `day` (of citizens with a ticket), the latest first.
    pub async fn last_calls(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        day: NaiveDate,
        limit: u64,
    ) -> Result<Vec<Call>, StoreError> {
        let rows: Vec<CallRow> = Entity::find()
            .select_only()
            .columns([Column::Ticket, Column::Desk, Column::CalledAt])
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::TicketDay.eq(day))
            .filter(Column::CalledAt.is_not_null())
            .order_by_desc(Column::CalledAt)
            .order_by_desc(Column::Id)
            .limit(limit)
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows.into_iter().filter_map(|(ticket, desk, at)| Some(Call { ticket: ticket?, desk, at: at? })).collect())
    }
}
