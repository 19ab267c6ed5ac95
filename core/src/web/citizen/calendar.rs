//! Step 3: a month of days with free places, the chosen day's times, and the hold of one time.

use chrono::{DateTime, NaiveDate, Utc};
use poem::http::StatusCode;
use poem::web::{Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::month::{MonthWindow, time_choices};
use super::views::{Alternative, CalendarView, NextFree};
use super::{Page, Visit, WebData, mode_key, see_other, step, time};
use crate::app::{AppError, AvailabilityRequest, HoldRequest};
use crate::domain::OfferKey;
use crate::holds::Hold;
use crate::web::{Web, hold_cookie};

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    month: Option<String>,
    day: Option<String>,
    error: Option<String>,
}

/// Step 3: a month of days with free slots, then the free times of the chosen day.
#[handler]
pub async fn calendar_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service, office, mode)): Path<(String, String, String, String)>,
    Query(query): Query<CalendarQuery>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    // A path that names no possible service, office or mode goes back to choosing them.
    let Ok(offer) = OfferKey::parse(&service, &office, &mode) else {
        return Ok(see_other(&format!("/t/{tenant}/s/{service}")));
    };
    let base = format!("/t/{tenant}/s/{service}/o/{office}/m/{mode}");
    let today = web.app.now().with_timezone(&visit.tenant.config.timezone).date_naive();
    let month = MonthWindow::new(today, query.month.as_deref());
    let range = AvailabilityRequest { offer: &offer, from: Some(month.from), to: Some(month.to) };
    let availability = match web.app.availability(&tenant, range).await {
        Ok(a) => a,
        Err(AppError::NotFound(_) | AppError::Invalid(_)) => return Ok(see_other(&format!("/t/{tenant}/s/{service}"))),
        Err(error) => return Ok(web.failure(&visit, &error, Some(visit.home()))),
    };
    let tz = availability.timezone;
    let chosen_day = query.day.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let month_param = month.param();
    let days = availability
        .days
        .iter()
        .map(|d| {
            let mut day = web.day_choice(visit.locale, d, chosen_day);
            day.url = Some(format!("{base}?month={month_param}&day={}", d.date));
            day
        })
        .collect();
    let times = chosen_day
        .and_then(|day| availability.days.iter().find(|d| d.date == day))
        .map(|d| time_choices(d, tz))
        .unwrap_or_default();
    let config = &visit.tenant.config;
    let next = month.following(availability.horizon_end).map(|m| format!("{base}?month={m}"));
    let alternative =
        if availability.days.is_empty() && next.is_none() { web.other_office(&visit, &offer).await } else { None };
    let view = CalendarView {
        step: step(3),
        service_name: config.service(&service).map(|s| s.name.get(visit.locale).to_owned()).unwrap_or_default(),
        office_name: config.office(&office).map(|o| o.name.clone()).unwrap_or_default(),
        mode_key: mode_key(offer.mode),
        month_label: web.month_label(visit.locale, month.start),
        days,
        previous: month.previous().map(|m| format!("{base}?month={m}")),
        next,
        horizon_end: web.date(visit.locale, availability.horizon_end),
        chosen_day: chosen_day.map(|d| web.date(visit.locale, d)),
        times,
        hold_action: format!("/t/{tenant}/hold"),
        back: format!("/t/{tenant}/s/{service}"),
        service,
        office,
        mode,
        error: query.error.as_deref().map(|e| match e {
            "taken" => "slot-taken",
            "limit" => "too-many-holds",
            "busy" => "rate-limited",
            _ => "choose-time-error",
        }),
        alternative,
    };
    Ok(web.show(&visit, "calendar", &view))
}

impl Web {
    /// The first free time of the hold's service, office and mode, as a ready-to-send hold form.
    pub(super) async fn next_free(&self, visit: &Visit, hold: &Hold) -> Option<NextFree> {
        let offer = hold.offer();
        let request = AvailabilityRequest { offer: &offer, from: None, to: None };
        let availability = self.app.availability(visit.slug(), request).await.ok()?;
        let tz = availability.timezone;
        let (day, slot) = availability.days.iter().find_map(|d| d.slots.first().map(|s| (d.date, s)))?;
        Some(NextFree {
            when: format!("{} {}", self.date(visit.locale, day), time(slot.start, tz)),
            action: format!("/t/{}/hold", visit.slug()),
            service: hold.service.to_string(),
            office: hold.office.to_string(),
            mode: hold.mode.code(),
            start: slot.start.with_timezone(&tz).to_rfc3339(),
        })
    }

    /// Another office offering the service in some mode with free slots soon, for a dead end.
    async fn other_office(&self, visit: &Visit, offer: &OfferKey) -> Option<Alternative> {
        let config = &visit.tenant.config;
        let wanted = config.service(offer.service.as_str())?;
        for other in config.offices_for(wanted).filter(|o| o.slug != offer.office) {
            let modes = other.modes_for(wanted);
            let try_mode = modes.iter().find(|m| **m == offer.mode).or(modes.first())?;
            let there = OfferKey { service: offer.service.clone(), office: other.slug.clone(), mode: *try_mode };
            let request = AvailabilityRequest { offer: &there, from: None, to: None };
            if let Ok(a) = self.app.availability(visit.slug(), request).await
                && !a.days.is_empty()
            {
                return Some(Alternative {
                    name: other.name.clone(),
                    url: format!("/t/{}/s/{}/o/{}/m/{}", config.slug, offer.service, other.slug, try_mode.code()),
                });
            }
        }
        None
    }
}

/// Every field defaults, so that a tampered form gets a page, not a framework error.
#[derive(Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    mode: String,
    start: Option<String>,
}

/// Step 3's form: keep the chosen time (its secret in a cookie), then ask for the details.
#[handler]
pub async fn hold_slot(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(form): Form<HoldForm>,
) -> Page {
    let back = format!("/t/{tenant}/s/{}/o/{}/m/{}", form.service, form.office, form.mode);
    let Some(start) = form.start.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return Ok(see_other(&format!("{back}?error=choose")));
    };
    let day = start.date_naive();
    let back_to_day = |error: &str| see_other(&format!("{back}?month={}&day={day}&error={error}", day.format("%Y-%m")));
    let Ok(offer) = OfferKey::parse(&form.service, &form.office, &form.mode) else {
        return Ok(see_other(&format!("/t/{tenant}/")));
    };
    let client = web.client(request);
    let asked = HoldRequest {
        offer: &offer,
        start: start.with_timezone(&Utc),
        id: None,
        token: None,
        client: client.as_deref(),
    };
    Ok(match web.app.place_hold(&tenant, asked).await {
        Ok(placed) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", format!("/t/{tenant}/details/{}", placed.hold.id))
            .header("Set-Cookie", hold_cookie::set(request, &placed, web.app.now()))
            .finish(),
        Err(AppError::SlotTaken | AppError::Invalid(_)) => back_to_day("taken"),
        Err(AppError::TooManyHolds(_)) => back_to_day("limit"),
        Err(AppError::RateLimited { .. }) => back_to_day("busy"),
        Err(AppError::NotFound(_) | AppError::ServiceInactive) => see_other(&format!("/t/{tenant}/")),
        Err(error) => web.failure(&web.visit(request, &tenant).await?, &error, None),
    })
}
