//! Booking events to a body's webhooks: each a row of the outbox written in the transaction of
//! the change (one per subscription to the event), delivered by the same worker as e-mails,
//! signed when sent (docs/notifications.md). Payloads are minimal — what happened to which
//! booking, when — unless a subscription was set up to receive the citizen's details.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::{AppError, Sportello};
use crate::domain::{Booking, TenantConfig, TenantId};
use crate::mail::SendError;
use crate::store::{NewMessage, Outbox, StoredMessage, StoredWebhook, Webhooks, WriteTx};
use crate::webhooks::{Delivery, Secret, TargetPolicy, signature_header};

/// What happened to a booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingEvent {
    Created,
    Rescheduled,
    Cancelled,
    /// At the desk: the citizen arrived, was served, or did not come.
    CheckedIn,
    Completed,
    NoShow,
}

impl BookingEvent {
    pub const ALL: [Self; 6] =
        [Self::Created, Self::Rescheduled, Self::Cancelled, Self::CheckedIn, Self::Completed, Self::NoShow];

    pub fn code(self) -> &'static str {
        match self {
            Self::Created => "booking.created",
            Self::Rescheduled => "booking.rescheduled",
            Self::Cancelled => "booking.cancelled",
            Self::CheckedIn => "booking.checked_in",
            Self::Completed => "booking.completed",
            Self::NoShow => "booking.no_show",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code.trim())
    }
}

/// An event's two payloads (without and with the citizen's details), composed before the
/// transaction that writes them.
pub(super) struct PreparedEvent {
    tenant: TenantId,
    event: BookingEvent,
    minimal: String,
    personal: String,
}

/// How long a rotated secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);

impl Sportello {
    pub(super) fn prepare_event(
        &self,
        (tenant, config): (TenantId, &TenantConfig),
        booking: &Booking,
        event: BookingEvent,
        previous_start: Option<DateTime<Utc>>,
    ) -> PreparedEvent {
        let tz = booking.timezone;
        let local = |at: DateTime<Utc>| at.with_timezone(&tz).to_rfc3339();
        let mut data = json!({
            "tenant": config.slug.as_str(),
            "code": booking.code.to_string(),
            "status": booking.status.code(),
            "service": booking.service.as_str(),
            "office": booking.office.as_str(),
            "mode": booking.mode.code(),
            "start": local(booking.start),
            "end": local(booking.end),
            "timezone": tz.name(),
        });
        if let (Some(previous), Value::Object(fields)) = (previous_start, &mut data) {
            fields.insert("previous_start".into(), local(previous).into());
        }
        let envelope = |data: Value| {
            json!({"type": event.code(), "timestamp": self.clock.now().to_rfc3339(), "data": data}).to_string()
        };
        let minimal = envelope(data.clone());
        let citizen = &booking.details.citizen;
        if let Value::Object(fields) = &mut data {
            fields.insert(
                "citizen".into(),
                json!({
                    "first_name": citizen.first_name(),
                    "last_name": citizen.last_name(),
                    "email": citizen.email().map(|e| e.as_str()),
                    "phone": citizen.phone().map(ToString::to_string).unwrap_or_default(),
                    "fiscal_code": citizen.fiscal_code().map(ToString::to_string),
                }),
            );
            fields.insert("contact".into(), booking.details.contact.as_str().into());
        }
        PreparedEvent { tenant, event, minimal, personal: envelope(data) }
    }

    /// One message per subscription to the event, in the change's transaction.
    pub(super) async fn write_event(&self, tx: &WriteTx, booking: i32, event: &PreparedEvent) -> Result<(), AppError> {
        let now = self.clock.now();
        let hooks = Webhooks::subscribed(tx.conn(), event.tenant, event.event.code()).await?;
        let names: Vec<(String, String)> = hooks
            .iter()
            .map(|hook| (format!("msg_{}", uuid::Uuid::new_v4().simple()), format!("webhook:{}", hook.id)))
            .collect();
        let mut messages = Vec::with_capacity(hooks.len());
        for (hook, (id, recipient)) in hooks.iter().zip(&names) {
            let payload = if hook.personal_data { &event.personal } else { &event.minimal };
            messages.push(NewMessage {
                tenant: event.tenant,
                booking: Some(booking),
                topic: event.event.code(),
                message_id: id,
                sender: "",
                reply_to: None,
                recipient,
                subject: event.event.code(),
                text: payload,
                html: "",
                attachment: None,
                webhook: Some(hook.id),
                due: now,
                now,
            });
        }
        Ok(Outbox::enqueue(tx.conn(), &messages).await?)
    }

    /// Sends one claimed webhook message to its subscription, signed now.
    pub(super) async fn send_webhook(&self, message: &StoredMessage, hook: i32) -> Result<(), SendError> {
        let Some(client) = &self.webhooks else {
            return Err(SendError::Transient("webhooks are not set up on this server".into()));
        };
        let found = Webhooks::find(self.store.reader(), message.tenant, hook).await;
        let hook = match found {
            Ok(Some(hook)) if hook.disabled_at.is_none() => hook,
            Ok(_) => return Err(SendError::Permanent("the subscription was removed or switched off".into())),
            Err(error) => return Err(SendError::Transient(error.to_string())),
        };
        let now = self.clock.now();
        let secrets = signing_secrets(&hook, now);
        let secrets: Vec<&Secret> = secrets.iter().collect();
        // The receiver judges the timestamp against its own clock (its window against replays):
        // it is the moment of sending on the wall clock, whatever the application's clock says.
        let sent_at = Utc::now().timestamp();
        let signature = signature_header(&secrets, &message.message_id, sent_at, &message.text);
        match client.post(&hook.url, &message.message_id, sent_at, &signature, message.text.clone()).await {
            Delivery::Delivered => Ok(()),
            Delivery::Retry(reason) => Err(SendError::Transient(reason)),
            Delivery::Failed(reason) => Err(SendError::Permanent(reason)),
            Delivery::Gone => {
                let why = "the receiver answered 410 Gone";
                let conn = self.store.reader();
                let switched_off = match Webhooks::set_disabled(conn, message.tenant, hook.id, Some((now, why))).await {
                    // Its other messages waiting are not needed any more (they are not failures).
                    Ok(_) => Outbox::skip_for_webhook(conn, message.tenant, hook.id).await.map(|_| ()),
                    Err(error) => Err(error),
                };
                if let Err(error) = switched_off {
                    tracing::warn!(webhook = hook.id, %error, "could not switch off a gone webhook");
                }
                Err(SendError::Permanent(format!("{why}: the subscription is switched off")))
            }
        }
    }

    /// Which targets webhooks may have on this server.
    pub(crate) fn webhook_policy(&self) -> TargetPolicy {
        self.webhooks.as_ref().map_or(TargetPolicy::PublicOnly, |c| c.policy())
    }
}

/// The current secret, and the previous one while it still signs.
fn signing_secrets(hook: &StoredWebhook, now: DateTime<Utc>) -> Vec<Secret> {
    let previous = match (&hook.previous_secret, hook.previous_until) {
        (Some(previous), Some(until)) if until > now => Some(previous.as_str()),
        _ => None,
    };
    std::iter::once(hook.secret.as_str()).chain(previous).filter_map(|s| Secret::parse(s).ok()).collect()
}
