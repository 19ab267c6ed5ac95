//! A body's webhook subscriptions, managed by its admins: added with the events they receive
//! (and, a privacy decision that is audited, whether payloads carry the citizen's details),
//! their secret shown once and rotated with a day's overlap, removed, switched on again after a
//! receiver said 410 Gone. An API key may list and remove them, not make or re-key one: that
//! would send data somewhere new under no person's name.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use crate::app::{AppError, BookingEvent, ROTATION_OVERLAP, Sportello};
use crate::domain::Role;
use crate::store::{NewWebhook, Outbox, StoredWebhook, Webhooks};
use crate::webhooks::{Secret, Target};

/// What an admin asks for.
#[derive(Clone, Debug)]
pub struct NewWebhookRequest {
    pub url: String,
    /// Event codes, e.g. `booking.created`.
    pub events: Vec<String>,
    pub personal_data: bool,
}

/// A subscription with its secret, shown once (when made or rotated).
#[derive(Clone, Debug)]
pub struct WebhookKeyed {
    pub webhook: StoredWebhook,
    pub secret: String,
}

/// Subscriptions a tenant may have.
const MAX_WEBHOOKS: u64 = 10;

impl Sportello {
    pub async fn webhooks(&self, session: &StaffSession, slug: &str) -> Result<Vec<StoredWebhook>, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        Ok(Webhooks::list(self.store.reader(), tenant.id).await?)
    }

    pub async fn add_webhook(
        &self,
        session: &StaffSession,
        slug: &str,
        request: &NewWebhookRequest,
    ) -> Result<WebhookKeyed, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        session.require_person()?;
        let target = Target::parse(&request.url, self.webhook_policy())
            .map_err(|e| AppError::field("url", "invalid_webhook_url", e.to_string()))?;
        let mut events: Vec<&str> = Vec::new();
        for code in &request.events {
            let event = BookingEvent::parse(code).ok_or_else(|| {
                let known: Vec<&str> = BookingEvent::ALL.iter().map(|e| e.code()).collect();
                AppError::field("events", "unknown_event", format!("Choose among {}.", known.join(", ")))
            })?;
            if !events.contains(&event.code()) {
                events.push(event.code());
            }
        }
        if events.is_empty() {
            return Err(AppError::field("events", "no_events", "Choose at least one event."));
        }
        let secret = Secret::generate().expose();
        let new = NewWebhook {
            url: target.as_str(),
            events: &events,
            personal_data: request.personal_data,
            secret: &secret,
            now: self.clock.now(),
        };
        // Counted and added in one step: admins adding at once never pass the limit together.
        let tx = self.store.begin_write().await?;
        Webhooks::lock_tenant(tx.conn(), tenant.id).await?;
        if Webhooks::count(tx.conn(), tenant.id).await? >= MAX_WEBHOOKS {
            let reason = format!("A body may have {MAX_WEBHOOKS} webhooks: remove one first.");
            return Err(AppError::field("url", "too_many_webhooks", reason));
        }
        let webhook = Webhooks::create(tx.conn(), tenant.id, new).await?;
        tx.commit().await?;
        let detail = json!({
            "webhook": webhook.id, "url": webhook.url, "events": events, "personal_data": request.personal_data,
        });
        self.audit(Some(tenant.id), &Actor::of(session), "webhook.added", detail).await?;
        Ok(WebhookKeyed { webhook, secret })
    }

    pub async fn remove_webhook(&self, session: &StaffSession, slug: &str, id: i32) -> Result<(), AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let tx = self.store.begin_write().await?;
        if !Webhooks::delete(tx.conn(), tenant.id, id).await? {
            return Err(AppError::NotFound("webhook"));
        }
        // Its messages not yet sent are not needed any more (they are not failures).
        Outbox::skip_for_webhook(tx.conn(), tenant.id, id).await?;
        tx.commit().await?;
        self.audit(Some(tenant.id), &Actor::of(session), "webhook.removed", json!({ "webhook": id })).await?;
        Ok(())
    }

    /// A new secret; the previous one keeps signing beside it for a day, so the receiver can
    /// switch without losing a message.
    pub async fn rotate_webhook_secret(
        &self,
        session: &StaffSession,
        slug: &str,
        id: i32,
    ) -> Result<WebhookKeyed, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        session.require_person()?;
        let secret = Secret::generate().expose();
        let until = self.clock.now() + ROTATION_OVERLAP;
        if !Webhooks::rotate(self.store.reader(), tenant.id, id, &secret, until).await? {
            return Err(AppError::NotFound("webhook"));
        }
        self.audit(Some(tenant.id), &Actor::of(session), "webhook.secret_rotated", json!({ "webhook": id })).await?;
        let webhook = Webhooks::find(self.store.reader(), tenant.id, id).await?.ok_or(AppError::NotFound("webhook"))?;
        Ok(WebhookKeyed { webhook, secret })
    }

    /// Switches a subscription on again (after a 410 Gone, once the receiver is back).
    pub async fn enable_webhook(&self, session: &StaffSession, slug: &str, id: i32) -> Result<StoredWebhook, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        session.require_person()?;
        if !Webhooks::set_disabled(self.store.reader(), tenant.id, id, None).await? {
            return Err(AppError::NotFound("webhook"));
        }
        self.audit(Some(tenant.id), &Actor::of(session), "webhook.enabled", json!({ "webhook": id })).await?;
        Webhooks::find(self.store.reader(), tenant.id, id).await?.ok_or(AppError::NotFound("webhook"))
    }
}
