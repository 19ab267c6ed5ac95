//! The citizens' pages: the booking flow step by step (`choose`: the public bodies, services,
//! offices and modes; `calendar`: days and times, then the hold; `details`: the form, the review
//! and the confirmation) and the management of a booking (`manage`). Every step is a plain form
//! that works without JavaScript; a step reached without its earlier choices sends the citizen
//! back to where those are made. Each page's data is a typed view (`views`).

mod accessibility;
mod board;
mod calendar;
mod check;
mod choose;
mod details;
mod links;
mod manage;
mod month;
mod privacy;
mod push;
mod theme;
mod ticket;
mod views;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response};

pub(super) use accessibility::accessibility_page;
pub(super) use board::{board_events, board_page};
pub(super) use calendar::{calendar_step, hold_slot, release_slot};
pub(super) use check::{check_form, check_page};
pub(super) use choose::{choose_office, home_page, offices_step, services_page};
pub(super) use details::{confirm_step, details_step, receipt_page, review_page, review_step};
pub(super) use links::{cancel_by_link, cancel_link_page, linked_booking, linked_calendar};
pub(super) use manage::{
    cancel_booking, erase_personal_data, find_booking, manage_page, personal_data_download, reschedule_booking,
};
pub(super) use privacy::privacy_page;
pub(super) use push::QueueHub;
pub(super) use theme::{theme_css, theme_url};
pub(super) use ticket::{ticket_events, ticket_page};

use super::language::{link_base, negotiate};
use super::render::Frame;
use super::{Web, see_other, status_of, stop, with_retry_after};
use crate::app::{AppError, TenantSnapshot};
use crate::domain::booking::SummaryLine;
use crate::domain::{Locale, Mode};
use crate::outcome::Outcome;
use views::{ErrorView, Step, SummaryItem};

type WebData<'a> = Data<&'a Arc<Web>>;
/// A page, or the page that stopped the way to it (an error page, a redirect): handlers use `?`
/// on the steps that may stop them, and the page they stopped at is what the citizen gets.
type Page<T = Response> = Result<T, poem::Error>;
/// A submitted form, field by field.
type Fields = HashMap<String, String>;

/// Service, office and mode, date and time, details, review (and a check after the service, for
/// a service that checks answers first).
const STEPS: u32 = 5;

/// A tenant page's request: the tenant, and the language to answer in.
struct Visit {
    tenant: Arc<TenantSnapshot>,
    locale: Locale,
    remember: bool,
    path: String,
    /// The key of the client's limits (its address, or its IPv6 /64).
    client: Option<String>,
}

impl Visit {
    fn slug(&self) -> &str {
        self.tenant.config.slug.as_str()
    }

    fn home(&self) -> String {
        format!("/t/{}/", self.slug())
    }
}

impl Web {
    async fn visit(&self, request: &Request, slug: &str) -> Page<Visit> {
        match self.app.tenant(slug).await {
            Ok(tenant) => {
                let (locale, remember) = negotiate(request, &tenant.config.locales, tenant.config.default_locale());
                Ok(Visit { tenant, locale, remember, path: link_base(request), client: self.client(request) })
            }
            Err(AppError::NotFound(_)) => {
                Err(stop(self.bare_error(request, StatusCode::NOT_FOUND, "not-found-title", "tenant-not-found")))
            }
            Err(error) => Err(stop(self.bare_failure(request, &error))),
        }
    }

    fn frame<'a>(&self, visit: &'a Visit) -> Frame<'a> {
        Frame { locale: visit.locale, remember: visit.remember, tenant: Some(&visit.tenant), path: visit.path.clone() }
    }

    fn show(&self, visit: &Visit, template: &str, view: &impl serde::Serialize) -> Response {
        self.page(&self.frame(visit), template, StatusCode::OK, view)
    }

    /// A friendly error page for a tenant's visitor.
    fn error(
        &self,
        visit: &Visit,
        status: StatusCode,
        title: &'static str,
        body: &'static str,
        back: Option<String>,
    ) -> Response {
        let view = ErrorView { title_key: title, body_key: body, back, ..ErrorView::default() };
        self.page(&self.frame(visit), "error", status, &view)
    }

    /// The page for a use case's error, from the one mapping of errors to outcomes: its status,
    /// title and text, and `Retry-After` when the fault is ours and passing.
    fn failure(&self, visit: &Visit, error: &AppError, back: Option<String>) -> Response {
        let outcome = Outcome::of(error);
        let code = match error {
            AppError::HoldUsed(Some(code)) => Some(code.to_string()),
            _ => None,
        };
        let view = ErrorView {
            title_key: outcome.page_title,
            body_key: outcome.page_body,
            back,
            manage_url: code.as_ref().map(|_| format!("/t/{}/booking", visit.slug())),
            code,
            next: None,
        };
        with_retry_after(self.page(&self.frame(visit), "error", status_of(&outcome), &view), &outcome)
    }

    /// An error page without a tenant (unknown tenant, database down).
    fn bare_error(&self, request: &Request, status: StatusCode, title: &'static str, body: &'static str) -> Response {
        let (locale, remember) = negotiate(request, &Locale::ALL, Locale::It);
        let frame = Frame { locale, remember, tenant: None, path: link_base(request) };
        self.page(&frame, "error", status, &ErrorView { title_key: title, body_key: body, ..ErrorView::default() })
    }

    /// As `failure`, for a page whose tenant could not be read.
    fn bare_failure(&self, request: &Request, error: &AppError) -> Response {
        let outcome = Outcome::of(error);
        let response = self.bare_error(request, status_of(&outcome), outcome.page_title, outcome.page_body);
        with_retry_after(response, &outcome)
    }

    /// The error page for a request the router or the framework refused (unknown page, bad form,
    /// a request too large), in the visitor's language.
    pub(crate) fn status_page(&self, request: &Request, status: StatusCode) -> Response {
        let (title, body) = match status {
            StatusCode::NOT_FOUND => ("not-found-title", "not-found-body"),
            s if s.is_server_error() => ("unavailable-title", "unavailable-body"),
            _ => ("bad-request-title", "bad-request-body"),
        };
        self.bare_error(request, status, title, body)
    }

    fn client(&self, request: &Request) -> Option<String> {
        super::client_key(request, self.trust_forwarded_for)
    }

    fn month_label(&self, locale: Locale, month_start: NaiveDate) -> String {
        format!("{} {}", self.render.text(locale, &format!("month-{}", month_start.month()), &[]), month_start.year())
    }

    fn date(&self, locale: Locale, date: NaiveDate) -> String {
        let weekday = self.render.text(locale, &format!("weekday-{}", date.weekday().number_from_monday()), &[]);
        let month = self.render.text(locale, &format!("month-{}", date.month()), &[]);
        format!("{weekday} {} {month} {}", date.day(), date.year())
    }
}

/// A rule's summary in the page's language.
fn summary_lines(locale: Locale, summary: &[SummaryLine]) -> Vec<SummaryItem> {
    summary
        .iter()
        .map(|line| SummaryItem { label: line.label.get(locale).to_owned(), value: line.value.clone() })
        .collect()
}

/// Step `n` of the flow of `service`: after a check step, the later steps count one more.
fn step(n: u32, service: Option<&crate::domain::Service>) -> Step {
    let checks_first = service.is_some_and(|s| !s.check_first.is_empty());
    let (shown, total) = if checks_first { (if n >= 2 { n + 1 } else { n }, STEPS + 1) } else { (n, STEPS) };
    Step { n: shown, total, name_key: format!("step-name-{n}") }
}

/// The check step of a service that checks answers first.
fn the_check_step() -> Step {
    Step { n: 2, total: STEPS + 1, name_key: "step-name-check".to_owned() }
}

/// The only office and mode a service is offered in, when there is no choice to make: step 2 is
/// then skipped.
fn only_choice(config: &crate::domain::TenantConfig, service: &crate::domain::Service) -> Option<(String, Mode)> {
    let mut offices = config.offices_for(service);
    let office = offices.next()?;
    let modes = office.modes_for(service);
    match (offices.next(), modes.as_slice()) {
        (None, [mode]) => Some((office.slug.to_string(), *mode)),
        _ => None,
    }
}

fn mode_key(mode: Mode) -> String {
    format!("mode-{}", mode.code())
}

fn time(instant: DateTime<Utc>, tz: Tz) -> String {
    instant.with_timezone(&tz).format("%H:%M").to_string()
}
