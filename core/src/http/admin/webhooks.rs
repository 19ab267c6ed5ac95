//! A tenant's webhook subscriptions and its delivery log as resources of the admin API.

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use super::{AdminApi, AdminTag, ApiResult, Done, StaffToken};
use crate::app::{NewWebhookRequest, WebhookKeyed};
use crate::store::{StoredMessage, StoredWebhook};

pub struct WebhooksApi {
    pub admin: AdminApi,
}

/// A subscription to ask for.
#[derive(Object)]
pub struct WebhookRequest {
    /// Where to POST: an `https://` (or `http://`) address on the public internet.
    pub url: String,
    /// `booking.created`, `booking.rescheduled`, `booking.cancelled`.
    pub events: Vec<String>,
    /// Payloads carry the citizen's name, e-mail, phone and fiscal code (a privacy decision:
    /// the receiver becomes a recipient of personal data, listed in the record of processing).
    #[oai(default)]
    pub personal_data: bool,
}

#[derive(Object)]
pub struct WebhookView {
    pub id: i32,
    pub url: String,
    pub events: Vec<String>,
    pub personal_data: bool,
    /// Set when the receiver answered 410 Gone: nothing is sent until it is enabled again.
    pub disabled_at: Option<String>,
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs, beside the new one.
    pub previous_secret_until: Option<String>,
    pub created_at: String,
}

impl From<StoredWebhook> for WebhookView {
    fn from(w: StoredWebhook) -> Self {
        Self {
            id: w.id,
            url: w.url,
            events: w.events,
            personal_data: w.personal_data,
            disabled_at: w.disabled_at.map(|t| t.to_rfc3339()),
            disabled_reason: w.disabled_reason,
            previous_secret_until: w.previous_until.map(|t| t.to_rfc3339()),
            created_at: w.created_at.to_rfc3339(),
        }
    }
}

/// A subscription with its signing secret (`whsec_…`), shown this once.
#[derive(Object)]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    pub secret: String,
}

impl From<WebhookKeyed> for WebhookWithSecret {
    fn from(k: WebhookKeyed) -> Self {
        Self { webhook: k.webhook.into(), secret: k.secret }
    }
}

/// One message of the outbox: an e-mail to a citizen or a webhook (its content is not shown).
#[derive(Object)]
pub struct DeliveryView {
    pub id: i32,
    /// `email` or `webhook`.
    pub channel: String,
    /// `confirmation`, `reminder`, … for e-mails; the event for webhooks.
    pub topic: String,
    /// The citizen's address, or `webhook:<id>`.
    pub recipient: String,
    /// `queued`, `in_flight`, `sent`, `retrying`, `failed`, `skipped`.
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<StoredMessage> for DeliveryView {
    fn from(m: StoredMessage) -> Self {
        Self {
            id: m.id,
            channel: if m.webhook.is_some() { "webhook" } else { "email" }.to_owned(),
            topic: m.topic,
            recipient: m.recipient,
            state: m.state.code().to_owned(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at.to_rfc3339(),
            last_error: m.last_error,
            created_at: m.created_at.to_rfc3339(),
            sent_at: m.sent_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(ApiResponse)]
pub enum WebhookMade {
    #[oai(status = 201)]
    Created(Json<WebhookWithSecret>),
}

#[poem_openapi::OpenApi(prefix_path = "/admin")]
impl WebhooksApi {
    /// The tenant's webhook subscriptions (never their secrets).
    #[oai(path = "/t/:tenant/webhooks", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn webhooks(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Json<Vec<WebhookView>>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.webhooks(&session, &tenant).await?.into_iter().map(Into::into).collect()))
    }

    /// Subscribes an address to booking events. The answer carries the signing secret, once.
    /// Only a person signed in can add one, not an API key.
    #[oai(path = "/t/:tenant/webhooks", method = "post", tag = "AdminTag::TenantAdmin")]
    async fn add(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        body: Json<WebhookRequest>,
    ) -> ApiResult<WebhookMade> {
        let session = self.admin.session(&auth, request).await?;
        let new =
            NewWebhookRequest { url: body.url.clone(), events: body.events.clone(), personal_data: body.personal_data };
        Ok(WebhookMade::Created(Json(self.admin.app.add_webhook(&session, &tenant, &new).await?.into())))
    }

    /// Removes a subscription; its messages not yet sent are not sent.
    #[oai(path = "/t/:tenant/webhooks/:webhook", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn remove(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        webhook: Path<i32>,
    ) -> ApiResult<Done> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.remove_webhook(&session, &tenant, webhook.0).await?;
        Ok(Done::NoContent)
    }

    /// A new signing secret, shown once; the previous one keeps signing beside it for 24 hours.
    #[oai(path = "/t/:tenant/webhooks/:webhook/secret", method = "post", tag = "AdminTag::TenantAdmin")]
    async fn rotate(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        webhook: Path<i32>,
    ) -> ApiResult<Json<WebhookWithSecret>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.rotate_webhook_secret(&session, &tenant, webhook.0).await?.into()))
    }

    /// The delivery log: e-mails and webhooks, newest first, 50 at a time (`before` an id for
    /// the next page).
    #[oai(path = "/t/:tenant/deliveries", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn deliveries(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        before: Query<Option<i32>>,
    ) -> ApiResult<Json<Vec<DeliveryView>>> {
        let session = self.admin.session(&auth, request).await?;
        let log = self.admin.app.delivery_log(&session, &tenant, before.0).await?;
        Ok(Json(log.into_iter().map(Into::into).collect()))
    }

    /// Sends a failed message again now, with a fresh series of retries.
    #[oai(path = "/t/:tenant/deliveries/:message/retry", method = "post", tag = "AdminTag::TenantAdmin")]
    async fn retry(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        message: Path<i32>,
    ) -> ApiResult<Done> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.retry_delivery(&session, &tenant, message.0).await?;
        Ok(Done::NoContent)
    }

    /// Switches a subscription on again after its receiver answered 410 Gone.
    #[oai(path = "/t/:tenant/webhooks/:webhook/enable", method = "post", tag = "AdminTag::TenantAdmin")]
    async fn enable(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        webhook: Path<i32>,
    ) -> ApiResult<Json<WebhookView>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.enable_webhook(&session, &tenant, webhook.0).await?.into()))
    }
}
