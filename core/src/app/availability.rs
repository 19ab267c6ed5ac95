//! Free slots: the pure slot grid, minus confirmed bookings (one ledger query) and live holds.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::slots::{Slot, Unit};
use crate::domain::{Mode, OfferKey, Office, Service, SlotQuery};
use crate::store::Ledger;

/// The longest range one availability request may cover.
pub const MAX_RANGE_DAYS: u64 = 92;
/// The range given when a request names none.
const DEFAULT_RANGE_DAYS: u64 = 31;

pub struct AvailabilityRequest<'a> {
    pub offer: &'a OfferKey,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

pub struct Availability {
    pub timezone: Tz,
    /// The last bookable date, so that "no free slots" can say when the horizon ends.
    pub horizon_end: NaiveDate,
    pub days: Vec<AvailableDay>,
}

pub struct AvailableDay {
    pub date: NaiveDate,
    pub slots: Vec<AvailableSlot>,
}

pub struct AvailableSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub remaining: u32,
}

/// A service, office and mode that belong together, resolved from a request's slugs.
pub(super) struct Offer<'a> {
    pub service: &'a Service,
    pub office: &'a Office,
    pub mode: Mode,
}

impl<'a> Offer<'a> {
    pub(super) fn resolve(tenant: &'a TenantSnapshot, key: &OfferKey) -> Result<Self, AppError> {
        let config = &tenant.config;
        let service = config.service(key.service.as_str()).ok_or(AppError::NotFound("service"))?;
        if !service.active {
            return Err(AppError::ServiceInactive);
        }
        let office =
            config.office(key.office.as_str()).filter(|o| o.offers(service)).ok_or(AppError::NotFound("office"))?;
        let allowed = office.modes_for(service);
        let mode = Some(key.mode).filter(|m| allowed.contains(m)).ok_or_else(|| {
            let codes: Vec<&str> = allowed.iter().map(|m| m.code()).collect();
            AppError::field("mode", "mode_not_offered", format!("Choose one of: {}.", codes.join(", ")))
        })?;
        Ok(Self { service, office, mode })
    }

    /// The slots a citizen may book.
    pub(super) fn slots(&self, tenant: &TenantSnapshot, now: DateTime<Utc>) -> SlotQuery<'a> {
        self.slots_for(tenant, now, false)
    }

    /// The slots a citizen may book, or staff for them (`by_staff`: see `SlotQuery::by_staff`).
    pub(super) fn slots_for(&self, tenant: &TenantSnapshot, now: DateTime<Utc>, by_staff: bool) -> SlotQuery<'a> {
        let grid_minutes = tenant.config.grid_minutes;
        SlotQuery { service: self.service, office: self.office, grid_minutes, now, by_staff }
    }
}

impl Sportello {
    pub async fn availability(
        &self,
        tenant_slug: &str,
        request: AvailabilityRequest<'_>,
    ) -> Result<Availability, AppError> {
        let tenant = self.tenant(tenant_slug).await?;
        let offer = Offer::resolve(&tenant, request.offer)?;
        let now = self.clock.now();
        let query = offer.slots(&tenant, now);
        let from = request.from.unwrap_or_else(|| query.today());
        let to = match request.to {
            Some(to) => to,
            None => from.checked_add_days(Days::new(DEFAULT_RANGE_DAYS - 1)).unwrap_or(from),
        };
        if to < from {
            return Err(AppError::field("to", "before_from", "`to` must not be before `from`."));
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS as i64 {
            return Err(AppError::field(
                "to",
                "range_too_long",
                format!("Ask for at most {MAX_RANGE_DAYS} days at a time."),
            ));
        }
        let days = self.free_days(&tenant, &query, (from, to)).await?;
        Ok(Availability { timezone: offer.office.timezone, horizon_end: query.last_bookable_date(), days })
    }

    /// The slots of `query` in `from..=to` with a free place, by day.
    pub(super) async fn free_days(
        &self,
        tenant: &Arc<TenantSnapshot>,
        query: &SlotQuery<'_>,
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<Vec<AvailableDay>, AppError> {
        let slots = query.slots_between(from, to);
        let used = self.usage(tenant, query.office, &slots, query.now).await?;
        let grid = tenant.config.grid_minutes;
        let mut days: Vec<AvailableDay> = Vec::new();
        for slot in slots {
            let remaining = slot.remaining(grid, |u| used.get(&u).copied().unwrap_or(0));
            if remaining == 0 {
                continue;
            }
            let free = AvailableSlot { start: slot.start, end: slot.end, remaining };
            match days.last_mut() {
                Some(day) if day.date == slot.local_date => day.slots.push(free),
                _ => days.push(AvailableDay { date: slot.local_date, slots: vec![free] }),
            }
        }
        Ok(days)
    }

    /// Bookings plus live holds per unit over the span of `slots`: one ledger query, one hold query.
    pub(super) async fn usage(
        &self,
        tenant: &Arc<TenantSnapshot>,
        office: &Office,
        slots: &[Slot],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Unit, u32>, AppError> {
        let (Some(first), Some(last_end)) = (slots.first(), slots.iter().map(|s| s.end).max()) else {
            return Ok(HashMap::new());
        };
        let (from, to) = (first.start.timestamp(), last_end.timestamp());
        let mut used = Ledger::usage(self.store.reader(), tenant.id, office.slug.as_str(), from, to).await?;
        let grid = tenant.config.grid_minutes;
        let units: BTreeSet<Unit> = slots.iter().flat_map(|s| s.units(grid)).collect();
        let units: Vec<Unit> = units.into_iter().collect();
        let held = self.holds.live_counts(tenant.id, office.slug.as_str(), &units, now).await?;
        for (unit, count) in held {
            *used.entry(unit).or_default() += count;
        }
        Ok(used)
    }
}
