//! The e-mails a booking owes, from its row to the outbox. A booking made (the click day's hot
//! path) writes no outbox row: its row says it owes a confirmation, due now. The worker queues
//! due confirmations (and later reminders) many per transaction, and sets what each booking owes
//! next; a cancellation clears what is owed, a move sets the reminder's new time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::outbox::{Prepared, patiently};
use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::{Booking, BookingStatus, TenantConfig, TenantId};
use crate::mail::Topic;
use crate::store::{BookingMail, DueMail, NextMail, Outbox, OwedMail, Tenants, WriteTx};

/// Bookings whose e-mails are queued in one transaction.
const BATCH: u64 = 100;

/// When a booking starting at `start` is reminded, at the tenant's offset before it; none when
/// that moment is not after `after` (a booking made for tomorrow needs no reminder).
pub(super) fn reminder_at(config: &TenantConfig, start: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let hours = config.mail.reminder_hours;
    let at = start - TimeDelta::hours(i64::from(hours));
    (hours > 0 && at > after).then_some(at)
}

impl Sportello {
    /// Queues the e-mails bookings owe that are due now (a batch); how many were queued.
    pub async fn queue_owed_mail(&self) -> Result<usize, AppError> {
        if self.mail.is_none() {
            return Ok(0);
        }
        let now = self.clock.now();
        let due = BookingMail::due(self.store.reader(), now, BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        // Composed (sender, recipient, Message-ID) before the write, which then only writes.
        let mut tenants: HashMap<TenantId, Option<Arc<TenantSnapshot>>> = HashMap::new();
        let mut queued = Vec::with_capacity(due.len());
        for owed in due {
            let tenant = match tenants.get(&owed.tenant) {
                Some(known) => known.clone(),
                None => {
                    let found = self.snapshot_of(owed.tenant).await?;
                    tenants.insert(owed.tenant, found.clone());
                    found
                }
            };
            queued.push(self.prepare_owed(tenant.as_deref(), owed, now)?);
        }
        // One statement per body and kind of e-mail, then one insert.
        let mut groups: BTreeMap<(TenantId, OwedMail), Vec<(i32, NextMail)>> = BTreeMap::new();
        for (owed, next, _) in &queued {
            groups.entry((owed.tenant, owed.owed)).or_default().push((owed.booking.id, *next));
        }
        let written = patiently(|| async {
            let tx = self.store.begin_write().await?;
            let mut advanced = HashSet::new();
            for ((tenant, owed), next) in &groups {
                advanced.extend(BookingMail::advance(tx.conn(), *tenant, *owed, next).await?);
            }
            // Only the first worker to see a booking queues its e-mail; one cancelled meanwhile owes nothing.
            let messages: Vec<_> = queued
                .iter()
                .filter(|(owed, _, _)| advanced.contains(&owed.booking.id))
                .flat_map(|(owed, _, message)| message.iter().map(|m| m.to_write(owed.booking.id, now)))
                .collect();
            Outbox::enqueue(tx.conn(), &messages).await?;
            tx.commit().await?;
            Ok(messages.len())
        })
        .await?;
        Ok(written)
    }

    /// The message a booking owes now and what it owes after it: nothing for a booking no longer
    /// confirmed, a reminder too late, or a body this instance no longer knows (it is not asked
    /// again).
    fn prepare_owed(
        &self,
        tenant: Option<&TenantSnapshot>,
        owed: DueMail,
        now: DateTime<Utc>,
    ) -> Result<(DueMail, NextMail, Option<Prepared>), AppError> {
        let booking: &Booking = &owed.booking;
        // A reminder queued late (the workers were down) is no use once the appointment began.
        let wanted =
            booking.status == BookingStatus::Confirmed && !(owed.owed == OwedMail::Reminder && booking.start <= now);
        let Some(tenant) = tenant.filter(|_| wanted) else {
            return Ok((owed, None, None));
        };
        let (topic, next) = match owed.owed {
            OwedMail::Confirmation => (
                Topic::Confirmation,
                reminder_at(&tenant.config, booking.start, booking.created_at).map(|at| (OwedMail::Reminder, at)),
            ),
            OwedMail::Reminder => (Topic::Reminder, None),
        };
        let message = self.prepare_mail((tenant.id, &tenant.config), booking, &topic, now)?;
        Ok((owed, next, message))
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
