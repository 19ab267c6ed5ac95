//! Retention (GDPR art. 5(1)(e)): a booking's personal data are kept for the body's retention
//! period after the appointment, then anonymised — what the statistics count stays. A pass runs
//! in batches, each a transaction of its own, and can be run again at any time: a booking is
//! anonymised once. `sportello serve` runs a pass when it starts and every hour.

use std::time::Duration;

use chrono::TimeDelta;

use super::{AppError, Sportello};
use crate::store::{Anonymised, Retention, Tenants, Waiting};

/// Bookings anonymised per transaction: short enough not to keep bookings waiting.
pub const RETENTION_BATCH: u64 = 500;

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionPass {
    pub bookings: u64,
    pub messages: u64,
    /// Forms of bookings never made, whose hold expired.
    pub drafts: u64,
}

impl Sportello {
    /// Anonymises, in every tenant (suspended ones too), the bookings that ended more than the
    /// tenant's retention period ago, `batch` at a time; logs the counts, never a booking.
    pub async fn apply_retention(&self, batch: u64) -> Result<RetentionPass, AppError> {
        let now = self.clock.now();
        let mut pass = RetentionPass::default();
        for slug in Tenants::all_slugs(self.store.reader()).await? {
            let tenant = self.tenant_snapshot(&slug).await?;
            let cutoff = now - TimeDelta::days(i64::from(tenant.config.retention_days));
            let mut done = Anonymised::default();
            loop {
                let tx = self.store.begin_write().await?;
                Retention::take_turn(tx.conn()).await?;
                let due = Retention::due(tx.conn(), tenant.id, cutoff, batch.max(1)).await?;
                let step = Retention::anonymise(tx.conn(), tenant.id, &due, Waiting::Skip, now).await?;
                tx.commit().await?;
                done.bookings += step.bookings;
                done.messages += step.messages;
                // A short batch was the last; one that changed nothing would only come back.
                if (due.len() as u64) < batch.max(1) || step.bookings == 0 {
                    break;
                }
            }
            let tx = self.store.begin_write().await?;
            done.messages += Retention::clear_settled(tx.conn(), tenant.id).await?;
            tx.commit().await?;
            if done != Anonymised::default() {
                tracing::info!(
                    tenant = %slug,
                    bookings = done.bookings,
                    messages = done.messages,
                    "personal data past the retention period anonymised"
                );
            }
            pass.bookings += done.bookings;
            pass.messages += done.messages;
        }
        let tx = self.store.begin_write().await?;
        pass.drafts = Retention::drop_expired_drafts(tx.conn(), now).await?;
        tx.commit().await?;
        Ok(pass)
    }
}

/// Runs a retention pass now and then every `every` until `stop` says so. A failed pass (the
/// database away) is logged and tried again at the next turn: nothing is lost by waiting.
pub async fn run_retention(app: Sportello, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(error) = app.apply_retention(RETENTION_BATCH).await {
            tracing::warn!(%error, "the retention pass failed; it runs again later");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
