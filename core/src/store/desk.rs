//! The counter's side of booking rows: an office's day with every status, and the desk's steps
//! (check-in, call, served, no-show), each a compare-and-set on the status so that two operators
//! acting at once cannot both move the same booking.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;
use super::bookings::{owes_no_more_mail, to_domain};
use super::entities::booking::{self, Column, Entity};
use crate::domain::{Booking, BookingCode, BookingStatus, TenantId};

/// What the counter recorded of a booking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeskRecord {
    pub checked_in_at: Option<DateTime<Utc>>,
    pub called_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The status before the last desk action, and when that was.
    pub previous_status: Option<BookingStatus>,
    pub status_changed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// The queue's ticket of the day (`P017`), and the desk of the last call.
    pub ticket: Option<String>,
    pub desk: Option<String>,
}

/// The column that stamps reaching `status` at the desk, if any.
fn stamp_of(status: BookingStatus) -> Option<Column> {
    match status {
        BookingStatus::CheckedIn => Some(Column::CheckedInAt),
        BookingStatus::Called => Some(Column::CalledAt),
        BookingStatus::Completed => Some(Column::CompletedAt),
        _ => None,
    }
}

fn with_record(m: booking::Model) -> Result<(Booking, DeskRecord), StoreError> {
    let record = DeskRecord {
        checked_in_at: m.checked_in_at,
        called_at: m.called_at,
        completed_at: m.completed_at,
        previous_status: m.previous_status.as_deref().and_then(BookingStatus::parse),
        status_changed_at: m.status_changed_at,
        note: m.staff_note.clone(),
        ticket: m.ticket.clone(),
        desk: m.desk.clone(),
    };
    Ok((to_domain(m)?, record))
}

pub struct Desk;

impl Desk {
    /// An office's bookings of every status that start in `[from, to)`, soonest first.
    pub async fn between(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<(Booking, DeskRecord)>, StoreError> {
        let rows = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::StartsAt.gte(from))
            .filter(Column::StartsAt.lt(to))
            .order_by_asc(Column::StartsAt)
            .order_by_asc(Column::Id)
            .all(conn)
            .await?;
        rows.into_iter().map(with_record).collect()
    }

    /// One booking by its code, with its desk record.
    pub async fn by_code(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        code: &BookingCode,
    ) -> Result<Option<(Booking, DeskRecord)>, StoreError> {
        let found = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Code.eq(code.as_str()))
            .one(conn)
            .await?;
        found.map(with_record).transpose()
    }

    /// Moves booking `id` from `from` to `to` at the desk, remembering `from` for an undo;
    /// `false` if it was no longer in `from` (someone else acted first).
    pub async fn step(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        (from, to): (BookingStatus, BookingStatus),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut update = owes_no_more_mail(Entity::update_many())
            .col_expr(Column::Status, to.code().into())
            .col_expr(Column::PreviousStatus, from.code().into())
            .col_expr(Column::StatusChangedAt, now.into())
            .col_expr(Column::UpdatedAt, now.into())
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1));
        if let Some(stamp) = stamp_of(to) {
            update = update.col_expr(stamp, now.into());
        }
        let result = update
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(from.code()))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Takes booking `id` back from `status` to `previous`, forgetting the undone step; `false`
    /// if it changed meanwhile.
    pub async fn undo(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        (status, previous): (BookingStatus, BookingStatus),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut update = Entity::update_many()
            .col_expr(Column::Status, previous.code().into())
            .col_expr(Column::PreviousStatus, Expr::value(Option::<String>::None))
            .col_expr(Column::StatusChangedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(Column::UpdatedAt, now.into())
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1));
        // A second call's undo keeps the first call's time.
        if let Some(stamp) = stamp_of(status).filter(|_| status != previous) {
            update = update.col_expr(stamp, Expr::value(Option::<DateTime<Utc>>::None));
        }
        let result = update
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(status.code()))
            .filter(Column::PreviousStatus.eq(previous.code()))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Sets (or, with `None`, clears) the staff's note on booking `id`.
    pub async fn note(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::StaffNote, Expr::value(note.map(str::to_owned)))
            .col_expr(Column::UpdatedAt, now.into())
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }
}
