//! The outbox's two ends. Every message to a citizen is composed and written in the transaction
//! of the change that causes it (a booking made, moved, cancelled), so it is never lost and never
//! sent for a change that rolled back. Every `sportello serve` runs a worker that claims due
//! messages (one worker per message, however many instances run), sends them, and retries with
//! growing delays; a permanent refusal (SMTP 5xx) fails the message at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use rand::Rng;

use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::{Booking, TenantConfig, TenantId};
use crate::mail::{
    Composed, Composer, HTML_TEMPLATE, Links, MailTemplates, Mailer, OutgoingMail, SendError, TEXT_TEMPLATE, Topic,
};
use crate::store::{Backlog, Lane, NewMessage, Outbox, StoreError, StoredMessage, WriteTx};

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
    composed: Composed,
    due: DateTime<Utc>,
}

/// Delays before each retry; after the last, every hour until `MAX_ATTEMPTS`.
const BACKOFF_SECONDS: [i64; 5] = [10, 30, 60, 300, 900];
const HOURLY: i64 = 3600;
/// Two days of hourly retries after the first twenty minutes.
pub const MAX_ATTEMPTS: u32 = 53;
/// A claim lapses after this long: a worker that died leaves its messages to another.
const LEASE: TimeDelta = TimeDelta::minutes(2);
const BATCH: u32 = 50;
/// Messages sent at once by one worker, each on a connection of the SMTP pool (as many): lettre
/// writes a message's final dot on its own, so each message waits out the server's delayed
/// acknowledgement (about 40 ms) and throughput comes from connections in parallel.
const PARALLEL: usize = 16;

/// When to try a message again after its `attempts`-th attempt failed: growing, with jitter so
/// that a backlog does not come back all at once.
pub fn retry_delay(attempts: u32, jitter: f64) -> TimeDelta {
    let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
    let base = BACKOFF_SECONDS.get(index).copied().unwrap_or(HOURLY);
    let spread = (base as f64 * 0.2 * jitter.clamp(-1.0, 1.0)) as i64;
    TimeDelta::seconds(base + spread)
}

impl Sportello {
    /// Composes the e-mail about `booking` for `topic` (with `config`'s names), to go at `due`
    /// (now, or a reminder's time). Done before the transaction that writes it, which then only
    /// inserts a row; `None` without mail set up.
    pub(super) fn prepare_mail(
        &self,
        (tenant, config): (TenantId, &TenantConfig),
        booking: &Booking,
        topic: &Topic,
        due: DateTime<Utc>,
    ) -> Result<Option<Prepared>, AppError> {
        let Some(mail) = &self.mail else { return Ok(None) };
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
        let composed = mail
            .composer
            .compose(config, booking, topic, &links, address, own)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let name = config.mail.sender_name.as_deref().unwrap_or(&config.branding.display_name);
        Ok(Some(Prepared {
            tenant,
            topic: topic.code(),
            message_id: format!("<{}.{}@sportello>", uuid::Uuid::new_v4(), topic.code()),
            sender: sender(name, address),
            reply_to: config.mail.reply_to.as_ref().map(|a| a.as_str().to_owned()),
            recipient: booking.details.citizen.email().as_str().to_owned(),
            composed,
            due,
        }))
    }

    /// A new or moved booking's confirmation (or `topic`) and its reminder, at the tenant's offset
    /// before it (none when that time has passed: a booking made for tomorrow needs none).
    pub(super) fn prepare_with_reminder(
        &self,
        tenant: (TenantId, &TenantConfig),
        booking: &Booking,
        topic: &Topic,
    ) -> Result<Vec<Prepared>, AppError> {
        let now = self.clock.now();
        let mut prepared: Vec<Prepared> = self.prepare_mail(tenant, booking, topic, now)?.into_iter().collect();
        let hours = tenant.1.mail.reminder_hours;
        let at = booking.start - TimeDelta::hours(i64::from(hours));
        if hours > 0 && at > now {
            prepared.extend(self.prepare_mail(tenant, booking, &Topic::Reminder, at)?);
        }
        Ok(prepared)
    }

    /// Writes prepared messages about booking `booking` into the outbox within `tx`.
    pub(super) async fn write_mail(&self, tx: &WriteTx, booking: i32, prepared: &[Prepared]) -> Result<(), AppError> {
        let now = self.clock.now();
        for message in prepared {
            let new = NewMessage {
                tenant: message.tenant,
                booking: Some(booking),
                topic: message.topic,
                message_id: &message.message_id,
                sender: &message.sender,
                reply_to: message.reply_to.as_deref(),
                recipient: &message.recipient,
                subject: &message.composed.subject,
                text: &message.composed.text,
                html: &message.composed.html,
                attachment: message.composed.attachment.as_deref(),
                webhook: None,
                due: message.due,
                now,
            };
            Outbox::enqueue(tx.conn(), new).await?;
        }
        Ok(())
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
        Ok(Outbox::backlog(self.store.reader(), self.clock.now()).await?)
    }

    /// Claims and sends one batch of due messages of each lane; how many were claimed.
    pub async fn deliver_due(&self, mailer: &dyn Mailer) -> Result<usize, AppError> {
        let (mail, hooks) =
            tokio::join!(self.deliver_lane(Lane::Mail, mailer), self.deliver_lane(Lane::Webhooks, mailer));
        Ok(mail? + hooks?)
    }

    /// Claims and sends one batch of due messages of `lane`; how many were claimed.
    pub async fn deliver_lane(&self, lane: Lane, mailer: &dyn Mailer) -> Result<usize, AppError> {
        let now = self.clock.now();
        let claimed = patiently(|| async {
            let tx = self.store.begin_write().await?;
            let claimed = Outbox::claim(tx.conn(), lane, now, LEASE, BATCH).await?;
            tx.commit().await?;
            Ok(claimed)
        })
        .await?;
        let count = claimed.len();
        // A few sends at a time; each outcome recorded as soon as it is known, one write after
        // another (SQLite has one writer: concurrent records would only wait for each other).
        let mut sent = futures::stream::iter(claimed)
            .map(|message| async move {
                let outcome = match message.webhook {
                    Some(hook) => self.send_webhook(&message, hook).await,
                    None => mailer.send(&outgoing(&message)).await,
                };
                (message, outcome)
            })
            .buffer_unordered(PARALLEL);
        while let Some((message, outcome)) = sent.next().await {
            if let Err(error) = self.settle(&message, outcome).await {
                // Left in flight: its lease lapses and it is tried again (SMTP may then see it
                // twice, with the same Message-ID).
                tracing::warn!(message = message.id, %error, "could not record a delivery");
            }
        }
        Ok(count)
    }

    async fn settle(&self, message: &StoredMessage, outcome: Result<(), SendError>) -> Result<(), AppError> {
        let conn = self.store.reader();
        let now = self.clock.now();
        let jitter = rand::rng().random_range(-1.0..=1.0);
        patiently(|| async {
            match &outcome {
                Ok(()) => Outbox::mark_sent(conn, message.claim(), now).await,
                Err(SendError::Permanent(reason)) => Outbox::mark_failed(conn, message.claim(), reason).await,
                Err(SendError::Transient(_)) if message.attempts >= MAX_ATTEMPTS => {
                    Outbox::mark_failed(conn, message.claim(), "gave up after repeated temporary failures").await
                }
                Err(SendError::Transient(reason)) => {
                    let next = now + retry_delay(message.attempts, jitter);
                    Outbox::mark_retry(conn, message.claim(), next, reason).await
                }
            }
        })
        .await?;
        if let Err(SendError::Permanent(_)) = outcome {
            tracing::warn!(message = message.id, topic = %message.topic, "a message was refused for good");
        }
        Ok(())
    }
}

/// Runs a short write again while the database is busy (SQLite has one writer at a time; the
/// worker's writes must not be lost to a booking's).
async fn patiently<T, F, Fut>(mut write: F) -> Result<T, AppError>
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

fn outgoing(message: &StoredMessage) -> OutgoingMail<'_> {
    OutgoingMail {
        message_id: &message.message_id,
        sender: &message.sender,
        reply_to: message.reply_to.as_deref(),
        recipient: &message.recipient,
        subject: &message.subject,
        text: &message.text,
        html: &message.html,
        attachment: message.attachment.as_deref(),
    }
}

/// The worker of one `sportello serve`: delivers due messages until `stop` says so, e-mails and
/// webhooks each in a loop of its own (a slow receiver never holds back the citizens' e-mails),
/// looking again every `poll` when there is nothing to do.
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
    loop {
        let idle = match app.deliver_lane(lane, mailer.as_ref()).await {
            Ok(claimed) => claimed == 0,
            Err(error) => {
                // A busy or unreachable database: the messages wait in it, nothing is lost.
                tracing::warn!(%error, "the outbox could not be read");
                true
            }
        };
        if idle {
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
