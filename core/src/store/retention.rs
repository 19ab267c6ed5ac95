//! Anonymising what a booking holds about its citizen: the booking's personal columns and the
//! messages sent about it (e-mails and webhook payloads). What the statistics count stays:
//! service, office, mode, times, status, channel, the counter's times and ticket.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect};

use super::StoreError;
use super::entities::{booking, booking_draft, outbox_message};
use super::outbox::DeliveryState;
use crate::domain::TenantId;

/// What one pass anonymised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Anonymised {
    pub bookings: u64,
    pub messages: u64,
}

pub struct Retention;

impl Retention {
    /// Within a write transaction: waits for another instance's pass of the same batch job, so
    /// that instances take turns instead of racing for the same rows (SQLite takes turns anyway).
    pub async fn take_turn(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
        super::lock_key(conn, "sportello:retention".to_owned()).await
    }

    /// Up to `batch` of `tenant`'s bookings that ended before `cutoff` and still hold personal
    /// data, oldest first.
    pub async fn due(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        cutoff: DateTime<Utc>,
        batch: u64,
    ) -> Result<Vec<i32>, StoreError> {
        Ok(booking::Entity::find()
            .select_only()
            .column(booking::Column::Id)
            .filter(booking::Column::TenantId.eq(tenant.get()))
            .filter(booking::Column::EndsAt.lt(cutoff))
            .filter(booking::Column::AnonymisedAt.is_null())
            .order_by_asc(booking::Column::EndsAt)
            .limit(batch)
            .into_tuple()
            .all(conn)
            .await?)
    }

    /// Anonymises `tenant`'s bookings `ids` (those not anonymised already) and every message
    /// about them; a message still waiting to go is skipped, as it would now go to nobody.
    pub async fn anonymise(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        ids: &[i32],
        now: DateTime<Utc>,
    ) -> Result<Anonymised, StoreError> {
        use booking::Column as B;
        use outbox_message::Column as M;
        if ids.is_empty() {
            return Ok(Anonymised::default());
        }
        let none = || Expr::value(Option::<String>::None);
        let empty = || Expr::value("");
        let bookings = booking::Entity::update_many()
            .col_expr(B::FirstName, empty())
            .col_expr(B::LastName, empty())
            .col_expr(B::Email, empty())
            .col_expr(B::Phone, empty())
            .col_expr(B::FiscalCode, none())
            .col_expr(B::Contact, none())
            .col_expr(B::Answers, Expr::value("{}"))
            .col_expr(B::Reason, none())
            .col_expr(B::Details, none())
            .col_expr(B::Summary, none())
            .col_expr(B::CancelReason, none())
            .col_expr(B::StaffNote, none())
            .col_expr(B::MailNext, none())
            .col_expr(B::MailDueAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(B::AnonymisedAt, Expr::value(Some(now)))
            .filter(B::TenantId.eq(tenant.get()))
            .filter(B::Id.is_in(ids.iter().copied()))
            .filter(B::AnonymisedAt.is_null())
            .exec(conn)
            .await?
            .rows_affected;
        let of_these = || {
            outbox_message::Entity::update_many()
                .filter(M::TenantId.eq(tenant.get()))
                .filter(M::BookingId.is_in(ids.iter().copied()))
        };
        let waiting = [DeliveryState::Queued, DeliveryState::Retrying, DeliveryState::InFlight].map(|s| s.code());
        of_these()
            .col_expr(M::State, Expr::value(DeliveryState::Skipped.code()))
            .col_expr(M::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(M::State.is_in(waiting))
            .exec(conn)
            .await?;
        // An error may quote the address it could not reach.
        let messages = of_these()
            .col_expr(M::Recipient, empty())
            .col_expr(M::Subject, empty())
            .col_expr(M::BodyText, empty())
            .col_expr(M::BodyHtml, empty())
            .col_expr(M::Attachment, none())
            .col_expr(M::LastError, none())
            .filter(M::Recipient.ne("").or(M::BodyText.ne("")))
            .exec(conn)
            .await?
            .rows_affected;
        Ok(Anonymised { bookings, messages })
    }

    /// Removes the forms of bookings never made whose hold expired (of every tenant).
    pub async fn drop_expired_drafts(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted =
            booking_draft::Entity::delete_many().filter(booking_draft::Column::ExpiresAt.lt(now)).exec(conn).await?;
        Ok(deleted.rows_affected)
    }
}
