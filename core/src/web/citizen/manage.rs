//! A booking after it is made: found by code and e-mail (sent in a POST body, never in a URL),
//! shown, cancelled or moved; the forms after the search carry its manage token, not the e-mail.

use chrono::{DateTime, NaiveDate, Utc};
use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::month::time_choices;
use super::views::{BookingView, ManageView, MoveReview, RescheduleView};
use super::{Page, Visit, WebData, mode_key, stop, summary_lines, time};
use crate::app::{AppError, BookingProof, HoldRequest, ProofBy};
use crate::domain::{Booking, Mode};
use crate::web::Web;

impl Web {
    /// A booking as the confirmation and management pages show it.
    pub(super) fn booking_view(&self, visit: &Visit, booking: &Booking) -> BookingView {
        let config = &visit.tenant.config;
        let tz = booking.timezone;
        let office = config.office(booking.office.as_str());
        let service = config
            .service(booking.service.as_str())
            .map_or(booking.service.to_string(), |s| s.name.get(visit.locale).to_owned());
        let token = self.app.manage_token(visit.tenant.id, booking);
        let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        let mode_label = self.render.text(visit.locale, &mode_key(booking.mode), &[]);
        let location = match (booking.mode, office) {
            (Mode::InPerson, Some(o)) => format!("{}, {}", o.name, o.address),
            _ => config
                .call_link(booking.office.as_str(), &booking.details.contact)
                .unwrap_or_else(|| mode_label.clone()),
        };
        let bring = config
            .service(booking.service.as_str())
            .and_then(|s| s.bring.as_ref())
            .map(|b| b.get(visit.locale).to_owned());
        // The calendar entry says what the citizen needs on the day: whose appointment, the code,
        // where or how, and what to bring.
        let title = format!("{service} – {}", config.branding.display_name);
        let code_line = format!("{} {}", self.render.text(visit.locale, "your-code", &[]), booking.code);
        let notes = [Some(code_line), Some(location.clone()), bring.clone()].into_iter().flatten().collect::<Vec<_>>();
        let google = serde_urlencoded::to_string([
            ("action", "TEMPLATE".to_owned()),
            ("text", title.clone()),
            ("dates", format!("{}/{}", stamp(booking.start), stamp(booking.end))),
            ("details", notes.join("\n")),
            ("location", location.clone()),
        ])
        .unwrap_or_default();
        let outlook = serde_urlencoded::to_string([
            ("subject", title),
            ("startdt", booking.start.to_rfc3339()),
            ("enddt", booking.end.to_rfc3339()),
            ("body", notes.join("\n")),
            ("location", location),
        ])
        .unwrap_or_default();
        let day = self.date(visit.locale, booking.start.with_timezone(&tz).date_naive());
        BookingView {
            code: booking.code.to_string(),
            anonymised: booking.anonymised_at.is_some(),
            status_key: format!("status-{}", booking.status.code().replace('_', "-")),
            confirmed: booking.status.is_changeable(),
            service_name: service,
            office_name: office.map(|o| o.name.clone()),
            address: office.map(|o| o.address.clone()),
            in_person: booking.mode == Mode::InPerson,
            mode_key: mode_key(booking.mode),
            mode_label,
            contact: booking.details.contact.as_str().map(str::to_owned),
            call_link: config.call_link(booking.office.as_str(), &booking.details.contact),
            rule_summary: summary_lines(visit.locale, &booking.summary),
            when: format!("{day} {}–{}", time(booking.start, tz), time(booking.end, tz)),
            ics_url: format!("/t/{}/b/{token}/calendar.ics", config.slug),
            linked_url: format!("/t/{}/b/{token}", config.slug),
            token,
            google_url: format!("https://calendar.google.com/calendar/render?{google}"),
            outlook_url: format!("https://outlook.live.com/calendar/0/deeplink/compose?{outlook}"),
            manage_url: format!("/t/{}/booking", config.slug),
            cancel_action: format!("/t/{}/booking/cancel", config.slug),
            reschedule_action: format!("/t/{}/booking/reschedule", config.slug),
            data_action: format!("/t/{}/booking/data", config.slug),
            erase_action: format!("/t/{}/booking/erase", config.slug),
            just_booked: false,
            just_moved: false,
            ask_cancel: false,
            ask_erase: false,
            just_erased: false,
            bring,
            mailed_to: None,
            qr_svg: None,
        }
    }

    /// The tenant page's visit and the booking its code and e-mail prove, or the page to show.
    async fn visit_booking(&self, request: &Request, tenant: &str, proof: &Proof) -> Page<(Visit, Booking)> {
        let visit = self.visit(request, tenant).await?;
        let booking = self.proven(&visit, proof).await?;
        Ok((visit, booking))
    }

    async fn proven(&self, visit: &Visit, proof: &Proof) -> Page<Booking> {
        match self.app.find_booking(visit.slug(), &proof.proof(visit)).await {
            Ok((_, booking)) => Ok(booking),
            Err(AppError::NotFound(_)) => {
                let view = ManageView {
                    action: format!("/t/{}/booking", visit.slug()),
                    code: proof.code.clone(),
                    email: proof.email.clone(),
                    error: Some("booking-not-found"),
                };
                Err(stop(self.page(&self.frame(visit), "manage", StatusCode::NOT_FOUND, &view)))
            }
            Err(error) => Err(stop(self.failure(visit, &error, None))),
        }
    }
}

/// Manage: ask for the code and e-mail.
#[handler]
pub async fn manage_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let view =
        ManageView { action: format!("/t/{tenant}/booking"), code: String::new(), email: String::new(), error: None };
    Ok(web.show(&visit, "manage", &view))
}

#[derive(Deserialize)]
pub struct Proof {
    #[serde(default)]
    code: String,
    /// Typed into the search form; the pages after it carry the manage `token` instead.
    #[serde(default)]
    email: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    confirmed: Option<String>,
    #[serde(default)]
    start: Option<String>,
    /// The move was reviewed: make it.
    #[serde(default, rename = "move")]
    make_move: Option<String>,
    /// Rescheduling: the month shown (`YYYY-MM`) and the day chosen (`YYYY-MM-DD`).
    #[serde(default)]
    month: Option<String>,
    #[serde(default)]
    day: Option<String>,
}

impl Proof {
    fn proof<'a>(&'a self, visit: &'a Visit) -> BookingProof<'a> {
        let by = if self.token.is_empty() { ProofBy::Email(&self.email) } else { ProofBy::Token(&self.token) };
        BookingProof { code: &self.code, by, client: visit.client.as_deref() }
    }
}

/// Manage: the booking, with cancel and reschedule.
#[handler]
pub async fn find_booking(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Page {
    let (visit, booking) = web.visit_booking(request, &tenant, &proof).await?;
    Ok(web.show(&visit, "booking", &web.booking_view(&visit, &booking)))
}

/// Cancel: first a question, then (with `confirmed`) the cancellation.
#[handler]
pub async fn cancel_booking(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Page {
    let (visit, booking) = web.visit_booking(request, &tenant, &proof).await?;
    if proof.confirmed.is_none() {
        let view = BookingView { ask_cancel: true, ..web.booking_view(&visit, &booking) };
        return Ok(web.show(&visit, "booking", &view));
    }
    Ok(match web.app.cancel(&tenant, &proof.proof(&visit)).await {
        Ok(cancelled) => web.show(&visit, "cancelled", &web.booking_view(&visit, &cancelled.booking)),
        Err(error) => web.failure(&visit, &error, None),
    })
}

/// My data: everything held about the booking, as a JSON file to keep (never cached).
#[handler]
pub async fn personal_data_download(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Page {
    // The forms carry the manage token: proving twice costs no e-mail try.
    let (visit, _) = web.visit_booking(request, &tenant, &proof).await?;
    let fail = |e: AppError| stop(web.failure(&visit, &e, None));
    let (name, json) =
        web.app.personal_data(&tenant, &proof.proof(&visit)).await.map_err(fail)?.file().map_err(fail)?;
    Ok(Response::builder()
        .content_type("application/json")
        .header("content-disposition", format!("attachment; filename=\"{name}\""))
        .header("cache-control", "no-store")
        .body(json))
}

/// Erase my data: first a question (saying the appointment is cancelled too, when it is still to
/// come), then (with `confirmed`) the erasure.
#[handler]
pub async fn erase_personal_data(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Page {
    let (visit, booking) = web.visit_booking(request, &tenant, &proof).await?;
    if proof.confirmed.is_none() {
        let view = BookingView { ask_erase: true, ..web.booking_view(&visit, &booking) };
        return Ok(web.show(&visit, "booking", &view));
    }
    Ok(match web.app.erase_personal_data(&tenant, &proof.proof(&visit)).await {
        Ok(erased) => {
            let view = BookingView { just_erased: true, ..web.booking_view(&visit, &erased.booking) };
            web.show(&visit, "booking", &view)
        }
        Err(error) => web.failure(&visit, &error, None),
    })
}

/// Reschedule: a month of days with free places for the same service, office and mode, then the
/// day's free times; then the move.
#[handler]
pub async fn reschedule_booking(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Page {
    let (visit, booking) = web.visit_booking(request, &tenant, &proof).await?;
    let mut error = None;
    let start = proof.start.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    if let (Some(start), None) = (start, &proof.make_move) {
        // A time chosen: say what changes, and move only when the citizen says so.
        let tz = booking.timezone;
        let start = start.with_timezone(&Utc);
        let day = web.date(visit.locale, start.with_timezone(&tz).date_naive());
        let view = MoveReview {
            booking: web.booking_view(&visit, &booking),
            new_when: format!("{day} {}", time(start, tz)),
            start: proof.start.clone().unwrap_or_default(),
        };
        return Ok(web.show(&visit, "move-review", &view));
    }
    if let Some(start) = start {
        let client = web.client(request);
        let offer = booking.offer();
        let asked = HoldRequest {
            offer: &offer,
            start: start.with_timezone(&Utc),
            id: None,
            token: None,
            client: client.as_deref(),
        };
        let moved = match web.app.place_hold(&tenant, asked).await {
            Ok(placed) => web.app.reschedule(&tenant, &proof.proof(&visit), placed.hold.id, &placed.token).await,
            Err(e) => Err(e),
        };
        match moved {
            Ok(moved) => {
                let view = BookingView { just_moved: true, ..web.booking_view(&visit, &moved.booking) };
                return Ok(web.show(&visit, "confirmed", &view));
            }
            Err(AppError::SlotTaken | AppError::HoldUnknown | AppError::Invalid(_)) => error = Some("slot-taken"),
            Err(AppError::TooManyHolds(_)) => error = Some("too-many-holds"),
            Err(AppError::RateLimited { .. }) => error = Some("rate-limited"),
            Err(other) => return Ok(web.failure(&visit, &other, None)),
        }
    } else if proof.start.is_some() || proof.confirmed.is_some() {
        error = Some("choose-time-error");
    }
    Ok(reschedule_page(&web, &visit, &tenant, &booking, &proof, error).await)
}

/// The same month view as step 3, driven by forms: the token that proves the booking travels
/// in POST bodies, never in a URL.
async fn reschedule_page(
    web: &Web,
    visit: &Visit,
    tenant: &str,
    booking: &Booking,
    proof: &Proof,
    error: Option<&'static str>,
) -> Response {
    let today = web.app.now().with_timezone(&booking.timezone).date_naive();
    let offer = booking.offer();
    let (month, availability) = match web.month_availability(tenant, &offer, today, proof.month.as_deref()).await {
        Ok(found) => found,
        Err(error) => return web.failure(visit, &error, Some(visit.home())),
    };
    let chosen_day = proof.day.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let view = RescheduleView {
        booking: web.booking_view(visit, booking),
        month: month.param(),
        month_label: web.month_label(visit.locale, month.start),
        previous: month.previous(),
        next: month.following(availability.horizon_end),
        horizon_end: web.date(visit.locale, availability.horizon_end),
        weekdays: web.weekday_names(visit.locale),
        weeks: web.month_grid(visit.locale, &month, &availability.days, chosen_day, |_| None),
        has_free_days: !availability.days.is_empty(),
        chosen_day: chosen_day.map(|d| web.date(visit.locale, d)),
        day: chosen_day.map(|d| d.to_string()),
        times: chosen_day
            .and_then(|day| availability.days.iter().find(|d| d.date == day))
            .map(|d| time_choices(d, availability.timezone))
            .unwrap_or_default(),
        error,
    };
    web.show(visit, "reschedule", &view)
}
