//! The outbox: messages written with the change that causes them, claimed by one worker at a
//! time (`FOR UPDATE SKIP LOCKED` on PostgreSQL; the write lock of an `IMMEDIATE` transaction on
//! SQLite), with a lease so that a worker that dies leaves its claim to another.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};

use super::StoreError;
use super::entities::booking;
use super::entities::outbox_message::{ActiveModel, Column, Entity, Model};
use crate::domain::TenantId;

/// Where a message is on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    Queued,
    InFlight,
    Sent,
    Retrying,
    Failed,
    /// Not to be sent any more (a reminder of a booking cancelled or moved).
    Skipped,
}

impl DeliveryState {
    pub fn code(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InFlight => "in_flight",
            Self::Sent => "sent",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    fn parse(code: &str) -> Result<Self, StoreError> {
        [Self::Queued, Self::InFlight, Self::Sent, Self::Retrying, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox state {code:?}")))
    }
}

/// A message to write with the change that causes it.
pub struct NewMessage<'a> {
    pub tenant: TenantId,
    pub booking: Option<i32>,
    pub topic: &'a str,
    pub message_id: &'a str,
    pub sender: &'a str,
    pub reply_to: Option<&'a str>,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub attachment: Option<&'a str>,
    /// A webhook to this subscription (`text` is its payload), not an e-mail.
    pub webhook: Option<i32>,
    /// When it may go: now, or later (a reminder).
    pub due: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: i32,
    pub tenant: TenantId,
    pub booking: Option<i32>,
    pub topic: String,
    pub message_id: String,
    pub sender: String,
    pub reply_to: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachment: Option<String>,
    pub state: DeliveryState,
    /// Attempts made, this one included for a claimed message.
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub webhook: Option<i32>,
}

impl TryFrom<Model> for StoredMessage {
    type Error = StoreError;

    fn try_from(m: Model) -> Result<Self, StoreError> {
        Ok(Self {
            id: m.id,
            tenant: TenantId::from_stored(m.tenant_id),
            booking: m.booking_id,
            topic: m.topic,
            message_id: m.message_id,
            sender: m.sender,
            reply_to: m.reply_to,
            recipient: m.recipient,
            subject: m.subject,
            text: m.body_text,
            html: m.body_html,
            attachment: m.attachment,
            state: DeliveryState::parse(&m.state)?,
            attempts: u32::try_from(m.attempts).unwrap_or_default(),
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            webhook: m.webhook_id,
        })
    }
}

/// One claim of a message: its id and the attempt it was claimed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: i32,
    pub attempt: u32,
}

impl StoredMessage {
    pub fn claim(&self) -> Claim {
        Claim { id: self.id, attempt: self.attempts }
    }

    /// Written without its text, to be composed when it goes (a confirmation, a reminder). A
    /// webhook always carries its payload.
    pub fn composed_when_due(&self) -> bool {
        self.webhook.is_none() && self.text.is_empty() && self.html.is_empty()
    }
}

/// How a claimed message's attempt ended, to be recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    pub claim: Claim,
    pub outcome: Settled,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Settled {
    Sent,
    Retry {
        next: DateTime<Utc>,
        error: String,
    },
    Failed {
        error: String,
    },
    /// Not needed any more (its booking was cancelled before it went).
    Skipped {
        reason: String,
    },
}

/// How many messages wait, and since when the oldest does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    pub waiting: u64,
    pub oldest: Option<DateTime<Utc>>,
    /// Given up on (refused for good, or after every retry): each needs a person.
    pub failed: u64,
}

/// The topic of reminders, which wait in the outbox until their time (`mail::Topic::Reminder`).
const REMINDER_TOPIC: &str = "reminder";

/// Due messages, oldest first, except those of a booking with an earlier message to the same
/// recipient still on its way: a citizen never reads "cancelled" before "confirmed", nor does a
/// webhook receiver; a receiver that is down holds back only its own messages.
const CLAIM_POSTGRES: &str = "UPDATE outbox_messages SET state = 'in_flight', lease_until = $1, attempts = attempts + 1 \
    WHERE id IN (SELECT m.id FROM outbox_messages m \
      WHERE ((m.state IN ('queued', 'retrying') AND m.next_attempt_at <= $2) OR (m.state = 'in_flight' AND m.lease_until < $2)) \
        AND NOT EXISTS (SELECT 1 FROM outbox_messages e WHERE e.booking_id = m.booking_id AND e.recipient = m.recipient AND e.id < m.id \
          AND (e.state IN ('in_flight', 'retrying') OR (e.state = 'queued' AND e.next_attempt_at <= $2))) \
        AND (m.webhook_id IS NOT NULL) = $4 \
      ORDER BY m.next_attempt_at, m.id LIMIT $3 FOR UPDATE SKIP LOCKED) \
    RETURNING *";

/// SQLite has no row locks: the claim runs in an `IMMEDIATE` transaction, one writer at a time.
const CLAIM_SQLITE: &str = "UPDATE outbox_messages SET state = 'in_flight', lease_until = ?1, attempts = attempts + 1 \
    WHERE id IN (SELECT m.id FROM outbox_messages m \
      WHERE ((m.state IN ('queued', 'retrying') AND m.next_attempt_at <= ?2) OR (m.state = 'in_flight' AND m.lease_until < ?2)) \
        AND NOT EXISTS (SELECT 1 FROM outbox_messages e WHERE e.booking_id = m.booking_id AND e.recipient = m.recipient AND e.id < m.id \
          AND (e.state IN ('in_flight', 'retrying') OR (e.state = 'queued' AND e.next_attempt_at <= ?2))) \
        AND (m.webhook_id IS NOT NULL) = ?4 \
      ORDER BY m.next_attempt_at, m.id LIMIT ?3) \
    RETURNING *";

/// Which messages a worker's loop sends: e-mails and webhooks are claimed apart, so that a slow
/// or dead receiver never holds back the citizens' e-mails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    Mail,
    Webhooks,
}

pub struct Outbox;

impl Outbox {
    /// Writes `messages` in one statement (within the transaction of a change, or of the worker
    /// queueing what bookings owe).
    pub async fn enqueue(conn: &impl ConnectionTrait, messages: &[NewMessage<'_>]) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        Entity::insert_many(messages.iter().map(Self::row)).exec_without_returning(conn).await?;
        Ok(())
    }

    fn row(new: &NewMessage<'_>) -> ActiveModel {
        ActiveModel {
            tenant_id: Set(new.tenant.get()),
            booking_id: Set(new.booking),
            topic: Set(new.topic.to_owned()),
            message_id: Set(new.message_id.to_owned()),
            sender: Set(new.sender.to_owned()),
            reply_to: Set(new.reply_to.map(str::to_owned)),
            recipient: Set(new.recipient.to_owned()),
            subject: Set(new.subject.to_owned()),
            body_text: Set(new.text.to_owned()),
            body_html: Set(new.html.to_owned()),
            attachment: Set(new.attachment.map(str::to_owned)),
            state: Set(DeliveryState::Queued.code().to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(new.due),
            lease_until: Set(None),
            last_error: Set(None),
            created_at: Set(new.now),
            sent_at: Set(None),
            webhook_id: Set(new.webhook),
            ..Default::default()
        }
    }

    /// Claims up to `limit` messages of `lane` that are due (or whose claim lapsed) for `lease`.
    pub async fn claim(
        conn: &impl ConnectionTrait,
        lane: Lane,
        now: DateTime<Utc>,
        lease: TimeDelta,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let backend = conn.get_database_backend();
        let until = now + lease;
        let limit = i64::from(limit);
        let values = [until.into(), now.into(), limit.into(), (lane == Lane::Webhooks).into()];
        let sql = if backend == DbBackend::Postgres { CLAIM_POSTGRES } else { CLAIM_SQLITE };
        let statement = Statement::from_sql_and_values(backend, sql, values);
        let rows = Entity::find().from_raw_sql(statement).all(conn).await?;
        let mut claimed: Vec<StoredMessage> =
            rows.into_iter().map(StoredMessage::try_from).collect::<Result<_, _>>()?;
        claimed.sort_by_key(|m| (m.next_attempt_at, m.id));
        Ok(claimed)
    }

    /// Ends claims in one write: the delivered messages (sent at `now`) in a single statement, the
    /// others (rare: a retry, a failure or a skip, each with its own reason) beside it. A worker
    /// sending a batch thus takes the writer a few times instead of once per message.
    pub async fn settle_all(
        conn: &impl ConnectionTrait,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let delivered: Vec<Claim> =
            settlements.iter().filter(|s| s.outcome == Settled::Sent).map(|s| s.claim).collect();
        if !delivered.is_empty() {
            Self::ending(delivered.into_iter(), DeliveryState::Sent)
                .col_expr(Column::SentAt, Expr::value(now))
                .exec(conn)
                .await?;
        }
        for settlement in settlements {
            let claim = std::iter::once(settlement.claim);
            let update =
                match &settlement.outcome {
                    Settled::Sent => continue,
                    Settled::Retry { next, error } => Self::ending(claim, DeliveryState::Retrying)
                        .col_expr(Column::NextAttemptAt, Expr::value(*next))
                        .col_expr(Column::LastError, Expr::value(error.clone())),
                    Settled::Failed { error } => Self::ending(claim, DeliveryState::Failed)
                        .col_expr(Column::LastError, Expr::value(error.clone())),
                    Settled::Skipped { reason } => Self::ending(claim, DeliveryState::Skipped)
                        .col_expr(Column::LastError, Expr::value(reason.clone())),
                };
            update.exec(conn).await?;
        }
        Ok(())
    }

    /// Ends `claims` in `state`: only a message still in flight under *its* claim changes. A claim
    /// that lapsed and was taken over by another worker (its attempt number moved on) is that
    /// worker's to settle; a message skipped meanwhile (a reminder of a cancelled booking) stays
    /// skipped.
    fn ending(claims: impl Iterator<Item = Claim>, state: DeliveryState) -> sea_orm::UpdateMany<Entity> {
        let mine = claims.fold(Condition::any(), |any, Claim { id, attempt }| {
            any.add(
                Condition::all()
                    .add(Column::Id.eq(id))
                    .add(Column::Attempts.eq(i32::try_from(attempt).unwrap_or(i32::MAX))),
            )
        });
        Entity::update_many()
            .col_expr(Column::State, Expr::value(state.code()))
            .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(mine)
            .filter(Column::State.eq(DeliveryState::InFlight.code()))
    }

    /// Stops the messages of `topic` for a booking that have not gone yet (its reminder, when
    /// the booking is cancelled or moved), in flight included: a worker sending one now may still
    /// get it out, but it is never retried or taken over.
    pub async fn skip_waiting(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        booking: i32,
        topic: &str,
    ) -> Result<u64, StoreError> {
        let waiting = [DeliveryState::Queued.code(), DeliveryState::Retrying.code(), DeliveryState::InFlight.code()];
        let result = Entity::update_many()
            .col_expr(Column::State, Expr::value(DeliveryState::Skipped.code()))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::BookingId.eq(booking))
            .filter(Column::Topic.eq(topic))
            .filter(Column::State.is_in(waiting))
            .exec(conn)
            .await?;
        Ok(result.rows_affected)
    }

    /// Messages not yet delivered for good, for `/readyz` and `/metrics`: in flight, to be retried
    /// (an SMTP outage shows here), or queued and due (not reminders waiting for their time); the
    /// moment the oldest of them became due; and the failed ones. A message became due when it
    /// was queued — the worker queues a reminder when its time comes — except a reminder queued
    /// ahead of its time before bookings owed their e-mails (migration 13), due at its first try.
    pub async fn backlog(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Backlog, StoreError> {
        let started = [DeliveryState::InFlight.code(), DeliveryState::Retrying.code()];
        let queued_due =
            Condition::all().add(Column::State.eq(DeliveryState::Queued.code())).add(Column::NextAttemptAt.lte(now));
        let pending = Condition::any().add(Column::State.is_in(started)).add(queued_due.clone());
        let waiting = Entity::find().filter(pending.clone()).count(conn).await?;
        let first = |query: sea_orm::Select<Entity>, column: Column| {
            query.select_only().column(column).order_by_asc(column).into_tuple::<DateTime<Utc>>().one(conn)
        };
        let reminder = REMINDER_TOPIC;
        let not_ahead = Condition::any().add(Column::Topic.ne(reminder)).add(Column::State.is_in(started));
        let oldest_message = first(Entity::find().filter(pending).filter(not_ahead), Column::CreatedAt).await?;
        let oldest_reminder =
            first(Entity::find().filter(queued_due).filter(Column::Topic.eq(reminder)), Column::NextAttemptAt).await?;
        let oldest = oldest_message.into_iter().chain(oldest_reminder).min();
        let failed = Entity::find().filter(Column::State.eq(DeliveryState::Failed.code())).count(conn).await?;
        Ok(Backlog { waiting, oldest, failed })
    }

    /// A tenant's messages, newest first, before message `before` (the delivery log's pages).
    pub async fn list(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        before: Option<i32>,
        limit: u64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut query = Entity::find().filter(Column::TenantId.eq(tenant.get()));
        if let Some(before) = before {
            query = query.filter(Column::Id.lt(before));
        }
        let rows = query.order_by_desc(Column::Id).limit(limit).all(conn).await?;
        rows.into_iter().map(StoredMessage::try_from).collect()
    }

    /// A booking's messages, oldest first.
    pub async fn of_booking(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        booking: i32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::BookingId.eq(booking))
            .order_by_asc(Column::Id)
            .all(conn)
            .await?;
        rows.into_iter().map(StoredMessage::try_from).collect()
    }

    /// A removed or switched-off subscription's messages not yet sent are not to be sent.
    pub async fn skip_for_webhook(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        webhook: i32,
    ) -> Result<u64, StoreError> {
        let waiting = [DeliveryState::Queued.code(), DeliveryState::Retrying.code()];
        let result = Entity::update_many()
            .col_expr(Column::State, Expr::value(DeliveryState::Skipped.code()))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::WebhookId.eq(webhook))
            .filter(Column::State.is_in(waiting))
            .exec(conn)
            .await?;
        Ok(result.rows_affected)
    }

    /// Sends a failed message again at once; `false` if it is not a failed message of the tenant.
    pub async fn retry_failed(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::State, Expr::value(DeliveryState::Queued.code()))
            .col_expr(Column::NextAttemptAt, Expr::value(now))
            // A fresh series of retries: one that gave up would otherwise give up at once.
            .col_expr(Column::Attempts, Expr::value(0))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .filter(Column::State.eq(DeliveryState::Failed.code()))
            // A reminder only while its booking is still confirmed.
            .filter(
                Condition::any().add(Column::Topic.ne(REMINDER_TOPIC)).add(
                    Column::BookingId.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(booking::Column::Id)
                            .from(booking::Entity)
                            .and_where(booking::Column::Status.eq("confirmed"))
                            .to_owned(),
                    ),
                ),
            )
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }
}
