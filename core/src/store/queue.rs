//! The counter queue's records on a booking: its ticket of the day at its office (given in the
//! check-in's transaction, unique per office, day and code) and the desk it was called to; and
//! an office's tickets of the day, for the display board and the tickets' pages.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::StoreError;
use super::entities::booking::{Column, Entity};
use crate::domain::{BookingStatus, Channel, TenantId};

/// A ticket of the day as the queue sees it: nothing personal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    pub booking: i32,
    pub ticket: String,
    pub status: BookingStatus,
    /// Booked at the counter (a walk-in, if its time had come when it checked in).
    pub at_counter: bool,
    pub start: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub called_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub desk: Option<String>,
}

#[derive(sea_orm::FromQueryResult)]
struct TicketModel {
    id: i32,
    ticket: Option<String>,
    status: String,
    channel: String,
    starts_at: DateTime<Utc>,
    checked_in_at: Option<DateTime<Utc>>,
    called_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    desk: Option<String>,
}

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

    /// The office's tickets of `day`.
    pub async fn tickets(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        day: NaiveDate,
    ) -> Result<Vec<TicketRow>, StoreError> {
        let rows = Entity::find()
            .select_only()
            .columns([Column::Id, Column::Ticket, Column::Status, Column::Channel, Column::StartsAt])
            .columns([Column::CheckedInAt, Column::CalledAt, Column::CompletedAt, Column::Desk])
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::TicketDay.eq(day))
            .into_model::<TicketModel>()
            .all(conn)
            .await?;
        rows.into_iter()
            .filter_map(|m| {
                let ticket = m.ticket?;
                let status = BookingStatus::parse(&m.status)
                    .ok_or_else(|| StoreError::Corrupt(format!("booking status {:?}", m.status)));
                Some(status.map(|status| TicketRow {
                    booking: m.id,
                    ticket,
                    status,
                    at_counter: m.channel == Channel::Counter.code(),
                    start: m.starts_at,
                    checked_in_at: m.checked_in_at,
                    called_at: m.called_at,
                    completed_at: m.completed_at,
                    desk: m.desk,
                }))
            })
            .collect()
    }
}
