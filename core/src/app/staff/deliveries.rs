//! The delivery log: what the outbox sent to a body's citizens and webhooks, failed to send or
//! still holds, newest first (each look at it audited: it shows citizens' addresses); a failed
//! message can be sent again.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use crate::app::{AppError, Sportello};
use crate::domain::Role;
use crate::store::{Outbox, StoredMessage};

/// Messages on a page of the log.
pub const DELIVERY_PAGE: u64 = 50;

impl Sportello {
    /// One page of the log, before message `before` when given.
    pub async fn delivery_log(
        &self,
        session: &StaffSession,
        slug: &str,
        before: Option<i32>,
    ) -> Result<Vec<StoredMessage>, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let page = Outbox::list(self.store.reader(), tenant.id, before, DELIVERY_PAGE).await?;
        // The log shows citizens' addresses: who looked, and at which page, is recorded.
        let detail = json!({ "before": before, "messages": page.len() });
        self.audit(Some(tenant.id), &Actor::of(session), "deliveries.viewed", detail).await?;
        Ok(page)
    }

    /// Sends a failed message again at once (the SMTP server or receiver is back).
    pub async fn retry_delivery(&self, session: &StaffSession, slug: &str, id: i32) -> Result<(), AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        if !Outbox::retry_failed(self.store.reader(), tenant.id, id, self.clock.now()).await? {
            return Err(AppError::NotFound("failed message"));
        }
        self.audit(Some(tenant.id), &Actor::of(session), "delivery.retried", json!({ "message": id })).await?;
        Ok(())
    }
}
