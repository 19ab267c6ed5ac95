//! A booking in progress in the pages: what the citizen typed between the details form and the
//! review (so that both are GET pages), and the booking its hold became (so that the receipt has
//! a URL of its own). The browser's hold secret names both.

use chrono::TimeDelta;
use uuid::Uuid;

use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::booking::Booking;
use crate::holds::{Hold, HoldToken};
use crate::store::{Bookings, DraftFields, Drafts, HoldClaims};

/// How long a draft outlives its hold: as long as a confirmation may still renew the hold (the
/// browser keeps the hold's secret that long too).
pub const DRAFT_GRACE: TimeDelta = TimeDelta::hours(1);

impl Sportello {
    /// Keeps what the citizen typed for `hold`'s booking in progress.
    pub async fn keep_draft(
        &self,
        tenant: &TenantSnapshot,
        hold: &Hold,
        token: &HoldToken,
        fields: &DraftFields,
    ) -> Result<(), AppError> {
        self.keep_draft_until(tenant, token, fields, hold.expires_at + DRAFT_GRACE).await
    }

    /// Keeps what the citizen gave for the booking in progress that `token` names until
    /// `expires_at` (before any place is held: answers a service checks first).
    pub async fn keep_draft_until(
        &self,
        tenant: &TenantSnapshot,
        token: &HoldToken,
        fields: &DraftFields,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), AppError> {
        let tx = self.store.begin_write().await?;
        Drafts::save(tx.conn(), tenant.id, &token.digest(), fields, expires_at, self.clock.now()).await?;
        Ok(tx.commit().await?)
    }

    /// What the citizen typed for the booking in progress that `token` names, if anything.
    pub async fn draft(&self, tenant: &TenantSnapshot, token: &HoldToken) -> Result<Option<DraftFields>, AppError> {
        Ok(Drafts::find(self.store.reader(), tenant.id, &token.digest(), self.clock.now()).await?)
    }

    /// Forgets the draft: the booking was made, or the citizen gave the place up.
    pub async fn forget_draft(&self, tenant: &TenantSnapshot, token: &HoldToken) -> Result<(), AppError> {
        Ok(Drafts::delete(self.store.reader(), tenant.id, &token.digest()).await?)
    }

    /// The booking hold `id` became, if `token` proves the hold was the caller's.
    pub async fn booking_of_hold(
        &self,
        tenant: &TenantSnapshot,
        id: Uuid,
        token: &HoldToken,
    ) -> Result<Option<Booking>, AppError> {
        let Some(claim) = HoldClaims::find(self.store.reader(), tenant.id, id).await? else { return Ok(None) };
        if claim.owner != Some(token.digest()) {
            return Ok(None);
        }
        Ok(Bookings::by_id(self.store.reader(), tenant.id, claim.booking_id).await?)
    }
}
