//! The statistics in the admin API: the same figures as the statistics page, as JSON.

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{AdminApi, AdminTag, ApiResult, StaffToken};
use crate::app::{AppError, StatisticsQuery, StatisticsView};
use crate::domain::BookingStatus;
use crate::domain::statistics::{DayFigures, Histogram, Step};

pub struct StatisticsApi {
    pub admin: AdminApi,
}

/// Bookings counted by what became of them.
#[derive(Object)]
pub struct Counts {
    /// Every booking made, cancelled ones included.
    pub made: u64,
    pub cancelled: u64,
    /// Served at the counter or in the call.
    pub completed: u64,
    pub no_show: u64,
    /// Kept and not yet served nor missed (to come, waiting, at a desk).
    pub open: u64,
    /// Minutes of desk time the kept bookings take.
    pub booked_minutes: u64,
    /// Minutes of desk time the offices were open for (every desk), by the hours configured now.
    pub offered_minutes: u64,
    /// `booked_minutes / offered_minutes`; absent when nothing was offered.
    pub utilisation: Option<f64>,
}

impl From<DayFigures> for Counts {
    fn from(day: DayFigures) -> Self {
        let t = day.tally;
        Self {
            made: t.made(),
            cancelled: t.of(BookingStatus::Cancelled),
            completed: t.of(BookingStatus::Completed),
            no_show: t.of(BookingStatus::NoShow),
            open: t.open(),
            booked_minutes: t.kept_minutes(),
            offered_minutes: day.offered_minutes,
            utilisation: day.utilisation(),
        }
    }
}

#[derive(Object)]
pub struct PeriodCounts {
    /// The first day of the group (`YYYY-MM-DD`, the office's calendar).
    pub from: String,
    #[oai(flatten)]
    pub counts: Counts,
}

#[derive(Object)]
pub struct ServiceCounts {
    pub service: String,
    pub made: u64,
    pub cancelled: u64,
    pub completed: u64,
    pub no_show: u64,
}

#[derive(Object)]
pub struct ChannelCount {
    /// `web`, `api`, `counter` or `phone`.
    pub channel: String,
    pub made: u64,
}

#[derive(Object)]
pub struct Bucket {
    /// The bucket's lower bound, included, in the histogram's unit.
    pub from: i64,
    /// Its upper bound, excluded; absent for the last.
    pub below: Option<i64>,
    pub count: u64,
}

#[derive(Object)]
pub struct Distribution {
    /// `days` or `minutes`.
    pub unit: String,
    pub buckets: Vec<Bucket>,
    /// The average in the unit; absent when nothing was measured.
    pub average: Option<f64>,
}

impl From<&Histogram> for Distribution {
    fn from(h: &Histogram) -> Self {
        let (unit, seconds) = if h.buckets.in_days { ("days", 86_400.0) } else { ("minutes", 60.0) };
        Self {
            unit: unit.to_owned(),
            buckets: h
                .counts()
                .iter()
                .enumerate()
                .map(|(i, count)| {
                    let (from, below) = h.buckets.bounds(i);
                    Bucket { from, below, count: *count }
                })
                .collect(),
            average: h.average_seconds().map(|s| s / seconds),
        }
    }
}

#[derive(Object)]
pub struct StatisticsDocument {
    pub from: String,
    pub to: String,
    /// The office counted, absent for all the viewer's offices.
    pub office: Option<String>,
    pub service: Option<String>,
    /// `day` or `week` (Monday to Sunday): how `over_time` groups the days.
    pub step: String,
    pub total: Counts,
    pub over_time: Vec<PeriodCounts>,
    pub services: Vec<ServiceCounts>,
    pub channels: Vec<ChannelCount>,
    /// How long before the appointment it was booked (all bookings made).
    pub lead_time: Distribution,
    /// Check-in to the call at the counter.
    pub waiting_time: Distribution,
    /// The call to the end of the service.
    pub service_time: Distribution,
}

impl From<StatisticsView> for StatisticsDocument {
    fn from(view: StatisticsView) -> Self {
        let report = &view.report;
        let period = report.period();
        Self {
            from: period.from().to_string(),
            to: period.to().to_string(),
            office: view.office.as_ref().map(ToString::to_string),
            service: view.service.as_ref().map(ToString::to_string),
            step: match period.step() {
                Step::Day => "day",
                Step::Week => "week",
            }
            .to_owned(),
            total: report.total().into(),
            over_time: report
                .over_time()
                .into_iter()
                .map(|(from, day)| PeriodCounts { from: from.to_string(), counts: day.into() })
                .collect(),
            services: report
                .services()
                .map(|(service, t)| ServiceCounts {
                    service: service.to_owned(),
                    made: t.made(),
                    cancelled: t.of(BookingStatus::Cancelled),
                    completed: t.of(BookingStatus::Completed),
                    no_show: t.of(BookingStatus::NoShow),
                })
                .collect(),
            channels: report.channels().map(|(c, made)| ChannelCount { channel: c.code().to_owned(), made }).collect(),
            lead_time: (&report.lead_time).into(),
            waiting_time: (&report.waiting_time).into(),
            service_time: (&report.service_time).into(),
        }
    }
}

fn date(raw: Option<&str>, field: &'static str) -> Result<Option<chrono::NaiveDate>, AppError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::field(field, "invalid_date", "Use a date such as 2026-12-01.")),
    }
}

#[OpenApi(prefix_path = "/admin")]
impl StatisticsApi {
    /// Bookings of a period (at most 366 days; the last 30 by default) per day or week, per
    /// service and channel, with utilisation, lead time, waiting and service times: aggregates
    /// only. Operators see their own offices.
    #[oai(path = "/t/:tenant/statistics", method = "get", tag = "AdminTag::TenantStaff")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn statistics(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        /// One office's slug; all the viewer's offices by default.
        office: Query<Option<String>>,
        /// One service's slug; all by default.
        service: Query<Option<String>>,
        /// `YYYY-MM-DD`, the first day.
        from: Query<Option<String>>,
        /// `YYYY-MM-DD`, the last day; today by default.
        to: Query<Option<String>>,
    ) -> ApiResult<Json<StatisticsDocument>> {
        let session = self.admin.session(&auth, request).await?;
        // Who may look is settled before what was asked is judged.
        self.admin.app.tenant_overview(&session, &tenant).await?;
        let query = StatisticsQuery {
            office: office.0.filter(|o| !o.is_empty()),
            service: service.0.filter(|s| !s.is_empty()),
            from: date(from.0.as_deref(), "from")?,
            to: date(to.0.as_deref(), "to")?,
        };
        Ok(Json(self.admin.app.statistics(&session, &tenant, &query).await?.into()))
    }
}
