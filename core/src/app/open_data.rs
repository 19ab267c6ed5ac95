//! Open data a body may publish (off unless its settings switch it on): per office and service,
//! the next date with a free place and the average wait in days between booking and appointment.
//! Aggregates only, with no personal data; an average over fewer than `MIN_COUNTED` bookings is
//! left out, so that nobody's booking can be read off it. Worked out at most every few minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

use super::availability::Offer;
use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::{Mode, OfferKey, TenantId};
use crate::store::Statistics;

/// The days whose bookings make the average wait.
pub const OPEN_DATA_DAYS: i64 = 30;
/// Fewer bookings than this give no average.
pub const MIN_COUNTED: u64 = 5;
/// How long a worked-out table is served before it is worked out again.
const FRESH_FOR: TimeDelta = TimeDelta::minutes(5);
/// The calendar is searched for a free place this many days at a time.
const SEARCH_STEP_DAYS: u64 = 31;

#[derive(Clone, Debug, PartialEq)]
pub struct OpenAvailabilityRow {
    pub office: String,
    pub office_name: String,
    pub service: String,
    pub service_name: String,
    /// The first date with a free place within the service's horizon (office's calendar).
    pub next_free_date: Option<NaiveDate>,
    /// Days between booking and appointment, on average, over the bookings made in the last
    /// `OPEN_DATA_DAYS` days online, through the API or by phone (walk-ins do not wait).
    pub average_waiting_days: Option<f64>,
    pub bookings_counted: u64,
}

#[derive(Clone, Debug)]
pub struct OpenAvailability {
    pub tenant: String,
    pub generated_at: DateTime<Utc>,
    pub rows: Vec<OpenAvailabilityRow>,
}

/// Tables worked out lately, per tenant, with the configuration version they are of.
#[derive(Default)]
pub(super) struct OpenDataCache(Mutex<HashMap<TenantId, (i64, Arc<OpenAvailability>)>>);

impl OpenDataCache {
    fn fresh(&self, tenant: &TenantSnapshot, now: DateTime<Utc>) -> Option<Arc<OpenAvailability>> {
        let cached = self.0.lock().ok()?;
        let (version, table) = cached.get(&tenant.id)?;
        (*version == tenant.version && now - table.generated_at < FRESH_FOR).then(|| table.clone())
    }

    fn keep(&self, tenant: &TenantSnapshot, table: Arc<OpenAvailability>) {
        if let Ok(mut cached) = self.0.lock() {
            cached.insert(tenant.id, (tenant.version, table));
        }
    }
}

impl Sportello {
    /// The body's open data, or "not found" when it does not publish any.
    pub async fn open_availability(&self, slug: &str) -> Result<Arc<OpenAvailability>, AppError> {
        let tenant = self.tenant(slug).await?;
        if !tenant.config.publish_open_data {
            return Err(AppError::NotFound("open data"));
        }
        let now = self.clock.now();
        if let Some(table) = self.open_data.fresh(&tenant, now) {
            return Ok(table);
        }
        let since = now - TimeDelta::days(OPEN_DATA_DAYS);
        let waits = Statistics::recent_waits(self.store.reader(), tenant.id, since).await?;
        let mut rows = Vec::new();
        let locale = tenant.config.default_locale();
        for service in tenant.config.services.iter().filter(|s| s.active) {
            for office in tenant.config.offices_for(service) {
                let counted =
                    waits.iter().find(|w| w.office == office.slug.as_str() && w.service == service.slug.as_str());
                let (count, seconds) = counted.map_or((0, 0.0), |w| (w.count, w.seconds));
                let modes = office.modes_for(service);
                // Every mode uses the same desks and times: the first one tells.
                let mode = if modes.contains(&Mode::InPerson) { Some(Mode::InPerson) } else { modes.first().copied() };
                let next_free_date = match mode {
                    Some(mode) => {
                        let offer = OfferKey { service: service.slug.clone(), office: office.slug.clone(), mode };
                        self.next_free_date(&tenant, &offer, now).await?
                    }
                    None => None,
                };
                rows.push(OpenAvailabilityRow {
                    office: office.slug.to_string(),
                    office_name: office.name.clone(),
                    service: service.slug.to_string(),
                    service_name: service.name.get(locale).to_owned(),
                    next_free_date,
                    average_waiting_days: (count >= MIN_COUNTED)
                        .then(|| (seconds / count as f64 / 86_400.0 * 10.0).round() / 10.0),
                    bookings_counted: count,
                });
            }
        }
        let table = Arc::new(OpenAvailability { tenant: tenant.config.slug.to_string(), generated_at: now, rows });
        self.open_data.keep(&tenant, table.clone());
        Ok(table)
    }

    /// The first date of `offer` with a free place, searched a month at a time up to its horizon.
    async fn next_free_date(
        &self,
        tenant: &Arc<TenantSnapshot>,
        offer: &OfferKey,
        now: DateTime<Utc>,
    ) -> Result<Option<NaiveDate>, AppError> {
        let resolved = Offer::resolve(tenant, offer)?;
        let query = resolved.slots(tenant, now);
        let last = query.last_bookable_date();
        let mut from = query.today();
        while from <= last {
            let to = from.checked_add_days(Days::new(SEARCH_STEP_DAYS - 1)).unwrap_or(last).min(last);
            if let Some(day) = self.free_days(tenant, &query, (from, to)).await?.first() {
                return Ok(Some(day.date));
            }
            let Some(next) = to.succ_opt() else { break };
            from = next;
        }
        Ok(None)
    }

    /// The open data as CSV (a header row; the same fields as the JSON).
    pub fn open_availability_csv(table: &OpenAvailability) -> Result<String, AppError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        writer
            .write_record([
                "office",
                "office_name",
                "service",
                "service_name",
                "next_free_date",
                "average_waiting_days",
                "bookings_counted",
            ])
            .map_err(failed)?;
        for row in &table.rows {
            writer
                .write_record([
                    row.office.clone(),
                    row.office_name.clone(),
                    row.service.clone(),
                    row.service_name.clone(),
                    row.next_free_date.map(|d| d.to_string()).unwrap_or_default(),
                    row.average_waiting_days.map(|d| format!("{d:.1}")).unwrap_or_default(),
                    row.bookings_counted.to_string(),
                ])
                .map_err(failed)?;
        }
        let bytes = writer.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))
    }
}
