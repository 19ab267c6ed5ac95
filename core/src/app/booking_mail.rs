//! The e-mails a booking owes, from its row to the outbox. A booking made (the click day's hot
//! path) writes no outbox row: its row says it owes a confirmation, due now. The worker queues
//! due confirmations (and later reminders) many per transaction, and sets what each booking owes
//! next; a cancellation clears what is owed, a move sets the reminder's new time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::outbox::{Prepared, patiently};
use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::{BookingStatus, TenantConfig, TenantId};
use crate::mail::Topic;
use crate::store::{Advance, BookingMail, DueMail, Outbox, OwedMail, Tenants, WriteTx};

/// Bookings whose e-mails are queued in one transaction.
const BATCH: u64 = 100;
/// Batches one round queues at most, while they are full and queue few messages (bookings that
/// owed nothing any more, or were put off): enough to give the sends a batch of their own.
const ROUNDS: usize = 20;
/// How long a booking whose e-mail cannot be queued now (its row or its body's configuration
/// cannot be read) waits before it is tried again, out of the way of the others.
const PUT_OFF: TimeDelta = TimeDelta::minutes(15);

/// When a booking starting at `start` is reminded, at the tenant's offset before it; none when
/// that moment is not after `after` (a booking made for tomorrow needs no reminder).
pub(super) fn reminder_at(config: &TenantConfig, start: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let hours = config.mail.reminder_hours;
    let at = start - TimeDelta::hours(i64::from(hours));
    (hours > 0 && at > after).then_some(at)
}

/// What the worker does with a booking whose e-mail is due.
struct Step {
    tenant: TenantId,
    owed: OwedMail,
    advance: Advance,
    message: Option<Prepared>,
}

impl Sportello {
    /// Queues the e-mails bookings owe that are due now; how many were queued.
    pub async fn queue_owed_mail(&self) -> Result<usize, AppError> {
        if self.mail.is_none() {
            return Ok(0);
        }
        let mut queued = 0;
        for _ in 0..ROUNDS {
            let (read, written) = self.queue_batch().await?;
            queued += written;
            if read < BATCH as usize || queued >= BATCH as usize {
                break;
            }
        }
        Ok(queued)
    }

    /// One batch: how many bookings were read, how many messages queued.
    async fn queue_batch(&self) -> Result<(usize, usize), AppError> {
        let now = self.clock.now();
        let due = BookingMail::due(self.store.reader(), now, BATCH).await?;
        if due.is_empty() {
            return Ok((0, 0));
        }
        let read = due.len();
        // Composed (sender, recipient, Message-ID) before the write, which then only writes.
        let mut tenants: HashMap<TenantId, Result<Option<Arc<TenantSnapshot>>, ()>> = HashMap::new();
        let mut steps = Vec::with_capacity(due.len());
        for owed in due {
            let tenant = match tenants.get(&owed.tenant) {
                Some(known) => known.clone(),
                None => {
                    let found = self.snapshot_of(owed.tenant).await.map_err(|error| {
                        tracing::warn!(tenant = owed.tenant.get(), %error, "a body's e-mails are put off");
                    });
                    tenants.insert(owed.tenant, found.clone());
                    found
                }
            };
            steps.push(self.step(tenant, owed, now));
        }
        // One statement per body and kind of e-mail, then one insert.
        let mut groups: BTreeMap<(TenantId, OwedMail), Vec<Advance>> = BTreeMap::new();
        for step in &steps {
            groups.entry((step.tenant, step.owed)).or_default().push(step.advance);
        }
        let written = patiently(|| async {
            let tx = self.store.begin_write().await?;
            let mut advanced = HashSet::new();
            for ((tenant, owed), advances) in &groups {
                advanced.extend(BookingMail::advance(tx.conn(), *tenant, *owed, advances).await?);
            }
            // Only the first worker to see a booking queues its e-mail; one cancelled or moved
            // meanwhile is read again next time.
            let messages: Vec<_> = steps
                .iter()
                .filter(|step| advanced.contains(&step.advance.id))
                .flat_map(|step| step.message.iter().map(|m| m.to_write(step.advance.id, now)))
                .collect();
            Outbox::enqueue(tx.conn(), &messages).await?;
            tx.commit().await?;
            Ok(messages.len())
        })
        .await?;
        Ok((read, written))
    }

    /// The message a booking owes now and what it owes after it: nothing for a booking no longer
    /// confirmed, a reminder too late, or a body that was removed; put off when its row or its
    /// body's configuration cannot be read now.
    fn step(&self, tenant: Result<Option<Arc<TenantSnapshot>>, ()>, owed: DueMail, now: DateTime<Utc>) -> Step {
        let put_off = Some((owed.owed, now + PUT_OFF));
        let mut step = Step {
            tenant: owed.tenant,
            owed: owed.owed,
            advance: Advance { id: owed.id, revision: owed.revision, next: None },
            message: None,
        };
        let (tenant, booking) = match (tenant, &owed.booking) {
            (Ok(Some(tenant)), Ok(booking)) => (tenant, booking),
            (Ok(None), _) => return step,
            (Err(()), _) => {
                step.advance.next = put_off;
                return step;
            }
            (_, Err(error)) => {
                tracing::warn!(booking = owed.id, %error, "a booking's e-mail is put off");
                step.advance.next = put_off;
                return step;
            }
        };
        // A reminder queued late (the workers were down) is no use once the appointment began.
        let wanted =
            booking.status == BookingStatus::Confirmed && !(owed.owed == OwedMail::Reminder && booking.start <= now);
        if !wanted {
            return step;
        }
        let topic = match owed.owed {
            OwedMail::Confirmation => {
                // From its last change: a booking moved to tomorrow before this was queued needs no reminder.
                step.advance.next =
                    reminder_at(&tenant.config, booking.start, booking.updated_at).map(|at| (OwedMail::Reminder, at));
                Topic::Confirmation
            }
            OwedMail::Reminder => Topic::Reminder,
        };
        match self.prepare_mail((tenant.id, &tenant.config), booking, &topic) {
            Ok(message) => step.message = message,
            Err(error) => {
                tracing::warn!(booking = owed.id, %error, "a booking's e-mail is put off");
                step.advance.next = put_off;
            }
        }
        step
    }

    /// Within a move's transaction: the reminder follows the booking to `reminder`; `true` when
    /// the booking still owes its confirmation (which then says the new time: no "moved" e-mail).
    pub(super) async fn follow_move(
        &self,
        tx: &WriteTx,
        tenant: TenantId,
        booking: i32,
        reminder: Option<DateTime<Utc>>,
    ) -> Result<bool, AppError> {
        if self.mail.is_none() {
            return Ok(false);
        }
        Ok(BookingMail::follow_move(tx.conn(), tenant, booking, reminder).await?)
    }

    /// The tenant a stored id names, as this instance knows it; `None` if it was removed.
    async fn snapshot_of(&self, tenant: TenantId) -> Result<Option<Arc<TenantSnapshot>>, AppError> {
        let Some(slug) = Tenants::slug_of(self.store.reader(), tenant).await? else { return Ok(None) };
        match self.tenant_snapshot(&slug).await {
            Ok(snapshot) if snapshot.id == tenant => Ok(Some(snapshot)),
            Ok(_) | Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
