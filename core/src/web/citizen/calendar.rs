//! Step 3: a month of days with free places, the chosen day's times, and the hold of one time.

use chrono::{DateTime, NaiveDate, Utc};
use poem::http::StatusCode;
use poem::web::{Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use super::month::time_choices;
use super::views::{Alternative, CalendarView, NextFree};
use super::{Page, Visit, WebData, mode_key, see_other, step, stop, time};
use crate::app::{AppError, Availability, AvailabilityRequest, HoldRequest};
use crate::domain::{OfferKey, Office, Service};
use crate::holds::{Hold, HoldToken};
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
    let checked = web.require_checked(&visit, request, &service).await?;
    let base = format!("/t/{tenant}/s/{service}/o/{office}/m/{mode}");
    let today = web.app.now().with_timezone(&visit.tenant.config.timezone).date_naive();
    let (month, availability) = match web.month_availability(&tenant, &offer, today, query.month.as_deref()).await {
        Ok(found) => found,
        Err(AppError::NotFound(_) | AppError::Invalid(_)) => return Ok(see_other(&format!("/t/{tenant}/s/{service}"))),
        Err(error) => return Ok(web.failure(&visit, &error, Some(visit.home()))),
    };
    let tz = availability.timezone;
    let chosen_day = query.day.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let month_param = month.param();
    let weeks = web.month_grid(visit.locale, &month, &availability.days, chosen_day, |date| {
        Some(format!("{base}?month={month_param}&day={date}#times"))
    });
    let times = chosen_day
        .and_then(|day| availability.days.iter().find(|d| d.date == day))
        .map(|d| time_choices(d, tz))
        .unwrap_or_default();
    let config = &visit.tenant.config;
    let next = month.following(availability.horizon_end).map(|m| format!("{base}?month={m}"));
    let alternative =
        if availability.days.is_empty() && next.is_none() { web.other_office(&visit, &offer).await } else { None };
    // Opening the step (no month or day chosen yet): the first free time, one tap away.
    let first_free = match (&query.month, chosen_day) {
        (None, None) => web.first_free(&visit, &offer, &availability),
        _ => None,
    };
    let view = CalendarView {
        step: step(3, config.service(&service)),
        checked,
        service_name: config.service(&service).map(|s| s.name.get(visit.locale).to_owned()).unwrap_or_default(),
        office_name: config.office(&office).map(|o| o.name.clone()).unwrap_or_default(),
        mode_key: mode_key(offer.mode),
        month_label: web.month_label(visit.locale, month.start),
        weekdays: web.weekday_names(visit.locale),
        has_free_days: !availability.days.is_empty(),
        weeks,
        first_free,
        previous: month.previous().map(|m| format!("{base}?month={m}")),
        next,
        horizon_end: web.date(visit.locale, availability.horizon_end),
        chosen_day: chosen_day.map(|d| web.date(visit.locale, d)),
        times,
        hold_action: format!("/t/{tenant}/hold"),
        // Back past a step that was skipped (one office, one mode) is the services' list.
        back: match config.service(&service).and_then(|s| super::only_choice(config, s)) {
            Some(_) => visit.home(),
            None => format!("/t/{tenant}/s/{service}"),
        },
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
        self.first_free(visit, &offer, &availability)
    }

    /// The first free time in `availability`, as a ready-to-send hold form.
    fn first_free(&self, visit: &Visit, offer: &OfferKey, availability: &Availability) -> Option<NextFree> {
        let tz = availability.timezone;
        let (day, slot) = availability.days.iter().find_map(|d| d.slots.first().map(|s| (d.date, s)))?;
        Some(NextFree {
            when: format!("{} {}", self.date(visit.locale, day), time(slot.start, tz)),
            action: format!("/t/{}/hold", visit.slug()),
            service: offer.service.to_string(),
            office: offer.office.to_string(),
            mode: offer.mode.code(),
            start: slot.start.with_timezone(&tz).to_rfc3339(),
        })
    }

    /// The first free time of `service` at any office in any mode (within the next month), with
    /// the office and mode it is at, as a ready-to-send hold form.
    pub(super) async fn first_free_anywhere(&self, visit: &Visit, service: &Service) -> Option<(NextFree, String)> {
        let config = &visit.tenant.config;
        let offers: Vec<(&Office, OfferKey)> = config
            .offices_for(service)
            .flat_map(|o| {
                o.modes_for(service)
                    .into_iter()
                    .map(move |mode| (o, OfferKey { service: service.slug.clone(), office: o.slug.clone(), mode }))
            })
            .collect();
        let found = futures::future::join_all(offers.iter().map(|(_, offer)| async move {
            let request = AvailabilityRequest { offer, from: None, to: None };
            self.app.availability(visit.slug(), request).await.ok()
        }))
        .await;
        let (office, offer, availability) = offers
            .iter()
            .zip(found)
            .filter_map(|((office, offer), a)| Some((*office, offer, a?)))
            .filter(|(_, _, a)| a.days.iter().any(|d| !d.slots.is_empty()))
            .min_by_key(|(_, _, a)| a.days.iter().find_map(|d| d.slots.first().map(|s| s.start)))?;
        let place = format!("{} · {}", office.name, self.render.text(visit.locale, &mode_key(offer.mode), &[]));
        Some((self.first_free(visit, offer, &availability)?, place))
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
                    other_mode: (*try_mode != offer.mode)
                        .then(|| self.render.text(visit.locale, &mode_key(*try_mode), &[])),
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

/// Step 3's form: keep the chosen time (its secret in a cookie), then ask for the details. A
/// browser books one thing at a time: a new choice replaces its earlier hold (Back, "Indietro" or
/// another time), keeping the booking in progress's secret and what was typed.
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
    let visit = web.visit(request, &tenant).await?;
    web.require_checked(&visit, request, offer.service.as_str()).await?;
    let start = start.with_timezone(&Utc);
    let (previous, token) = web.in_progress(&visit, request).await?;
    if let Some(held) = previous.as_ref().filter(|h| h.offer() == offer && h.start == start)
        && held.is_live(web.app.now())
    {
        return Ok(see_other(&format!("/t/{tenant}/details/{}", held.id)));
    }
    let client = web.client(request);
    let kept = token.is_some();
    let token = token.unwrap_or_else(|| HoldToken::generate(&mut rand::rng()));
    // The hold's id follows from the secret and the time: the same choice sent twice (a double
    // tap, a retry) is the same hold, not a second place.
    let id = hold_id(&token, &offer, start);
    let asked =
        || HoldRequest { offer: &offer, start, id: Some(id), token: Some(token.clone()), client: client.as_deref() };
    let mut placed = web.app.place_hold(&tenant, asked()).await;
    // At the per-client limit, the earlier hold is what is in the way: give it back first.
    if let (Err(AppError::TooManyHolds(_)), Some(held), true) = (&placed, &previous, kept) {
        web.give_back(&visit, held, &token).await;
        placed = web.app.place_hold(&tenant, asked()).await;
    }
    Ok(match placed {
        Ok(placed) => {
            if let Some(held) = previous.as_ref().filter(|h| h.id != placed.hold.id) {
                web.give_back(&visit, held, &token).await;
            }
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header("Location", format!("/t/{tenant}/details/{}", placed.hold.id))
                .header("Set-Cookie", hold_cookie::set(request, &placed, web.app.now()))
                .finish()
        }
        Err(AppError::SlotTaken | AppError::Invalid(_)) => back_to_day("taken"),
        Err(AppError::TooManyHolds(_)) => back_to_day("limit"),
        Err(AppError::RateLimited { .. }) => back_to_day("busy"),
        Err(AppError::NotFound(_) | AppError::ServiceInactive) => see_other(&format!("/t/{tenant}/")),
        Err(error) => web.failure(&visit, &error, None),
    })
}

/// "Release this time": the place goes back at once, and the citizen back to the day's times.
#[handler]
pub async fn release_slot(web: WebData<'_>, request: &Request, Path((tenant, hold)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let held = web.held(&visit, request, &hold).await?;
    if let Some(token) = Uuid::parse_str(&hold).ok().and_then(|id| hold_cookie::read(request, id)) {
        web.give_back(&visit, &held, &token).await;
        if let Err(error) = web.app.forget_draft(&visit.tenant, &token).await {
            return Ok(web.failure(&visit, &error, None));
        }
    }
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("Location", day_url(&tenant, &held, visit.tenant.config.timezone_of(held.office.as_str())))
        .header("Set-Cookie", hold_cookie::clear(request, &tenant))
        .finish())
}

/// The id of the hold that `token`'s booking in progress places on `start`.
fn hold_id(token: &HoldToken, offer: &OfferKey, start: DateTime<Utc>) -> Uuid {
    use sha2::{Digest, Sha256};
    let seed =
        format!("{}|{}|{}|{}|{}", token.as_str(), offer.service, offer.office, offer.mode.code(), start.timestamp());
    let digest = Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Step 3 at the day of `hold`, its times in view.
pub(super) fn day_url(tenant: &str, hold: &Hold, tz: chrono_tz::Tz) -> String {
    let day = hold.start.with_timezone(&tz).date_naive();
    format!(
        "/t/{tenant}/s/{}/o/{}/m/{}?month={}&day={day}#times",
        hold.service,
        hold.office,
        hold.mode.code(),
        day.format("%Y-%m")
    )
}

impl Web {
    /// The browser's booking in progress: its current hold (live, or lapsed but not yet gone) and
    /// the secret to keep for the next one. A finished booking, or a secret that proves nothing,
    /// starts anew.
    async fn in_progress(&self, visit: &Visit, request: &Request) -> Page<(Option<Hold>, Option<HoldToken>)> {
        let Some((id, token)) = hold_cookie::current(request) else { return Ok((None, None)) };
        if id.is_nil() {
            // Answers checked, no place held yet.
            return Ok((None, Some(token)));
        }
        match self.app.owned_hold(&visit.tenant, id, &token).await {
            Ok(hold) => Ok((Some(hold), Some(token))),
            Err(AppError::HoldUnknown) => Ok((None, Some(token))),
            Err(AppError::HoldUsed(_) | AppError::NotFound(_)) => Ok((None, None)),
            Err(error) => Err(stop(self.failure(visit, &error, None))),
        }
    }

    /// Gives `hold`'s place back; one already gone or booked needs nothing more.
    async fn give_back(&self, visit: &Visit, hold: &Hold, token: &HoldToken) {
        match self.app.release_hold(visit.slug(), hold.id, token).await {
            Ok(()) | Err(AppError::NotFound(_) | AppError::HoldUnknown | AppError::HoldUsed(_)) => {}
            // The place comes back when the hold expires anyway.
            Err(error) => tracing::warn!(%error, "could not give a replaced hold back"),
        }
    }
}
