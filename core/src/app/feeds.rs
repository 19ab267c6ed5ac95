//! An office's private calendar feed, read by its staff's calendar programs (Outlook, Teams,
//! Google) at a secret address: `/t/{tenant}/feeds/{office}/{token}.ics`. Made, replaced and
//! revoked by the tenant's admins (`staff/feeds.rs`).

use chrono::TimeDelta;

use super::staff::secrets::{digest, same, well_formed};
use super::{AppError, Sportello};
use crate::calendar::office_feed;
use crate::store::{Bookings, OfficeFeeds};

/// How far back a feed reaches: last month's appointments stay in the calendar.
const FEED_PAST: TimeDelta = TimeDelta::days(31);

impl Sportello {
    /// The feed of `office` if `token` is its secret; otherwise not found, whatever was wrong.
    pub async fn office_calendar(&self, slug: &str, office: &str, token: &str) -> Result<String, AppError> {
        let tenant = self.tenant(slug).await?;
        let place = tenant.config.office(office).ok_or(AppError::NotFound("feed"))?;
        let stored = OfficeFeeds::of_office(self.store.reader(), tenant.id, office).await?;
        // Compared as digests, without stopping at the first difference.
        let known = stored.is_some_and(|feed| well_formed(token) && same(&digest(token), &feed.token_digest));
        if !known {
            return Err(AppError::NotFound("feed"));
        }
        let now = self.clock.now();
        let horizon = tenant.config.services.iter().map(|s| s.horizon_days).max().unwrap_or(0);
        let until = now + TimeDelta::days(i64::from(horizon) + 1);
        let bookings =
            Bookings::of_office_between(self.store.reader(), tenant.id, office, (now - FEED_PAST, until)).await?;
        Ok(office_feed(&tenant.config, place, &bookings, now))
    }
}
