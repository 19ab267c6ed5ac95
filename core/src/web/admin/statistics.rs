//! The statistics page: a body's bookings over a period as charts people would rather look at
//! than read, each with its numbers as a table and as a CSV download, filtered by office and
//! service.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use poem::http::StatusCode;
use poem::web::{Path, Query};
use poem::{Request, handler};
use serde::{Deserialize, Serialize};

use super::charts::{self, Chart, Series};
use super::desk::Choice;
use super::{Page, StaffVisit, WebData, stop};
use crate::app::{AppError, StatisticsQuery, StatisticsTable, StatisticsView};
use crate::domain::statistics::{Histogram, Step};
use crate::domain::{BookingStatus, Locale};
use crate::web::Web;

#[derive(Deserialize, Default, Clone)]
pub struct StatisticsParams {
    office: Option<String>,
    service: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl StatisticsParams {
    /// The query, or the fields that could not be read as dates.
    fn query(&self) -> (StatisticsQuery, Vec<&'static str>) {
        let mut unreadable = Vec::new();
        let mut date = |raw: &Option<String>, field: &'static str| {
            let raw = raw.as_deref().map(str::trim).filter(|r| !r.is_empty())?;
            let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
            if parsed.is_none() {
                unreadable.push(field);
            }
            parsed
        };
        let from = date(&self.from, "from");
        let to = date(&self.to, "to");
        let chosen = |raw: &Option<String>| raw.clone().filter(|s| !s.is_empty());
        (StatisticsQuery { office: chosen(&self.office), service: chosen(&self.service), from, to }, unreadable)
    }

    /// The query string that asks for the same statistics.
    fn encoded(&self, view: &StatisticsView) -> String {
        let period = view.report.period();
        let mut pairs = vec![("from", period.from().to_string()), ("to", period.to().to_string())];
        if let Some(office) = &view.office {
            pairs.push(("office", office.to_string()));
        }
        if let Some(service) = &view.service {
            pairs.push(("service", service.to_string()));
        }
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
    }
}

/// A chart's numbers: a header row and rows whose first cell names the row.
#[derive(Serialize)]
struct DataTable {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct Figure {
    chart: Chart,
    table: DataTable,
    csv_url: String,
    /// A sentence under the title (an average, what the figure counts).
    note: Option<String>,
}

#[derive(Serialize)]
struct Tile {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct StatisticsPage {
    tenant_name: String,
    back: String,
    action: String,
    offices: Vec<Choice>,
    services: Vec<Choice>,
    from: String,
    to: String,
    max_date: String,
    errors: BTreeMap<String, String>,
    period_label: String,
    tiles: Vec<Tile>,
    figures: Vec<Figure>,
    services_table: DataTable,
    services_csv_url: String,
}

#[handler]
pub async fn statistics_page(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Query(params): Query<StatisticsParams>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    let fail = |e: AppError| stop(web.admin_failure(&visit, &e));
    let (query, unreadable) = params.query();
    let mut errors = BTreeMap::new();
    for field in unreadable {
        errors.insert(field.to_owned(), web.render.text(visit.locale, "admin-error-invalid-date", &[]));
    }
    let view = match web.app.statistics(&visit.session, &tenant, &query).await {
        Ok(view) => view,
        // A period that cannot be shown: say why, and show the default one.
        Err(AppError::Invalid(refused)) => {
            errors.extend(web.field_errors(visit.locale, &refused));
            let fallback = StatisticsQuery { from: None, to: None, ..query };
            web.app.statistics(&visit.session, &tenant, &fallback).await.map_err(fail)?
        }
        Err(e) => return Err(fail(e)),
    };
    let page = web.statistics_view(&visit, &tenant, &params, &view, errors);
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(web.staff_page(&visit, "admin-statistics", status, &page))
}

/// One table of the statistics as CSV.
#[handler]
pub async fn statistics_csv(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, table)): Path<(String, String)>,
    Query(params): Query<StatisticsParams>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    let fail = |e: AppError| stop(web.admin_failure(&visit, &e));
    let table = StatisticsTable::parse(&table).ok_or(AppError::NotFound("table")).map_err(fail)?;
    let (query, unreadable) = params.query();
    if let Some(field) = unreadable.first() {
        // Who may look is settled before what was asked is judged.
        web.app.tenant_overview(&visit.session, &tenant).await.map_err(fail)?;
        return Err(fail(AppError::field(field, "invalid_date", "Use a date such as 2026-12-01.")));
    }
    let view = web.app.statistics(&visit.session, &tenant, &query).await.map_err(fail)?;
    let export = web.app.statistics_csv(&view, table).map_err(fail)?;
    Ok(poem::Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header("Content-Disposition", format!("attachment; filename=\"{}\"", export.file_name))
        .header("Cache-Control", "no-store")
        .body(export.csv))
}

/// A share as a percentage with one decimal.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "–".to_owned() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

fn minutes(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "–".to_owned(), |s| format!("{:.0} min", s / 60.0))
}

impl Web {
    fn statistics_view(
        &self,
        visit: &StaffVisit,
        tenant: &str,
        params: &StatisticsParams,
        view: &StatisticsView,
        errors: BTreeMap<String, String>,
    ) -> StatisticsPage {
        let locale = visit.locale;
        let t = |key: &str| self.render.text(locale, key, &[]);
        let report = &view.report;
        let period = report.period();
        let total = report.total();
        let tally = total.tally;
        let query = params.encoded(view);
        let csv_url = |table: StatisticsTable| format!("/admin/t/{tenant}/statistics/{}?{query}", table.code());
        let config = &view.tenant.config;
        let service_name =
            |slug: &str| config.service(slug).map_or_else(|| slug.to_owned(), |s| s.name.get(locale).to_owned());

        // Bookings and utilisation over time.
        let step = period.step();
        let over_time = report.over_time();
        let categories: Vec<String> = over_time.iter().map(|(d, _)| self.short_date(locale, *d)).collect();
        let series = |class, key: &str, status: &dyn Fn(&crate::domain::statistics::Tally) -> u64| Series {
            class,
            label: t(key),
            values: over_time.iter().map(|(_, day)| status(&day.tally) as f64).collect(),
        };
        let stacked = [
            series("bar-completed", "admin-stats-completed", &|t| t.of(BookingStatus::Completed)),
            series("bar-open", "admin-stats-open", &|t| t.open()),
            series("bar-no-show", "admin-stats-no-show", &|t| t.of(BookingStatus::NoShow)),
            series("bar-cancelled", "admin-stats-cancelled", &|t| t.of(BookingStatus::Cancelled)),
        ];
        let count = |v: f64| format!("{v:.0}");
        let bookings_title = match step {
            Step::Day => t("admin-stats-bookings-per-day"),
            Step::Week => t("admin-stats-bookings-per-week"),
        };
        let mut headers = vec![t(if step == Step::Day { "admin-stats-day" } else { "admin-stats-week-from" })];
        headers.extend(stacked.iter().map(|s| s.label.clone()));
        let bookings_figure = Figure {
            chart: charts::columns("chart-bookings", bookings_title, &categories, &stacked, &count),
            table: DataTable {
                headers,
                rows: over_time
                    .iter()
                    .zip(&categories)
                    .map(|((_, day), label)| {
                        let tl = day.tally;
                        vec![
                            label.clone(),
                            tl.of(BookingStatus::Completed).to_string(),
                            tl.open().to_string(),
                            tl.of(BookingStatus::NoShow).to_string(),
                            tl.of(BookingStatus::Cancelled).to_string(),
                        ]
                    })
                    .collect(),
            },
            csv_url: csv_url(StatisticsTable::OverTime),
            note: None,
        };
        let used = Series {
            class: "bar-main",
            label: t("admin-stats-utilisation"),
            values: over_time.iter().map(|(_, day)| day.utilisation().unwrap_or(0.0) * 100.0).collect(),
        };
        let share = |v: f64| format!("{v:.0}%");
        let utilisation_figure = Figure {
            chart: charts::columns(
                "chart-utilisation",
                t("admin-stats-utilisation-title"),
                &categories,
                &[used],
                &share,
            ),
            table: DataTable {
                headers: vec![
                    t(if step == Step::Day { "admin-stats-day" } else { "admin-stats-week-from" }),
                    t("admin-stats-booked-hours"),
                    t("admin-stats-offered-hours"),
                    t("admin-stats-utilisation"),
                ],
                rows: over_time
                    .iter()
                    .zip(&categories)
                    .map(|((_, day), label)| {
                        vec![
                            label.clone(),
                            format!("{:.1}", day.tally.kept_minutes() as f64 / 60.0),
                            format!("{:.1}", day.offered_minutes as f64 / 60.0),
                            percent(day.tally.kept_minutes(), day.offered_minutes),
                        ]
                    })
                    .collect(),
            },
            csv_url: csv_url(StatisticsTable::OverTime),
            note: Some(t("admin-stats-utilisation-note")),
        };

        // Channels.
        let channels: Vec<(String, u64)> =
            report.channels().map(|(c, n)| (t(&format!("admin-channel-{}", c.code())), n)).collect();
        let channel_names: Vec<String> = channels.iter().map(|(name, _)| name.clone()).collect();
        let channel_series = Series {
            class: "bar-main",
            label: t("admin-stats-made"),
            values: channels.iter().map(|(_, n)| *n as f64).collect(),
        };
        let channel_figure = Figure {
            chart: charts::columns(
                "chart-channels",
                t("admin-stats-channels-title"),
                &channel_names,
                &[channel_series],
                &count,
            ),
            table: DataTable {
                headers: vec![t("admin-stats-channel"), t("admin-stats-made"), t("admin-stats-share")],
                rows: channels
                    .iter()
                    .map(|(name, n)| vec![name.clone(), n.to_string(), percent(*n, tally.made())])
                    .collect(),
            },
            csv_url: csv_url(StatisticsTable::Channels),
            note: None,
        };

        let figures = vec![
            bookings_figure,
            utilisation_figure,
            self.histogram_figure(
                locale,
                "chart-lead-time",
                "admin-stats-lead-title",
                &report.lead_time,
                csv_url(StatisticsTable::LeadTime),
            ),
            channel_figure,
            self.histogram_figure(
                locale,
                "chart-waiting",
                "admin-stats-waiting-title",
                &report.waiting_time,
                csv_url(StatisticsTable::WaitingTime),
            ),
            self.histogram_figure(
                locale,
                "chart-service",
                "admin-stats-service-title",
                &report.service_time,
                csv_url(StatisticsTable::ServiceTime),
            ),
        ];

        let tiles = vec![
            Tile { label: t("admin-stats-made"), value: tally.made().to_string() },
            Tile { label: t("admin-stats-utilisation"), value: percent(tally.kept_minutes(), total.offered_minutes) },
            Tile {
                label: t("admin-stats-cancelled"),
                value: percent(tally.of(BookingStatus::Cancelled), tally.made()),
            },
            Tile {
                label: t("admin-stats-no-show"),
                value: percent(
                    tally.of(BookingStatus::NoShow),
                    tally.of(BookingStatus::NoShow) + tally.of(BookingStatus::Completed),
                ),
            },
            Tile { label: t("admin-stats-average-wait"), value: minutes(report.waiting_time.average_seconds()) },
            Tile { label: t("admin-stats-average-service"), value: minutes(report.service_time.average_seconds()) },
        ];
        let choice = |value: &str, label: String, selected: bool| Choice { value: value.to_owned(), label, selected };
        StatisticsPage {
            tenant_name: config.name.clone(),
            back: format!("/admin/t/{tenant}/"),
            action: format!("/admin/t/{tenant}/statistics"),
            offices: view
                .offices
                .iter()
                .map(|(slug, name)| choice(slug.as_str(), name.clone(), view.office.as_ref() == Some(slug)))
                .collect(),
            services: config
                .services
                .iter()
                .map(|s| choice(s.slug.as_str(), s.name.get(locale).to_owned(), view.service.as_ref() == Some(&s.slug)))
                .collect(),
            from: period.from().to_string(),
            to: period.to().to_string(),
            max_date: view.today.to_string(),
            errors,
            period_label: format!(
                "{} – {}",
                self.staff_date(locale, period.from()),
                self.staff_date(locale, period.to())
            ),
            tiles,
            figures,
            services_table: DataTable {
                headers: vec![
                    t("admin-desk-service"),
                    t("admin-stats-made"),
                    t("admin-stats-completed"),
                    t("admin-stats-no-show"),
                    t("admin-stats-cancelled"),
                ],
                rows: report
                    .services()
                    .map(|(slug, tl)| {
                        vec![
                            service_name(slug),
                            tl.made().to_string(),
                            tl.of(BookingStatus::Completed).to_string(),
                            tl.of(BookingStatus::NoShow).to_string(),
                            tl.of(BookingStatus::Cancelled).to_string(),
                        ]
                    })
                    .collect(),
            },
            services_csv_url: csv_url(StatisticsTable::Services),
        }
    }

    fn histogram_figure(
        &self,
        locale: Locale,
        id: &str,
        title: &str,
        histogram: &Histogram,
        csv_url: String,
    ) -> Figure {
        let t = |key: &str, args: &[(&str, String)]| self.render.text(locale, key, args);
        let unit = if histogram.buckets.in_days { "days" } else { "minutes" };
        let labels: Vec<String> = (0..histogram.buckets.len())
            .map(|i| match histogram.buckets.bounds(i) {
                (lower, Some(upper)) => {
                    t(&format!("admin-stats-range-{unit}"), &[("from", lower.to_string()), ("to", upper.to_string())])
                }
                (lower, None) => t(&format!("admin-stats-at-least-{unit}"), &[("from", lower.to_string())]),
            })
            .collect();
        let series = Series {
            class: "bar-main",
            label: t("admin-stats-count", &[]),
            values: histogram.counts().iter().map(|n| *n as f64).collect(),
        };
        let count = |v: f64| format!("{v:.0}");
        let note = histogram.average_seconds().map(|seconds| match histogram.buckets.in_days {
            true => t("admin-stats-average-days", &[("days", format!("{:.1}", seconds / 86_400.0))]),
            false => t("admin-stats-average-minutes", &[("minutes", format!("{:.0}", seconds / 60.0))]),
        });
        Figure {
            chart: charts::columns(id, t(title, &[]), &labels, &[series], &count),
            table: DataTable {
                headers: vec![t(&format!("admin-stats-{unit}"), &[]), t("admin-stats-count", &[])],
                rows: labels
                    .iter()
                    .zip(histogram.counts())
                    .map(|(label, n)| vec![label.clone(), n.to_string()])
                    .collect(),
            },
            csv_url,
            note,
        }
    }

    /// A short date for an axis: "1 dic".
    fn short_date(&self, locale: Locale, date: NaiveDate) -> String {
        use chrono::Datelike;
        let month = self.render.text(locale, &format!("admin-month-short-{}", date.month()), &[]);
        format!("{} {month}", date.day())
    }
}
