//! Anonymising what a booking holds about its citizen: the booking's personal columns and the
//! messages sent about it (e-mails and webhook payloads). What the statistics count stays:
//! service, office, mode, times, status, channel, the counter's times and ticket.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

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

/// What anonymising does with a message still to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// Not sent: past retention it would tell nobody anything.
    Skip,
    /// Sent, then cleared: the citizen erasing their data is told their appointment is cancelled.
    Send,
}

const WAITING: [DeliveryState; 3] = [DeliveryState::Queued, DeliveryState::Retrying, DeliveryState::InFlight];

/// `update` emptying what a message says and to whom (an error may quote the address), for
/// the messages that still hold something.
fn cleared(update: sea_orm::UpdateMany<outbox_message::Entity>) -> sea_orm::UpdateMany<outbox_message::Entity> {
    use outbox_message::Column as M;
    update
        .col_expr(M::Recipient, Expr::value(""))
        .col_expr(M::Subject, Expr::value(""))
        .col_expr(M::BodyText, Expr::value(""))
        .col_expr(M::BodyHtml, Expr::value(""))
        .col_expr(M::Attachment, Expr::value(Option::<String>::None))
        .col_expr(M::LastError, Expr::value(Option::<String>::None))
        .filter(M::Recipient.ne("").or(M::BodyText.ne("")).or(M::Attachment.is_not_null()))
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

    /// Anonymises `tenant`'s bookings `ids` (those not anonymised already) and the messages
    /// about them: with `Waiting::Skip` every one (a message still waiting to go is not sent);
    /// with `Waiting::Send` those already settled, leaving the ones still to go (the e-mail that
    /// tells an erasing citizen their appointment is cancelled) to `clear_settled` once they went.
    pub async fn anonymise(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        ids: &[i32],
        waiting: Waiting,
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
        if waiting == Waiting::Skip {
            of_these()
                .col_expr(M::State, Expr::value(DeliveryState::Skipped.code()))
                .col_expr(M::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(M::State.is_in(WAITING.map(DeliveryState::code)))
                .exec(conn)
                .await?;
        }
        let messages =
            cleared(of_these()).filter(M::State.is_not_in(WAITING.map(DeliveryState::code))).exec(conn).await?;
        Ok(Anonymised { bookings, messages: messages.rows_affected })
    }

    /// Clears the messages about `tenant`'s anonymised bookings that went (or failed for good)
    /// since: the last e-mail of a citizen who erased their data.
    pub async fn clear_settled(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<u64, StoreError> {
        let anonymised = booking::Entity::find()
            .select_only()
            .column(booking::Column::Id)
            .filter(booking::Column::TenantId.eq(tenant.get()))
            .filter(booking::Column::AnonymisedAt.is_not_null())
            .into_query();
        let cleared = cleared(outbox_message::Entity::update_many())
            .filter(outbox_message::Column::TenantId.eq(tenant.get()))
            .filter(outbox_message::Column::BookingId.in_subquery(anonymised))
            .filter(outbox_message::Column::State.is_not_in(WAITING.map(DeliveryState::code)))
            .exec(conn)
            .await?;
        Ok(cleared.rows_affected)
    }

    /// Removes the forms of bookings never made whose hold expired (of every tenant).
    pub async fn drop_expired_drafts(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted =
            booking_draft::Entity::delete_many().filter(booking_draft::Column::ExpiresAt.lt(now)).exec(conn).await?;
        Ok(deleted.rows_affected)
    }
}
