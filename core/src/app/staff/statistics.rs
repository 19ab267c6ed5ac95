//! A body's statistics for its staff: per office and service over a period, counted by the
//! database (`store::Statistics`), added up by `domain::statistics`. Aggregates only (no citizen
//! appears in them), so viewing is not audited; an operator sees the offices assigned to them.

use std::sync::Arc;

use chrono::NaiveDate;

use super::StaffSession;
use crate::app::{AppError, Sportello, TenantSnapshot};
use crate::domain::statistics::{self, Period, PeriodError, Report};
use crate::domain::{BookingStatus, Office, Slug};
use crate::store::{Scope, Statistics};

/// The days shown when no period is chosen: the last four weeks and a bit, today included.
const DEFAULT_DAYS: u64 = 30;

/// What the statistics cover: one office or all the viewer's, one service or all, a period.
#[derive(Clone, Debug, Default)]
pub struct StatisticsQuery {
    pub office: Option<String>,
    pub service: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

pub struct StatisticsView {
    pub tenant: Arc<TenantSnapshot>,
    /// The offices the viewer may see, by slug and name.
    pub offices: Vec<(Slug, String)>,
    pub office: Option<Slug>,
    pub service: Option<Slug>,
    pub today: NaiveDate,
    pub report: Report,
}

/// One table of the statistics, as the pages offer it for download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticsTable {
    OverTime,
    Services,
    Channels,
    LeadTime,
    WaitingTime,
    ServiceTime,
}

impl StatisticsTable {
    pub const ALL: [Self; 6] =
        [Self::OverTime, Self::Services, Self::Channels, Self::LeadTime, Self::WaitingTime, Self::ServiceTime];

    pub fn code(self) -> &'static str {
        match self {
            Self::OverTime => "over-time",
            Self::Services => "services",
            Self::Channels => "channels",
            Self::LeadTime => "lead-time",
            Self::WaitingTime => "waiting-time",
            Self::ServiceTime => "service-time",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == raw)
    }
}

fn period_error(error: PeriodError) -> AppError {
    match error {
        PeriodError::Reversed => AppError::field("to", "before_from", "The last day must not be before the first."),
        PeriodError::TooLong => {
            AppError::field("to", "range_too_long", format!("Choose at most {} days.", statistics::MAX_PERIOD_DAYS))
        }
    }
}

impl Sportello {
    /// The statistics `query` asks for (anyone with a role in the tenant; operators their offices).
    pub async fn statistics(
        &self,
        session: &StaffSession,
        slug: &str,
        query: &StatisticsQuery,
    ) -> Result<StatisticsView, AppError> {
        let (tenant, offices) = self.desk_of(session, slug).await?;
        let chosen: Vec<&Office> = match query.office.as_deref() {
            Some(wanted) => {
                vec![offices.iter().find(|o| o.slug.as_str() == wanted).ok_or(AppError::NotFound("office"))?]
            }
            None => offices.iter().collect(),
        };
        let service = match query.service.as_deref() {
            Some(wanted) => Some(
                tenant
                    .config
                    .service(wanted)
                    .map(|s| s.slug.clone())
                    .ok_or_else(|| AppError::field("service", "unknown_service", "There is no such service."))?,
            ),
            None => None,
        };
        let zone = chosen.first().copied().or(offices.first()).map_or(chrono_tz::UTC, |o| o.timezone);
        let today = self.clock.now().with_timezone(&zone).date_naive();
        let period = match (query.from, query.to) {
            (None, None) => Period::ending(today, DEFAULT_DAYS),
            (from, to) => {
                let to = to.unwrap_or(today);
                let from = from.unwrap_or_else(|| Period::ending(to, DEFAULT_DAYS).from());
                Period::new(from, to).map_err(period_error)?
            }
        };
        let mut report = Report::new(period);
        for office in chosen.iter().copied() {
            self.count_office(&mut report, tenant.id, office, service.as_ref()).await?;
        }
        Ok(StatisticsView {
            offices: offices.iter().map(|o| (o.slug.clone(), o.name.clone())).collect(),
            office: query.office.as_deref().and_then(|_| chosen.first().map(|o| o.slug.clone())),
            service,
            today,
            report,
            tenant,
        })
    }

    /// Adds `office`'s counts for the report's period to it.
    async fn count_office(
        &self,
        report: &mut Report,
        tenant: crate::domain::TenantId,
        office: &Office,
        service: Option<&Slug>,
    ) -> Result<(), AppError> {
        let period = report.period();
        let tz = office.timezone;
        let span = (super::desk::local_midnight(period.from(), tz)?, super::desk::local_midnight(period.after(), tz)?);
        let scope = Scope { tenant, office: office.slug.as_str(), zone: tz, span, service: service.map(Slug::as_str) };
        let reader = self.store.reader();
        let (days, made, desk) = tokio::try_join!(
            Statistics::days(reader, &scope),
            Statistics::made(reader, &scope),
            Statistics::desk_times(reader, &scope),
        )?;
        for day in days {
            report.add_day(day.date, day.status, day.count, day.minutes);
        }
        for m in made {
            let bucket = statistics::LEAD_TIME.index_of(m.lead_days as f64 * 86_400.0);
            report.add_made((&m.service, m.channel, m.status), m.count, (bucket, m.lead_seconds));
        }
        for d in desk {
            if let Some(minutes) = d.waited_minutes {
                let bucket = statistics::WAITING_TIME.index_of(minutes as f64 * 60.0);
                report.waiting_time.add(bucket, d.waits, d.wait_seconds);
            }
            if let Some(minutes) = d.served_minutes {
                let bucket = statistics::SERVICE_TIME.index_of(minutes as f64 * 60.0);
                report.service_time.add(bucket, d.services, d.service_seconds);
            }
        }
        report.add_offered(office);
        Ok(())
    }

    /// One table of `view` as CSV (codes and numbers, for a spreadsheet).
    pub fn statistics_csv(&self, view: &StatisticsView, table: StatisticsTable) -> Result<super::Export, AppError> {
        let report = &view.report;
        let mut writer = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        let mut row = |cells: Vec<String>| writer.write_record(cells).map_err(failed);
        let text = |cells: &[&str]| cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        match table {
            StatisticsTable::OverTime => {
                row(text(&[
                    "from",
                    "made",
                    "cancelled",
                    "kept",
                    "completed",
                    "no_show",
                    "booked_minutes",
                    "offered_minutes",
                    "utilisation",
                ]))?;
                for (date, day) in report.over_time() {
                    let t = day.tally;
                    row(vec![
                        date.to_string(),
                        t.made().to_string(),
                        t.of(BookingStatus::Cancelled).to_string(),
                        t.kept().to_string(),
                        t.of(BookingStatus::Completed).to_string(),
                        t.of(BookingStatus::NoShow).to_string(),
                        t.kept_minutes().to_string(),
                        day.offered_minutes.to_string(),
                        day.utilisation().map(|u| format!("{u:.3}")).unwrap_or_default(),
                    ])?;
                }
            }
            StatisticsTable::Services => {
                row(text(&["service", "made", "cancelled", "kept", "completed", "no_show"]))?;
                for (service, t) in report.services() {
                    row(vec![
                        service.to_owned(),
                        t.made().to_string(),
                        t.of(BookingStatus::Cancelled).to_string(),
                        t.kept().to_string(),
                        t.of(BookingStatus::Completed).to_string(),
                        t.of(BookingStatus::NoShow).to_string(),
                    ])?;
                }
            }
            StatisticsTable::Channels => {
                row(text(&["channel", "made"]))?;
                for (channel, count) in report.channels() {
                    row(vec![channel.code().to_owned(), count.to_string()])?;
                }
            }
            StatisticsTable::LeadTime | StatisticsTable::WaitingTime | StatisticsTable::ServiceTime => {
                let histogram = match table {
                    StatisticsTable::LeadTime => &report.lead_time,
                    StatisticsTable::WaitingTime => &report.waiting_time,
                    _ => &report.service_time,
                };
                let unit = if histogram.buckets.in_days { "days" } else { "minutes" };
                row(vec![format!("from_{unit}"), format!("below_{unit}"), "count".to_owned()])?;
                for (index, count) in histogram.counts().iter().enumerate() {
                    let (lower, upper) = histogram.buckets.bounds(index);
                    row(vec![lower.to_string(), upper.map(|u| u.to_string()).unwrap_or_default(), count.to_string()])?;
                }
            }
        }
        let bytes = writer.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        let csv = String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        let period = report.period();
        let scope = view.office.as_ref().map_or("all-offices", Slug::as_str);
        let file_name =
            format!("{}-{scope}-{}-{}-{}.csv", view.tenant.config.slug, table.code(), period.from(), period.to());
        Ok(super::Export { file_name, csv })
    }
}
