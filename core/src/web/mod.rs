//! The citizens' pages: server-rendered HTML that works without JavaScript.
//!
//! Invariant: like `http/`, this module knows poem; it calls the same use cases as the API
//! and never builds its own view of capacity. Strings come from `i18n`, markup from templates
//! (`core/web/templates`, overridable per tenant in `tenants/<slug>/templates/`).

mod admin;
mod assets;
mod citizen;
mod client;
mod feeds;
mod hold_cookie;
mod language;
mod render;
pub(crate) mod staff_cookie;

use std::path::PathBuf;
use std::sync::Arc;

use poem::{Route, get, post};

use crate::app::Sportello;
pub use crate::i18n::TranslationError;
pub use admin::{Need, route_table as admin_route_table};
pub(crate) use client::{client_address, client_key};

/// Where the pages find what they need besides the application.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// Folder of built assets (`scripts/build-assets` writes it), with its `manifest.json`.
    pub assets_dir: PathBuf,
}

/// Shared by every page handler.
pub(crate) struct Web {
    app: Sportello,
    render: render::Renderer,
    assets: assets::Assets,
    /// How clients are identified (`HttpOptions::trust_forwarded_for`).
    trust_forwarded_for: bool,
    /// Staff cookies without `Secure` (`HttpOptions::plain_http`).
    plain_http: bool,
    /// The offices whose queue display boards and phones follow, one reader each.
    queues: citizen::QueueHub,
}

/// The routes of the citizens' pages, and the state their handlers expect as endpoint data.
pub(crate) fn routes(
    app: Sportello,
    options: WebOptions,
    trust_forwarded_for: bool,
    plain_http: bool,
) -> Result<(Route, Arc<Web>), TranslationError> {
    let assets = assets::Assets::load(&options.assets_dir);
    let queues = citizen::QueueHub::default();
    let web = Arc::new(Web { app, render: render::Renderer::new()?, assets, trust_forwarded_for, plain_http, queues });
    let route = Route::new()
        .at("/", get(citizen::home_page))
        .at("/static/:file", get(assets::serve))
        .at("/t/:tenant", get(citizen::services_page))
        .at("/t/:tenant/", get(citizen::services_page))
        .at("/t/:tenant/s/:service", get(citizen::offices_step))
        .at("/t/:tenant/s/:service/check", get(citizen::check_page).post(citizen::check_form))
        .at("/t/:tenant/s/:service/choose", get(citizen::choose_office))
        .at("/t/:tenant/s/:service/o/:office/m/:mode", get(citizen::calendar_step))
        .at("/t/:tenant/hold", post(citizen::hold_slot))
        .at("/t/:tenant/details/:hold", get(citizen::details_step).post(citizen::review_step))
        .at("/t/:tenant/review/:hold", get(citizen::review_page))
        .at("/t/:tenant/confirm/:hold", post(citizen::confirm_step))
        .at("/t/:tenant/booked/:hold", get(citizen::receipt_page))
        .at("/t/:tenant/release/:hold", post(citizen::release_slot))
        .at("/t/:tenant/booking", get(citizen::manage_page).post(citizen::find_booking))
        .at("/t/:tenant/booking/cancel", post(citizen::cancel_booking))
        .at("/t/:tenant/booking/reschedule", post(citizen::reschedule_booking))
        .at("/t/:tenant/booking/data", post(citizen::personal_data_download))
        .at("/t/:tenant/booking/erase", post(citizen::erase_personal_data))
        .at("/t/:tenant/privacy", get(citizen::privacy_page))
        .at("/t/:tenant/accessibility", get(citizen::accessibility_page))
        .at("/t/:tenant/theme.css", get(citizen::theme_css))
        .at("/t/:tenant/board/:office", get(citizen::board_page))
        .at("/t/:tenant/board/:office/events", get(citizen::board_events))
        .at("/t/:tenant/board/:office/ticket/:ticket", get(citizen::ticket_page))
        .at("/t/:tenant/board/:office/ticket/:ticket/events", get(citizen::ticket_events))
        .at("/t/:tenant/b/:token", get(citizen::linked_booking))
        .at("/t/:tenant/b/:token/calendar.ics", get(citizen::linked_calendar))
        .at("/t/:tenant/cancel/:token", get(citizen::cancel_link_page).post(citizen::cancel_by_link))
        .at("/t/:tenant/feeds/:office/:token", get(feeds::office_feed));
    Ok((admin::routes(route), web))
}

/// The status an outcome is answered with.
/// The citizen's details as a booking form sent them (the citizen's step 4, the desk's booking for
/// a citizen): its named fields, and the service's answers as `answers.<key>`; `locale` is the
/// caller's to say.
fn details_form<'a>(
    fields: impl Iterator<Item = (&'a String, &'a String)>,
    locale: Option<String>,
) -> crate::domain::DetailsForm {
    let mut form = crate::domain::DetailsForm { locale, ..Default::default() };
    for (name, value) in fields {
        let optional = || Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        match name.as_str() {
            "first_name" => form.first_name = value.clone(),
            "last_name" => form.last_name = value.clone(),
            "email" => form.email = value.clone(),
            "phone" => form.phone = value.clone(),
            "fiscal_code" => form.fiscal_code = optional(),
            "contact" => form.contact = optional(),
            "reason" => form.reason = optional(),
            "details" => form.details = optional(),
            "privacy_accepted" => form.privacy_accepted = true,
            other => {
                if let (Some(key), Some(answer)) = (other.strip_prefix("answers."), optional()) {
                    form.answers.insert(key.to_owned(), answer);
                }
            }
        }
    }
    form
}

fn status_of(outcome: &crate::outcome::Outcome) -> poem::http::StatusCode {
    poem::http::StatusCode::from_u16(outcome.status).unwrap_or(poem::http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// `response` with the outcome's `Retry-After`, when it has one.
fn with_retry_after(mut response: poem::Response, outcome: &crate::outcome::Outcome) -> poem::Response {
    if let Some(seconds) = outcome.retry_after {
        response.headers_mut().insert("Retry-After", seconds.into());
    }
    response
}

/// Ends a handler with `page`: handlers use `?` on the steps that may stop them.
fn stop(page: poem::Response) -> poem::Error {
    poem::Error::from_response(page)
}

/// The value of the cookie `name` the request carries.
fn cookie<'a>(request: &'a poem::Request, name: &str) -> Option<&'a str> {
    request.header("cookie").into_iter().flat_map(|c| c.split(';')).find_map(|c| {
        let (key, value) = c.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// A redirect after a form (303: the browser follows with GET).
fn see_other(location: &str) -> poem::Response {
    poem::Response::builder().status(poem::http::StatusCode::SEE_OTHER).header("Location", location).finish()
}
