//! The outbox's two ends. Every message to a citizen is written in the transaction of the change
//! that causes it (a booking moved, cancelled), or owed by the row that change wrote (a booking
//! made owes its confirmation and reminder: `booking_mail.rs` queues them), so it is never lost
//! and never sent for a change that rolled back. A message that says what changed (the previous
//! time, the reason) is composed with the change; a confirmation or a reminder, which need only
//! the booking, is composed when it goes, and so tells what is true then. Every `sportello serve`
//! runs a worker that claims due messages (one worker per message, however many instances run),
//! sends them, and retries with growing delays; a permanent refusal (SMTP 5xx) fails the message
//! at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use rand::Rng;

use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::{Booking, BookingStatus, TenantConfig, TenantId};
use crate::mail::{
    Composed, Composer, HTML_TEMPLATE, Links, MailTemplates, Mailer, OutgoingMail, SMTP_CONNECTIONS, SendError,
    TEXT_TEMPLATE, Topic,
};
use crate::store::{
    Backlog, BookingMail, Bookings, Lane, NewMessage, Outbox, Settled, Settlement, StoreError, StoredMessage, Tenants,
    WriteTx,
};

/// What the platform says about its e-mails: where its pages are (for the links) and who sends
/// when a tenant names no sender of its own.
pub struct MailSetup {
    pub composer: Composer,
    /// The public address of the pages, e.g. `https://prenota.example.it` (no trailing slash).
    pub public_url: String,
    /// `Name <address>` or an address; a tenant's display name goes before the address.
    pub sender_address: String,
    /// Domains the platform may send for (its relay is in their SPF and signs for them): a
    /// tenant's own sender address is used only in one of these, lower-case.
    pub sender_domains: Vec<String>,
}

impl MailSetup {
    /// The bare address e-mails of `config` come from: its own where the platform may send for its
    /// domain, else the platform's.
    pub fn sender_for<'a>(&'a self, config: &'a TenantConfig) -> &'a str {
        match &config.mail.sender_address {
            Some(own) if self.may_send_as(own.as_str()) => own.as_str(),
            _ => bare_address(&self.sender_address),
        }
    }

    pub fn may_send_as(&self, address: &str) -> bool {
        let domain = address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
        domain.is_some_and(|d| self.sender_domains.contains(&d))
    }
}

/// A message composed, waiting for the transaction of its change.
pub(super) struct Prepared {
    tenant: TenantId,
    topic: &'static str,
    message_id: String,
    sender: String,
    reply_to: Option<String>,
    recipient: String,
    /// `None` for a confirmation or a reminder: composed when it goes (`Sportello::compose_due`).
    composed: Option<Composed>,
}

impl Prepared {
    /// The outbox row of this message about booking `booking`, due at once (a reminder is queued
    /// at its time).
    pub(super) fn to_write(&self, booking: i32, now: DateTime<Utc>) -> NewMessage<'_> {
        let composed = self.composed.as_ref();
        NewMessage {
            tenant: self.tenant,
            booking: Some(booking),
            topic: self.topic,
            message_id: &self.message_id,
            sender: &self.sender,
            reply_to: self.reply_to.as_deref(),
            recipient: &self.recipient,
            subject: composed.map_or("", |c| c.subject.as_str()),
            text: composed.map_or("", |c| c.text.as_str()),
            html: composed.map_or("", |c| c.html.as_str()),
            attachment: composed.and_then(|c| c.attachment.as_deref()),
            webhook: None,
            due: now,
            now,
        }
    }
}

/// Delays before each retry; after the last, every hour until `MAX_ATTEMPTS`.
const BACKOFF_SECONDS: [i64; 5] = [10, 30, 60, 300, 900];
const HOURLY: i64 = 3600;
/// Two days of hourly retries after the first twenty minutes.
pub const MAX_ATTEMPTS: u32 = 53;
/// A claim lapses after this long: a worker that died leaves its messages to another.
const LEASE: TimeDelta = TimeDelta::minutes(2);
const BATCH: u32 = 50;
/// Messages sent at once by one worker, each on a connection of the SMTP pool.
const PARALLEL: usize = SMTP_CONNECTIONS as usize;
/// How long a lane waits for this instance's booking requests to pause: during a click day the
/// e-mails go a few seconds later instead of taking CPU and the writer from the bookings. Under
/// load that never pauses this long, the lane stops waiting until it has caught up: messages are
/// late by this much at most, never starved.
const STEP_ASIDE: Duration = Duration::from_secs(10);

/// When to try a message again after its `attempts`-th attempt failed: growing, with jitter so
/// that a backlog does not come back all at once.
pub fn retry_delay(attempts: u32, jitter: f64) -> TimeDelta {
    let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
    let base = BACKOFF_SECONDS.get(index).copied().unwrap_or(HOURLY);
    let spread = (base as f64 * 0.2 * jitter.clamp(-1.0, 1.0)) as i64;
    TimeDelta::seconds(base + spread)
}

impl Sportello {
    /// Composes the e-mail about `booking` for `topic` (with `config`'s names). Done before the
    /// transaction that writes it, which then only inserts a row; `None` without mail set up, or
    /// for a citizen without an e-mail address.
    pub(super) fn prepare_mail(
        &self,
        (tenant, config): (TenantId, &TenantConfig),
        booking: &Booking,
        topic: &Topic,
    ) -> Result<Option<Prepared>, AppError> {
        let Some(mail) = &self.mail else { return Ok(None) };
        let Some(recipient) = booking.details.citizen.email() else { return Ok(None) };
        let composed = match topic {
            Topic::Confirmation | Topic::Reminder => None,
            _ => Some(self.compose(mail, (tenant, config), booking, topic)?),
        };
        let name = config.mail.sender_name.as_deref().unwrap_or(&config.branding.display_name);
        Ok(Some(Prepared {
            tenant,
            topic: topic.code(),
            message_id: format!("<{}.{}@sportello>", uuid::Uuid::new_v4(), topic.code()),
            sender: sender(name, mail.sender_for(config)),
            reply_to: config.mail.reply_to.as_ref().map(|a| a.as_str().to_owned()),
            recipient: recipient.as_str().to_owned(),
            composed,
        }))
    }

    /// What an e-mail about `booking` says, with the body's own templates as this instance knows
    /// its configuration.
    fn compose(
        &self,
        mail: &MailSetup,
        (tenant, config): (TenantId, &TenantConfig),
        booking: &Booking,
        topic: &Topic,
    ) -> Result<Composed, AppError> {
        let base = format!("{}/t/{}", mail.public_url, config.slug);
        let (manage, cancel) = self.link_tokens(tenant, booking);
        let links = Links {
            manage: format!("{base}/b/{manage}"),
            cancel: cancel.map(|token| format!("{base}/cancel/{token}")),
            book_again: format!("{base}/"),
        };
        let address = mail.sender_for(config);
        // The body's own templates, as this instance knows its configuration.
        let snapshot = self.catalog.known(config.slug.as_str()).filter(|s| s.id == tenant);
        let own = snapshot.as_deref().map(|s| MailTemplates {
            tenant,
            version: s.version,
            html: s.templates.get(HTML_TEMPLATE).map(String::as_str),
            text: s.templates.get(TEXT_TEMPLATE).map(String::as_str),
        });
        mail.composer
            .compose(config, booking, topic, &links, address, own)
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// A confirmation or reminder composed as it goes, from the booking and the body's
    /// configuration as they are then (the office may have moved, the body changed its
    /// templates); `None` when the booking is no longer confirmed (cancelled before its
    /// confirmation went: the cancellation follows, and says all there is to say).
    async fn compose_due(&self, message: &StoredMessage) -> Result<Option<Composed>, SendError> {
        let topic = match message.topic.as_str() {
            "confirmation" => Topic::Confirmation,
            "reminder" => Topic::Reminder,
            other => return Err(SendError::Permanent(format!("a {other} message cannot be composed later"))),
        };
        let Some(mail) = &self.mail else {
            return Err(SendError::Transient("e-mail is not set up on this server".into()));
        };
        let reader = self.store.reader();
        let transient = |e: &dyn std::fmt::Display| SendError::Transient(e.to_string());
        let slug = Tenants::slug_of(reader, message.tenant).await.map_err(|e| transient(&e))?;
        let slug = slug.ok_or_else(|| SendError::Permanent("the body was removed".into()))?;
        let tenant = self.tenant_snapshot(&slug).await.map_err(|e| transient(&e))?;
        let booking = match message.booking {
            Some(id) => Bookings::by_id(reader, tenant.id, id).await.map_err(|e| transient(&e))?,
            None => None,
        };
        let booking = booking.ok_or_else(|| SendError::Permanent("the booking was removed".into()))?;
        if booking.status != BookingStatus::Confirmed {
            return Ok(None);
        }
        let composed = self.compose(mail, (tenant.id, &tenant.config), &booking, &topic).map_err(|e| transient(&e))?;
        Ok(Some(composed))
    }

    /// Writes prepared messages about booking `booking` into the outbox within `tx`.
    pub(super) async fn write_mail(&self, tx: &WriteTx, booking: i32, prepared: &[Prepared]) -> Result<(), AppError> {
        let messages: Vec<NewMessage<'_>> =
            prepared.iter().map(|message| message.to_write(booking, self.clock.now())).collect();
        Ok(Outbox::enqueue(tx.conn(), &messages).await?)
    }

    /// Stops a booking's reminder that has not gone yet (the booking was cancelled or moved).
    pub(super) async fn drop_reminder(
        &self,
        tx: &WriteTx,
        tenant: &TenantSnapshot,
        booking: i32,
    ) -> Result<(), AppError> {
        self.drop_reminder_of(tx, tenant.id, booking).await
    }

    pub(super) async fn drop_reminder_of(&self, tx: &WriteTx, tenant: TenantId, booking: i32) -> Result<(), AppError> {
        Outbox::skip_waiting(tx.conn(), tenant, booking, Topic::Reminder.code()).await?;
        Ok(())
    }

    /// The messages waiting to go, for `/readyz` and `/metrics`.
    pub async fn outbox_backlog(&self) -> Result<Backlog, AppError> {
        let (reader, now) = (self.store.reader(), self.clock.now());
        let mut backlog = Outbox::backlog(reader, now).await?;
        // Owed by bookings and not yet queued: due all the same.
        let (owed, oldest_owed) = BookingMail::backlog(reader, now).await?;
        backlog.waiting += owed;
        backlog.oldest = backlog.oldest.into_iter().chain(oldest_owed).min();
        Ok(backlog)
    }

    /// Claims and sends one batch of due messages of each lane; how many were claimed.
    pub async fn deliver_due(&self, mailer: &dyn Mailer) -> Result<usize, AppError> {
        let (mail, hooks) =
            tokio::join!(self.deliver_lane(Lane::Mail, mailer), self.deliver_lane(Lane::Webhooks, mailer));
        Ok(mail? + hooks?)
    }

    /// Claims and sends one batch of due messages of `lane`; how many were claimed.
    pub async fn deliver_lane(&self, lane: Lane, mailer: &dyn Mailer) -> Result<usize, AppError> {
        if lane == Lane::Mail
            && let Err(error) = self.queue_owed_mail().await
        {
            // What bookings owe stays on their rows for the next round; what is queued still goes.
            tracing::warn!(%error, "could not queue the e-mails bookings owe");
        }
        let now = self.clock.now();
        let claimed = patiently(|| async {
            let tx = self.store.begin_write().await?;
            let claimed = Outbox::claim(tx.conn(), lane, now, LEASE, BATCH).await?;
            tx.commit().await?;
            Ok(claimed)
        })
        .await?;
        let count = claimed.len();
        // A few sends at a time, their outcomes recorded as they come, all that came during the
        // previous write in one write (SQLite has one writer, which the bookings need more than
        // the worker does). Sending and recording run side by side: a send that holds a pooled
        // connection is never left waiting on a write that waits for that connection.
        let (outcomes, mut settled) = tokio::sync::mpsc::unbounded_channel();
        let send_all = async move {
            let mut sent = futures::stream::iter(claimed)
                .map(|message| async move {
                    let outcome = match message.webhook {
                        Some(hook) => self.send_webhook(&message, hook).await.map(|()| Delivered::Sent),
                        None => self.send_mail(&message, mailer).await,
                    };
                    settlement(&message, outcome, self.clock.now())
                })
                .buffer_unordered(PARALLEL);
            while let Some(settlement) = sent.next().await {
                // The receiver lives until every sender is gone.
                let _ = outcomes.send(settlement);
            }
        };
        let record_all = async {
            let mut pending = Vec::with_capacity(PARALLEL);
            while settled.recv_many(&mut pending, PARALLEL).await > 0 {
                self.record(&mut pending).await;
            }
        };
        tokio::join!(send_all, record_all);
        Ok(count)
    }

    /// Sends an e-mail as written, or as composed now when it was written to be composed when due.
    async fn send_mail(&self, message: &StoredMessage, mailer: &dyn Mailer) -> Result<Delivered, SendError> {
        if !message.composed_when_due() {
            let written =
                outgoing(message, &message.subject, &message.text, &message.html, message.attachment.as_deref());
            return mailer.send(&written).await.map(|()| Delivered::Sent);
        }
        let Some(c) = self.compose_due(message).await? else {
            return Ok(Delivered::NotNeeded("the booking is no longer confirmed"));
        };
        mailer.send(&outgoing(message, &c.subject, &c.text, &c.html, c.attachment.as_deref())).await?;
        Ok(Delivered::Sent)
    }

    /// Writes the outcomes in `pending` and empties it.
    async fn record(&self, pending: &mut Vec<Settlement>) {
        if pending.is_empty() {
            return;
        }
        let now = self.clock.now();
        let written = patiently(|| async {
            let tx = self.store.begin_write().await?;
            Outbox::settle_all(tx.conn(), pending, now).await?;
            tx.commit().await
        })
        .await;
        if let Err(error) = written {
            // Left in flight: their leases lapse and they are tried again (SMTP may then see them
            // twice, with the same Message-ID).
            tracing::warn!(messages = pending.len(), %error, "could not record deliveries");
        }
        pending.clear();
    }
}

/// How an attempt that did not fail ended.
enum Delivered {
    Sent,
    /// Nothing to send any more, for this reason.
    NotNeeded(&'static str),
}

/// What to record of one attempt: sent; not needed any more; refused for good (said in the log,
/// without the address); or to be tried again later, unless it has been tried too often.
fn settlement(message: &StoredMessage, outcome: Result<Delivered, SendError>, now: DateTime<Utc>) -> Settlement {
    let outcome = match outcome {
        Ok(Delivered::Sent) => Settled::Sent,
        Ok(Delivered::NotNeeded(reason)) => Settled::Skipped { reason: reason.to_owned() },
        Err(SendError::Permanent(reason)) => {
            tracing::warn!(message = message.id, topic = %message.topic, "a message was refused for good");
            Settled::Failed { error: reason }
        }
        Err(SendError::Transient(_)) if message.attempts >= MAX_ATTEMPTS => {
            Settled::Failed { error: "gave up after repeated temporary failures".to_owned() }
        }
        Err(SendError::Transient(reason)) => {
            let jitter = rand::rng().random_range(-1.0..=1.0);
            Settled::Retry { next: now + retry_delay(message.attempts, jitter), error: reason }
        }
    };
    Settlement { claim: message.claim(), outcome }
}

/// Runs a short write again while the database is busy (SQLite has one writer at a time; the
/// worker's writes must not be lost to a booking's).
pub(super) async fn patiently<T, F, Fut>(mut write: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 0u64;
    loop {
        match write().await {
            Err(e) if e.is_transient() && attempt < 50 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(2 + 3 * attempt)).await;
            }
            other => return other.map_err(AppError::from),
        }
    }
}

/// The tenant's name before the platform's sending address.
/// `noreply@ente.example` of `Prenotazioni <noreply@ente.example>`.
fn bare_address(address: &str) -> &str {
    address.rsplit_once('<').map_or(address, |(_, rest)| rest.trim_end_matches('>')).trim()
}

fn sender(display_name: &str, address: &str) -> String {
    let bare = bare_address(address);
    let name: String =
        display_name.chars().filter(|c| !matches!(c, '"' | '\\' | '<' | '>') && !c.is_control()).collect();
    format!("\"{name}\" <{bare}>")
}

fn outgoing<'a>(
    message: &'a StoredMessage,
    subject: &'a str,
    text: &'a str,
    html: &'a str,
    attachment: Option<&'a str>,
) -> OutgoingMail<'a> {
    OutgoingMail {
        message_id: &message.message_id,
        sender: &message.sender,
        reply_to: message.reply_to.as_deref(),
        recipient: &message.recipient,
        subject,
        text,
        html,
        attachment,
    }
}

/// The worker of one `sportello serve`: delivers due messages until `stop` says so, e-mails and
/// webhooks each in a loop of its own (a slow receiver never holds back the citizens' e-mails),
/// looking again every `poll` when there is nothing to do, and stepping aside while this
/// instance's booking requests keep it busy.
pub async fn run_worker(
    app: Sportello,
    mailer: Arc<dyn Mailer>,
    poll: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let lane = |lane: Lane| run_lane(app.clone(), mailer.clone(), lane, poll, stop.clone());
    tokio::join!(lane(Lane::Mail), lane(Lane::Webhooks));
}

async fn run_lane(
    app: Sportello,
    mailer: Arc<dyn Mailer>,
    lane: Lane,
    poll: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut catching_up = false;
    loop {
        if !catching_up {
            tokio::select! {
                paused = app.pressure.quiet(STEP_ASIDE) => catching_up = !paused,
                _ = stop.changed() => {}
            }
        }
        if *stop.borrow() {
            return;
        }
        let idle = match app.deliver_lane(lane, mailer.as_ref()).await {
            Ok(claimed) => claimed == 0,
            Err(error) => {
                // A busy or unreachable database: the messages wait in it, nothing is lost.
                tracing::warn!(%error, "the outbox could not be read");
                true
            }
        };
        if idle {
            catching_up = false;
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_grow_then_go_hourly_with_bounded_jitter() {
        let plain: Vec<i64> = (1..=7).map(|n| retry_delay(n, 0.0).num_seconds()).collect();
        assert_eq!(plain, [10, 30, 60, 300, 900, 3600, 3600]);
        assert_eq!(retry_delay(4, 1.0).num_seconds(), 360);
        assert_eq!(retry_delay(4, -1.0).num_seconds(), 240);
        assert_eq!(retry_delay(1, 7.0).num_seconds(), 12, "jitter is clamped");
    }

    #[test]
    fn the_sender_is_the_body_at_the_platform_address() {
        assert_eq!(
            sender("Comune di Prova", "noreply@sportello.example"),
            "\"Comune di Prova\" <noreply@sportello.example>"
        );
        assert_eq!(
            sender("A \"quoted\" <name>", "Sportello <noreply@x.example>"),
            "\"A quoted name\" <noreply@x.example>"
        );
    }
}
