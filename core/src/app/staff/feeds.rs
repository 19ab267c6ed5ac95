//! The calendar feeds of a body's offices, managed by its admins: an address made (shown once;
//! a new one replaces the old, which stops working), revoked, listed. Audited. An API key cannot
//! make one: it would open the office's agenda under no person's name.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use super::secrets::{digest, new_secret};
use crate::app::{AppError, Sportello};
use crate::domain::Role;
use crate::store::{OfficeFeeds, StoredFeed};

impl Sportello {
    pub async fn office_feeds(&self, session: &StaffSession, slug: &str) -> Result<Vec<StoredFeed>, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        Ok(OfficeFeeds::list(self.store.reader(), tenant.id).await?)
    }

    /// A new secret address for `office`'s feed (the path after the server's address).
    pub async fn make_office_feed(&self, session: &StaffSession, slug: &str, office: &str) -> Result<String, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        session.require_person()?;
        if tenant.config.office(office).is_none() {
            return Err(AppError::NotFound("office"));
        }
        let token = new_secret();
        let by = session.member.email.to_string();
        // In one transaction: a failed insert does not leave the office's feed revoked.
        let tx = self.store.begin_write().await?;
        OfficeFeeds::replace(tx.conn(), tenant.id, office, &digest(&token), &by, self.clock.now()).await?;
        tx.commit().await?;
        self.audit(Some(tenant.id), &Actor::of(session), "feed.made", json!({ "office": office })).await?;
        Ok(format!("/t/{slug}/feeds/{office}/{token}.ics"))
    }

    pub async fn revoke_office_feed(&self, session: &StaffSession, slug: &str, office: &str) -> Result<(), AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        if !OfficeFeeds::remove(self.store.reader(), tenant.id, office).await? {
            return Err(AppError::NotFound("feed"));
        }
        self.audit(Some(tenant.id), &Actor::of(session), "feed.revoked", json!({ "office": office })).await?;
        Ok(())
    }
}
