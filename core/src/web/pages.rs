//! The booking flow, step by step, and the management of a booking. Every step is a plain
//! form that works without JavaScript; a step reached without its earlier choices sends the
//! citizen back to where those are made.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::language::negotiate;
use super::render::Frame;
use super::{Web, hold_cookie};
use crate::app::{AppError, AvailabilityRequest, AvailableDay, ConfirmRequest, HoldRequest, TenantSnapshot};
use crate::domain::booking::SummaryLine;
use crate::domain::{Booking, DetailsForm, FieldErrors, FieldKind, Locale, Mode};
use crate::holds::Hold;
use crate::outcome::Outcome;

type WebData<'a> = Data<&'a Arc<Web>>;
type Fields = HashMap<String, String>;

const STEPS: u32 = 4;

/// A tenant page's request: the tenant, and the language to answer in.
struct Visit {
    tenant: Arc<TenantSnapshot>,
    locale: Locale,
    remember: bool,
    path: String,
}

impl Web {
    async fn visit(&self, request: &Request, slug: &str) -> Result<Visit, Response> {
        match self.app.tenant(slug).await {
            Ok(tenant) => {
                let (locale, remember) = negotiate(request, &tenant.config.locales, tenant.config.default_locale());
                Ok(Visit { tenant, locale, remember, path: super::language::link_base(request) })
            }
            Err(AppError::NotFound(_)) => {
                Err(self.bare_error(request, StatusCode::NOT_FOUND, "not-found-title", "tenant-not-found"))
            }
            Err(error) => Err(self.bare_failure(request, &error)),
        }
    }

    /// The page for a use case's error, from the one mapping of errors to outcomes: its status,
    /// title and text, and `Retry-After` when the fault is ours and passing.
    fn failure(&self, visit: &Visit, error: &AppError, back: Option<String>) -> Response {
        let outcome = Outcome::of(error);
        let code = match error {
            AppError::HoldUsed(Some(code)) => Some(code.to_string()),
            _ => None,
        };
        let data = json!({
            "title_key": outcome.page_title,
            "body_key": outcome.page_body,
            "back": back,
            "code": code,
            "manage_url": code.as_ref().map(|_| format!("/t/{}/booking", visit.tenant.config.slug)),
        });
        let response = self.page(&self.frame(visit), "error", status_of(&outcome), data);
        with_retry_after(response, &outcome)
    }

    /// As `failure`, for a page whose tenant could not be read.
    fn bare_failure(&self, request: &Request, error: &AppError) -> Response {
        let outcome = Outcome::of(error);
        let response = self.bare_error(request, status_of(&outcome), outcome.page_title, outcome.page_body);
        with_retry_after(response, &outcome)
    }

    fn frame<'a>(&self, visit: &'a Visit) -> Frame<'a> {
        Frame { locale: visit.locale, remember: visit.remember, tenant: Some(&visit.tenant), path: visit.path.clone() }
    }

    fn show(&self, visit: &Visit, template: &str, data: Value) -> Response {
        self.page(&self.frame(visit), template, StatusCode::OK, data)
    }

    /// A friendly error page for a tenant's visitor.
    fn error(&self, visit: &Visit, status: StatusCode, title: &str, body: &str, back: Option<String>) -> Response {
        let data = json!({"title_key": title, "body_key": body, "back": back});
        self.page(&self.frame(visit), "error", status, data)
    }

    /// An error page without a tenant (unknown tenant, database down).
    fn bare_error(&self, request: &Request, status: StatusCode, title: &str, body: &str) -> Response {
        let (locale, remember) = negotiate(request, &Locale::ALL, Locale::It);
        let frame = Frame { locale, remember, tenant: None, path: super::language::link_base(request) };
        self.page(&frame, "error", status, json!({"title_key": title, "body_key": body}))
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
        super::client_address(request, self.trust_forwarded_for)
    }

    /// A day of a month view: its label, date, whether it is the chosen one, and its free places.
    fn day_choice(&self, locale: Locale, day: &AvailableDay, chosen: Option<NaiveDate>) -> Value {
        json!({
            "label": self.date(locale, day.date),
            "value": day.date.to_string(),
            "current": Some(day.date) == chosen,
            "free": day.slots.iter().map(|s| s.remaining).sum::<u32>(),
        })
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

fn status_of(outcome: &Outcome) -> StatusCode {
    StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn with_retry_after(mut response: Response, outcome: &Outcome) -> Response {
    if let Some(seconds) = outcome.retry_after {
        response.headers_mut().insert("Retry-After", seconds.into());
    }
    response
}

/// A rule's summary in the page's language.
fn summary_lines(locale: Locale, summary: &[SummaryLine]) -> Vec<Value> {
    summary.iter().map(|line| json!({"label": line.label.get(locale), "value": line.value})).collect()
}

fn step(n: u32) -> Value {
    json!({"n": n, "total": STEPS})
}

fn mode_key(mode: Mode) -> String {
    format!("mode-{}", mode.code())
}

fn time(instant: DateTime<Utc>, tz: Tz) -> String {
    instant.with_timezone(&tz).format("%H:%M").to_string()
}

/// The installation's home: the public bodies whose appointments can be booked here.
#[handler]
pub async fn home_page(web: WebData<'_>, request: &Request) -> Response {
    let (locale, remember) = negotiate(request, &Locale::ALL, Locale::It);
    let frame = Frame { locale, remember, tenant: None, path: super::language::link_base(request) };
    let tenants = match web.app.tenants().await {
        Ok(tenants) => tenants,
        Err(error) => return web.bare_failure(request, &error),
    };
    let bodies: Vec<Value> = tenants
        .iter()
        .map(|t| {
            json!({
                "name": t.config.branding.display_name,
                "url": format!("/t/{}/", t.config.slug),
                "logo_url": t.logo.as_ref().map(|_| format!("/api/v1/t/{}/logo", t.config.slug)),
                "contacts": t.config.branding.contacts,
            })
        })
        .collect();
    web.page(&frame, "home", StatusCode::OK, json!({"bodies": bodies}))
}

/// Step 1: the tenant's services.
#[handler]
pub async fn services_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let config = &visit.tenant.config;
    let services: Vec<Value> = config
        .services
        .iter()
        .map(|s| {
            json!({
                "name": s.name.get(visit.locale),
                "description": s.description.get(visit.locale),
                "active": s.active,
                "url": format!("/t/{}/s/{}", config.slug, s.slug),
                "duration": s.duration_minutes,
            })
        })
        .collect();
    web.show(&visit, "services", json!({"step": step(1), "services": services}))
}

/// Step 2: offices that offer the service, and the mode (a deep link may start here).
#[handler]
pub async fn offices_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    offices_page(&web, &visit, &service, None)
}

fn offices_page(web: &Web, visit: &Visit, service_slug: &str, error: Option<&str>) -> Response {
    let config = &visit.tenant.config;
    let home = Some(format!("/t/{}/", config.slug));
    let Some(service) = config.service(service_slug) else {
        return web.error(visit, StatusCode::NOT_FOUND, "not-found-title", "service-not-found", home);
    };
    if !service.active {
        return web.error(visit, StatusCode::CONFLICT, "service-inactive-title", "service-inactive-body", home);
    }
    let offices: Vec<Value> = config
        .offices_for(service)
        .map(|o| {
            let address = serde_urlencoded::to_string([("query", o.address.as_str())]).unwrap_or_default();
            json!({
                "slug": o.slug.as_str(),
                "name": o.name,
                "address": o.address,
                "map_url": format!("https://www.openstreetmap.org/search?{address}"),
                "modes": o.modes_for(service).iter().map(|m| json!({
                    "value": format!("{}:{}", o.slug, m.code()),
                    "label_key": mode_key(*m),
                    "id": format!("choice-{}-{}", o.slug, m.code()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let data = json!({
        "step": step(2),
        "service": {"name": service.name.get(visit.locale), "slug": service.slug.as_str()},
        "offices": offices,
        "action": format!("/t/{}/s/{}/choose", config.slug, service.slug),
        "back": format!("/t/{}/", config.slug),
        "error": error,
    });
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    web.page(&web.frame(visit), "offices", status, data)
}

#[derive(Deserialize)]
pub struct Choice {
    choice: Option<String>,
}

/// Step 2's form: the office and mode, then on to the calendar.
#[handler]
pub async fn choose_office(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
    Query(choice): Query<Choice>,
) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    match choice.choice.as_deref().and_then(|c| c.split_once(':')) {
        Some((office, mode)) => see_other(&format!("/t/{tenant}/s/{service}/o/{office}/m/{mode}")),
        None => offices_page(&web, &visit, &service, Some("choose-office-error")),
    }
}

fn see_other(location: &str) -> Response {
    Response::builder().status(StatusCode::SEE_OTHER).header("Location", location).finish()
}

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    month: Option<String>,
    day: Option<String>,
    error: Option<String>,
}

/// The month a calendar shows (`YYYY-MM` asked, else today's), and the days to look up in it:
/// from today at the earliest to the month's end. Step 3 and rescheduling share it.
struct MonthWindow {
    start: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
    next: NaiveDate,
    today: NaiveDate,
}

impl MonthWindow {
    fn new(today: NaiveDate, asked: Option<&str>) -> Self {
        let start = asked
            .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
            .unwrap_or_else(|| today.with_day(1).unwrap_or(today));
        let from = start.max(today);
        let next = start.checked_add_months(chrono::Months::new(1)).unwrap_or(start);
        let to = next.pred_opt().unwrap_or(start).max(from);
        Self { start, from, to, next, today }
    }

    fn param(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }

    /// The month before, unless this is the current one.
    fn previous(&self) -> Option<String> {
        (self.start > self.today.with_day(1).unwrap_or(self.today)).then(|| {
            self.start.checked_sub_months(chrono::Months::new(1)).unwrap_or(self.start).format("%Y-%m").to_string()
        })
    }

    /// The month after, if bookings are open in it.
    fn following(&self, horizon_end: NaiveDate) -> Option<String> {
        (self.next <= horizon_end).then(|| self.next.format("%Y-%m").to_string())
    }
}

/// A day's free times as a radio group's choices.
fn time_choices(day: &AvailableDay, tz: Tz) -> Vec<Value> {
    day.slots
        .iter()
        .map(|s| json!({"value": s.start.with_timezone(&tz).to_rfc3339(), "label": format!("{}–{}", time(s.start, tz), time(s.end, tz)), "id": format!("time-{}", s.start.timestamp())}))
        .collect()
}

/// Step 3: a month of days with free slots, then the free times of the chosen day.
#[handler]
pub async fn calendar_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service, office, mode)): Path<(String, String, String, String)>,
    Query(query): Query<CalendarQuery>,
) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let base = format!("/t/{tenant}/s/{service}/o/{office}/m/{mode}");
    let today = web.app.now().with_timezone(&visit.tenant.config.timezone).date_naive();
    let month = MonthWindow::new(today, query.month.as_deref());
    let request_range = AvailabilityRequest {
        service: &service,
        office: &office,
        mode: &mode,
        from: Some(month.from),
        to: Some(month.to),
    };
    let availability = match web.app.availability(&tenant, request_range).await {
        Ok(a) => a,
        Err(AppError::NotFound(_) | AppError::Invalid(_)) => return see_other(&format!("/t/{tenant}/s/{service}")),
        Err(error) => return web.failure(&visit, &error, Some(format!("/t/{tenant}/"))),
    };
    let tz = availability.timezone;
    let chosen_day = query.day.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let month_param = month.param();
    let days: Vec<Value> = availability
        .days
        .iter()
        .map(|d| {
            let mut day = web.day_choice(visit.locale, d, chosen_day);
            day["url"] = json!(format!("{base}?month={month_param}&day={}", d.date));
            day
        })
        .collect();
    let times: Vec<Value> = chosen_day
        .and_then(|day| availability.days.iter().find(|d| d.date == day))
        .map(|d| time_choices(d, tz))
        .unwrap_or_default();
    let config = &visit.tenant.config;
    let service_name = config.service(&service).map(|s| s.name.get(visit.locale).to_owned()).unwrap_or_default();
    let office_name = config.office(&office).map(|o| o.name.clone()).unwrap_or_default();
    let previous = month.previous().map(|m| format!("{base}?month={m}"));
    let next = month.following(availability.horizon_end).map(|m| format!("{base}?month={m}"));
    let alternative = if availability.days.is_empty() && next.is_none() {
        web.other_office(&visit, &service, &office, &mode).await
    } else {
        None
    };
    let data = json!({
        "step": step(3),
        "service_name": service_name,
        "office_name": office_name,
        "mode_key": Mode::parse(&mode).map(mode_key),
        "month_label": web.month_label(visit.locale, month.start),
        "days": days,
        "previous": previous,
        "next": next,
        "horizon_end": web.date(visit.locale, availability.horizon_end),
        "chosen_day": chosen_day.map(|d| web.date(visit.locale, d)),
        "times": times,
        "hold_action": format!("/t/{tenant}/hold"),
        "service": service,
        "office": office,
        "mode": mode,
        "back": format!("/t/{tenant}/s/{service}"),
        "error": query.error.as_deref().map(|e| match e {
            "taken" => "slot-taken",
            "limit" => "too-many-holds",
            "busy" => "rate-limited",
            _ => "choose-time-error",
        }),
        "alternative": alternative,
    });
    web.show(&visit, "calendar", data)
}

impl Web {
    /// The first free time of the hold's service, office and mode, as a ready-to-send hold form.
    async fn next_free(&self, visit: &Visit, hold: &Hold) -> Option<Value> {
        let request = AvailabilityRequest {
            service: hold.service.as_str(),
            office: hold.office.as_str(),
            mode: hold.mode.code(),
            from: None,
            to: None,
        };
        let availability = self.app.availability(visit.tenant.config.slug.as_str(), request).await.ok()?;
        let tz = availability.timezone;
        let (day, slot) = availability.days.iter().find_map(|d| d.slots.first().map(|s| (d.date, s)))?;
        Some(json!({
            "when": format!("{} {}", self.date(visit.locale, day), time(slot.start, tz)),
            "action": format!("/t/{}/hold", visit.tenant.config.slug),
            "service": hold.service.as_str(),
            "office": hold.office.as_str(),
            "mode": hold.mode.code(),
            "start": slot.start.with_timezone(&tz).to_rfc3339(),
        }))
    }

    /// Another office offering the service in some mode with free slots soon, for a dead end.
    async fn other_office(&self, visit: &Visit, service: &str, office: &str, mode: &str) -> Option<Value> {
        let config = &visit.tenant.config;
        let wanted = config.service(service)?;
        for other in config.offices_for(wanted).filter(|o| o.slug.as_str() != office) {
            let modes = other.modes_for(wanted);
            let try_mode = modes.iter().find(|m| m.code() == mode).or(modes.first())?;
            let request = AvailabilityRequest {
                service,
                office: other.slug.as_str(),
                mode: try_mode.code(),
                from: None,
                to: None,
            };
            if let Ok(a) = self.app.availability(config.slug.as_str(), request).await
                && !a.days.is_empty()
            {
                return Some(json!({
                    "name": other.name,
                    "url": format!("/t/{}/s/{service}/o/{}/m/{}", config.slug, other.slug, try_mode.code()),
                }));
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

/// Step 3's form: keep the chosen time, then ask for the details.
#[handler]
pub async fn hold_slot(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(form): Form<HoldForm>,
) -> Response {
    let back = format!("/t/{tenant}/s/{}/o/{}/m/{}", form.service, form.office, form.mode);
    let Some(start) = form.start.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return see_other(&format!("{back}?error=choose"));
    };
    let day = start.date_naive();
    let back_to_day = |error: &str| see_other(&format!("{back}?month={}&day={day}&error={error}", day.format("%Y-%m")));
    let client = web.client(request);
    let asked = HoldRequest {
        service: &form.service,
        office: &form.office,
        mode: &form.mode,
        start: start.with_timezone(&Utc),
        id: None,
        token: None,
        client: client.as_deref(),
    };
    match web.app.place_hold(&tenant, asked).await {
        Ok(placed) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", format!("/t/{tenant}/details/{}", placed.hold.id))
            .header("Set-Cookie", hold_cookie::set(request, &placed, web.app.now()))
            .finish(),
        Err(AppError::SlotTaken | AppError::Invalid(_)) => back_to_day("taken"),
        Err(AppError::TooManyHolds(_)) => back_to_day("limit"),
        Err(AppError::RateLimited { .. }) => back_to_day("busy"),
        Err(AppError::NotFound(_) | AppError::ServiceInactive) => see_other(&format!("/t/{tenant}/")),
        Err(error) => match web.visit(request, &tenant).await {
            Ok(visit) => web.failure(&visit, &error, None),
            Err(page) => page,
        },
    }
}

impl Web {
    /// The hold of a details page, if this browser placed it, or the page that says it is gone.
    async fn held(&self, visit: &Visit, request: &Request, id: &str) -> Result<Hold, Response> {
        let home = Some(format!("/t/{}/", visit.tenant.config.slug));
        let gone = || self.error(visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", home.clone());
        let id = Uuid::parse_str(id).map_err(|_| gone())?;
        let token = hold_cookie::read(request, id).ok_or_else(gone)?;
        match self.app.owned_hold(&visit.tenant, id, &token).await {
            Ok(hold) => Ok(hold),
            Err(AppError::NotFound(_) | AppError::HoldUnknown) => Err(gone()),
            Err(error) => Err(self.failure(visit, &error, home)),
        }
    }

    /// Step 4: the details form, filled with `values` and annotated with `errors`.
    fn details_page(&self, visit: &Visit, hold: &Hold, values: &Fields, errors: Option<&FieldErrors>) -> Response {
        let config = &visit.tenant.config;
        let Some(service) = config.service(hold.service.as_str()) else {
            return self.error(visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", None);
        };
        let tz = config.office(hold.office.as_str()).map_or(config.timezone, |o| o.timezone);
        let value = |key: &str| values.get(key).cloned().unwrap_or_default();
        // The text of a field's error: a tenant rule words its own (already in the page's
        // language); every other error has a message of ours.
        let error_for = |field: &str| -> Option<String> {
            errors.and_then(|e| e.0.iter().find(|f| f.field == field)).map(|f| {
                if f.code == "rule" {
                    f.message.clone()
                } else {
                    self.render.text(visit.locale, &format!("error-{}", f.code.replace('_', "-")), &[])
                }
            })
        };
        let field = |name: &str, path: &str, label_key: &str, kind: &str, required: bool, autocomplete: &str| {
            json!({"name": name, "id": format!("f-{}", name.replace('.', "-")), "label_key": label_key, "type": kind, "required": required,
                   "value": value(name), "error_text": error_for(path), "autocomplete": autocomplete})
        };
        let mut fields = vec![
            field("first_name", "citizen.first_name", "field-first-name", "text", true, "given-name"),
            field("last_name", "citizen.last_name", "field-last-name", "text", true, "family-name"),
            field("email", "citizen.email", "field-email", "email", true, "email"),
            field("phone", "citizen.phone", "field-phone", "tel", true, "tel"),
        ];
        // With a `lookup` rule, the script checks the service's fields and the fiscal code as they are
        // typed (the server checks them again on submit either way).
        let lookup = visit.tenant.has_lookup(service);
        if service.fiscal_code_required {
            let mut fiscal_code = field("fiscal_code", "citizen.fiscal_code", "field-fiscal-code", "text", true, "off");
            if lookup {
                fiscal_code["lookup_field"] = json!("fiscal_code");
            }
            fields.push(fiscal_code);
        }
        let contact_key = match hold.mode {
            Mode::InPerson => None,
            Mode::WhatsApp => Some(("field-contact-whatsapp", "tel")),
            Mode::Skype => Some(("field-contact-skype", "text")),
            Mode::Teams => Some(("field-contact-teams", "email")),
        };
        if let Some((label, kind)) = contact_key {
            fields.push(field("contact", "contact", label, kind, true, "off"));
        }
        let extra: Vec<Value> = service
            .fields
            .iter()
            .map(|f| {
                let name = format!("answers.{}", f.key);
                let inputmode = if matches!(f.kind, FieldKind::Digits { .. }) { "numeric" } else { "text" };
                json!({"name": name, "id": format!("f-answers-{}", f.key), "label": f.label.get(visit.locale), "help": f.help.as_ref().map(|h| h.get(visit.locale)),
                       "required": f.required, "value": value(&name), "inputmode": inputmode, "error_text": error_for(&name),
                       "lookup_field": lookup.then_some(f.key.as_str())})
            })
            .collect();
        let reasons: Vec<Value> = service
            .reasons
            .iter()
            .map(|r| json!({"key": r.key, "label": r.label.get(visit.locale), "selected": value("reason") == r.key}))
            .collect();
        // The summary names each field with its own label, in the order of the form.
        let mut summary: Vec<Value> = fields
            .iter()
            .chain(extra.iter())
            .filter(|f| f["error_text"].is_string())
            .map(|f| json!({"href": format!("#{}", f["id"].as_str().unwrap_or_default()), "label_key": f["label_key"], "label": f["label"], "error_text": f["error_text"]}))
            .collect();
        for (field, id, label_key) in [
            ("reason", "f-reason", "field-reason"),
            ("details", "f-details", "field-details"),
            ("privacy_accepted", "f-privacy", "privacy-title"),
        ] {
            if let Some(error_text) = error_for(field) {
                summary.push(json!({"href": format!("#{id}"), "label_key": label_key, "error_text": error_text}));
            }
        }
        let data = json!({
            "step": step(4),
            "service_name": service.name.get(visit.locale),
            "when": format!("{} {}", self.date(visit.locale, hold.start.with_timezone(&tz).date_naive()), time(hold.start, tz)),
            "held_until": time(hold.expires_at, tz),
            "expires_at": hold.expires_at.to_rfc3339(),
            "fields": fields,
            "extra": extra,
            "reasons": reasons,
            "reason_error": error_for("reason"),
            "details": value("details"),
            "details_error": error_for("details"),
            "privacy_checked": values.contains_key("privacy_accepted"),
            "privacy_error": error_for("privacy_accepted"),
            "errors": summary,
            "action": format!("/t/{}/details/{}", config.slug, hold.id),
            "lookup_url": lookup.then(|| format!("/api/v1/t/{}/services/{}/lookup", config.slug, service.slug)),
            "back": format!("/t/{}/s/{}/o/{}/m/{}", config.slug, hold.service, hold.office, hold.mode.code()),
        });
        let status = if errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        self.page(&self.frame(visit), "details", status, data)
    }
}

fn details_form(values: &Fields) -> DetailsForm {
    let optional = |key: &str| values.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    DetailsForm {
        first_name: values.get("first_name").cloned().unwrap_or_default(),
        last_name: values.get("last_name").cloned().unwrap_or_default(),
        email: values.get("email").cloned().unwrap_or_default(),
        phone: values.get("phone").cloned().unwrap_or_default(),
        fiscal_code: optional("fiscal_code"),
        contact: optional("contact"),
        answers: values
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("answers.").map(|key| (key.to_owned(), v.clone())))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect::<BTreeMap<_, _>>(),
        reason: optional("reason"),
        details: optional("details"),
        privacy_accepted: values.contains_key("privacy_accepted"),
        locale: optional("locale"),
    }
}

/// Step 4: the details form.
#[handler]
pub async fn details_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hold)): Path<(String, String)>,
) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    match web.held(&visit, request, &hold).await {
        Ok(hold) => web.details_page(&visit, &hold, &Fields::new(), None),
        Err(page) => page,
    }
}

/// Step 4's form: check the details, then show them for review (or the form again, annotated).
#[handler]
pub async fn review_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hold)): Path<(String, String)>,
    Form(values): Form<Fields>,
) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let hold = match web.held(&visit, request, &hold).await {
        Ok(hold) => hold,
        Err(page) => return page,
    };
    if values.contains_key("edit") {
        return web.details_page(&visit, &hold, &values, None);
    }
    let mut form = details_form(&values);
    form.locale = Some(visit.locale.code().to_owned());
    match web.app.check_details(&visit.tenant, &hold, &form).await {
        Ok((_, summary)) => web.review_page(&visit, &hold, &values, &summary),
        Err(AppError::Invalid(errors)) => web.details_page(&visit, &hold, &values, Some(&errors)),
        Err(error) => web.failure(&visit, &error, None),
    }
}

impl Web {
    fn review_page(&self, visit: &Visit, hold: &Hold, values: &Fields, summary: &[SummaryLine]) -> Response {
        let config = &visit.tenant.config;
        let tz = config.office(hold.office.as_str()).map_or(config.timezone, |o| o.timezone);
        let office = config.office(hold.office.as_str());
        let mut hidden: Vec<Value> = values.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
        hidden.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let service = config.service(hold.service.as_str());
        let order = ["first_name", "last_name", "email", "phone", "fiscal_code", "contact", "reason", "details"];
        let mut shown: Vec<(usize, Value)> = values
            .iter()
            .filter(|(k, v)| !v.trim().is_empty() && k.as_str() != "privacy_accepted" && k.as_str() != "edit")
            .map(|(k, v)| {
                let position = order.iter().position(|o| o == k).unwrap_or(order.len());
                // Extra answers and reasons are named by the service, in the page's language.
                let field_label = k.strip_prefix("answers.").and_then(|key| service?.fields.iter().find(|f| f.key == key)).map(|f| f.label.get(visit.locale));
                let value = match k.as_str() {
                    "reason" => service.and_then(|s| s.reasons.iter().find(|r| r.key == *v)).map_or(v.clone(), |r| r.label.get(visit.locale).to_owned()),
                    _ => v.clone(),
                };
                (position, json!({"label": field_label, "label_key": format!("review-{}", k.replace('_', "-")), "value": value}))
            })
            .collect();
        shown.sort_by_key(|(position, _)| *position);
        let shown: Vec<Value> = shown.into_iter().map(|(_, v)| v).collect();
        let data = json!({
            "step": step(4),
            "service_name": config.service(hold.service.as_str()).map(|s| s.name.get(visit.locale)),
            "office_name": office.map(|o| o.name.clone()),
            "address": office.map(|o| o.address.clone()),
            "mode_key": mode_key(hold.mode),
            "when": format!("{} {}–{}", self.date(visit.locale, hold.start.with_timezone(&tz).date_naive()), time(hold.start, tz), time(hold.end, tz)),
            "held_until": time(hold.expires_at, tz),
            "shown": shown,
            "rule_summary": summary_lines(visit.locale, summary),
            "hidden": hidden,
            "confirm_action": format!("/t/{}/confirm/{}", config.slug, hold.id),
            "edit_action": format!("/t/{}/details/{}", config.slug, hold.id),
        });
        self.show(visit, "review", data)
    }

    fn booking_data(&self, visit: &Visit, booking: &Booking) -> Value {
        let config = &visit.tenant.config;
        let tz = booking.timezone;
        let office = config.office(booking.office.as_str());
        let service = config
            .service(booking.service.as_str())
            .map_or(booking.service.to_string(), |s| s.name.get(visit.locale).to_owned());
        let email = booking.details.citizen.email.as_str();
        let query = serde_urlencoded::to_string([("email", email)]).unwrap_or_default();
        let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        let location = match (booking.mode, office) {
            (Mode::InPerson, Some(o)) => format!("{}, {}", o.name, o.address),
            (mode, _) => self.render.text(visit.locale, &mode_key(mode), &[]),
        };
        let google = serde_urlencoded::to_string([
            ("action", "TEMPLATE".to_owned()),
            ("text", service.clone()),
            ("dates", format!("{}/{}", stamp(booking.start), stamp(booking.end))),
            ("location", location.clone()),
        ])
        .unwrap_or_default();
        let outlook = serde_urlencoded::to_string([
            ("subject", service.clone()),
            ("startdt", booking.start.to_rfc3339()),
            ("enddt", booking.end.to_rfc3339()),
            ("location", location.clone()),
        ])
        .unwrap_or_default();
        json!({
            "code": booking.code.to_string(),
            "status_key": format!("status-{}", booking.status.code().replace('_', "-")),
            "confirmed": booking.status.is_changeable(),
            "service_name": service,
            "office_name": office.map(|o| o.name.clone()),
            "address": office.map(|o| o.address.clone()),
            "in_person": booking.mode == Mode::InPerson,
            "mode_key": mode_key(booking.mode),
            "mode_label": self.render.text(visit.locale, &mode_key(booking.mode), &[]),
            "contact": booking.details.contact.as_str(),
            "rule_summary": summary_lines(visit.locale, &booking.summary),
            "when": format!("{} {}–{}", self.date(visit.locale, booking.start.with_timezone(&tz).date_naive()), time(booking.start, tz), time(booking.end, tz)),
            "email": email,
            "ics_url": format!("/api/v1/t/{}/bookings/{}/calendar.ics?{query}", config.slug, booking.code.as_str()),
            "google_url": format!("https://calendar.google.com/calendar/render?{google}"),
            "outlook_url": format!("https://outlook.live.com/calendar/0/deeplink/compose?{outlook}"),
            "manage_url": format!("/t/{}/booking", config.slug),
            "cancel_action": format!("/t/{}/booking/cancel", config.slug),
            "reschedule_action": format!("/t/{}/booking/reschedule", config.slug),
        })
    }
}

/// The review's form: book. A repeated submission books once (the hold is the idempotency key),
/// so the hold is looked up only when the form must be shown again.
#[handler]
pub async fn confirm_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hold_id)): Path<(String, String)>,
    Form(values): Form<Fields>,
) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let Some((id, token)) = Uuid::parse_str(&hold_id).ok().and_then(|id| Some((id, hold_cookie::read(request, id)?)))
    else {
        return web.error(&visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", Some(format!("/t/{tenant}/")));
    };
    let mut form = details_form(&values);
    form.locale = Some(visit.locale.code().to_owned());
    let fingerprint = serde_json::to_string(&values.iter().collect::<BTreeMap<_, _>>()).unwrap_or_default();
    let idempotency = Some((format!("web-{id}"), format!("{:x}", Sha256::digest(fingerprint.as_bytes()))));
    let confirm =
        ConfirmRequest { hold_id: id, hold_token: token.clone(), form, idempotency, client: web.client(request) };
    match web.app.confirm(&tenant, confirm).await {
        Ok(confirmed) => {
            let mut data = web.booking_data(&visit, &confirmed.booking);
            data["just_booked"] = json!(true);
            web.show(&visit, "confirmed", data)
        }
        Err(AppError::Invalid(errors)) => match web.held(&visit, request, &hold_id).await {
            Ok(hold) => web.details_page(&visit, &hold, &values, Some(&errors)),
            Err(page) => page,
        },
        Err(AppError::SlotTaken | AppError::HoldUnknown) => {
            // Say so, and offer the next free time of the same service, office and mode.
            let hold = web.app.owned_hold(&visit.tenant, id, &token).await.ok();
            let back = hold.as_ref().map(|h| format!("/t/{tenant}/s/{}/o/{}/m/{}", h.service, h.office, h.mode.code()));
            let next = match &hold {
                Some(h) => web.next_free(&visit, h).await,
                None => None,
            };
            let back = back.or(Some(format!("/t/{tenant}/")));
            let data =
                json!({"title_key": "hold-expired-title", "body_key": "hold-expired-body", "back": back, "next": next});
            web.page(&web.frame(&visit), "error", StatusCode::CONFLICT, data)
        }
        // Sent again, with the same details or edited ones: say which booking the hold became.
        Err(AppError::IdempotencyMismatch) => match web.app.owned_hold(&visit.tenant, id, &token).await {
            Err(used @ AppError::HoldUsed(_)) => web.failure(&visit, &used, None),
            _ => web.failure(&visit, &AppError::HoldUsed(None), None),
        },
        Err(error) => web.failure(&visit, &error, None),
    }
}

/// Manage: ask for the code and e-mail.
#[handler]
pub async fn manage_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Response {
    let visit = match web.visit(request, &tenant).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    web.show(&visit, "manage", json!({"action": format!("/t/{tenant}/booking"), "code": "", "email": ""}))
}

#[derive(Deserialize)]
pub struct Proof {
    #[serde(default)]
    code: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    confirmed: Option<String>,
    #[serde(default)]
    start: Option<String>,
    /// Rescheduling: the month shown (`YYYY-MM`) and the day chosen (`YYYY-MM-DD`).
    #[serde(default)]
    month: Option<String>,
    #[serde(default)]
    day: Option<String>,
}

impl Web {
    /// The tenant page's visit and the booking its code and e-mail prove, or the page to show.
    async fn visit_booking(
        &self,
        request: &Request,
        tenant: &str,
        proof: &Proof,
    ) -> Result<(Visit, Booking), Response> {
        let visit = self.visit(request, tenant).await?;
        let booking = self.proven(&visit, proof).await?;
        Ok((visit, booking))
    }

    async fn proven(&self, visit: &Visit, proof: &Proof) -> Result<Booking, Response> {
        match self.app.find_booking(visit.tenant.config.slug.as_str(), &proof.code, &proof.email).await {
            Ok((_, booking)) => Ok(booking),
            Err(error @ (AppError::Store(_) | AppError::Holds(_) | AppError::Busy | AppError::Pack(_))) => {
                Err(self.failure(visit, &error, None))
            }
            Err(_) => {
                let data = json!({"action": format!("/t/{}/booking", visit.tenant.config.slug), "code": proof.code, "email": proof.email, "error": "booking-not-found"});
                Err(self.page(&self.frame(visit), "manage", StatusCode::NOT_FOUND, data))
            }
        }
    }
}

/// Manage: the booking, with cancel and reschedule.
#[handler]
pub async fn find_booking(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Response {
    match web.visit_booking(request, &tenant, &proof).await {
        Ok((visit, booking)) => web.show(&visit, "booking", web.booking_data(&visit, &booking)),
        Err(page) => page,
    }
}

/// Cancel: first a question, then (with `confirmed`) the cancellation.
#[handler]
pub async fn cancel_booking(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Response {
    let (visit, booking) = match web.visit_booking(request, &tenant, &proof).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if proof.confirmed.is_none() {
        let mut data = web.booking_data(&visit, &booking);
        data["ask_cancel"] = json!(true);
        return web.show(&visit, "booking", data);
    }
    match web.app.cancel(&tenant, &proof.code, &proof.email).await {
        Ok(cancelled) => web.show(&visit, "cancelled", web.booking_data(&visit, &cancelled.booking)),
        Err(error) => web.failure(&visit, &error, None),
    }
}

/// Reschedule: a month of days with free places for the same service, office and mode, then the
/// day's free times; then the move.
#[handler]
pub async fn reschedule_booking(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(proof): Form<Proof>,
) -> Response {
    let (visit, booking) = match web.visit_booking(request, &tenant, &proof).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let mut error = None;
    if let Some(start) = proof.start.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
        let client = web.client(request);
        let asked = HoldRequest {
            service: booking.service.as_str(),
            office: booking.office.as_str(),
            mode: booking.mode.code(),
            start: start.with_timezone(&Utc),
            id: None,
            token: None,
            client: client.as_deref(),
        };
        let moved = match web.app.place_hold(&tenant, asked).await {
            Ok(placed) => web.app.reschedule(&tenant, &proof.code, &proof.email, placed.hold.id, &placed.token).await,
            Err(e) => Err(e),
        };
        match moved {
            Ok(moved) => {
                let mut data = web.booking_data(&visit, &moved.booking);
                data["just_moved"] = json!(true);
                return web.show(&visit, "confirmed", data);
            }
            Err(AppError::SlotTaken | AppError::HoldUnknown | AppError::Invalid(_)) => error = Some("slot-taken"),
            Err(AppError::TooManyHolds(_)) => error = Some("too-many-holds"),
            Err(AppError::RateLimited { .. }) => error = Some("rate-limited"),
            Err(other) => return web.failure(&visit, &other, None),
        }
    } else if proof.start.is_some() || proof.confirmed.is_some() {
        error = Some("choose-time-error");
    }
    // The same month view as step 3, driven by forms: the e-mail that proves the booking travels in
    // POST bodies, never in a URL.
    let today = web.app.now().with_timezone(&booking.timezone).date_naive();
    let month = MonthWindow::new(today, proof.month.as_deref());
    let range = AvailabilityRequest {
        service: booking.service.as_str(),
        office: booking.office.as_str(),
        mode: booking.mode.code(),
        from: Some(month.from),
        to: Some(month.to),
    };
    let availability = match web.app.availability(&tenant, range).await {
        Ok(availability) => availability,
        Err(error) => return web.failure(&visit, &error, Some(format!("/t/{tenant}/"))),
    };
    let chosen_day = proof.day.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let days: Vec<Value> = availability.days.iter().map(|d| web.day_choice(visit.locale, d, chosen_day)).collect();
    let times: Vec<Value> = chosen_day
        .and_then(|day| availability.days.iter().find(|d| d.date == day))
        .map(|d| time_choices(d, availability.timezone))
        .unwrap_or_default();
    let mut data = web.booking_data(&visit, &booking);
    data["month"] = json!(month.param());
    data["month_label"] = json!(web.month_label(visit.locale, month.start));
    data["previous"] = json!(month.previous());
    data["next"] = json!(month.following(availability.horizon_end));
    data["horizon_end"] = json!(web.date(visit.locale, availability.horizon_end));
    data["days"] = json!(days);
    data["chosen_day"] = json!(chosen_day.map(|d| web.date(visit.locale, d)));
    data["day"] = json!(chosen_day.map(|d| d.to_string()));
    data["times"] = json!(times);
    data["error"] = json!(error);
    web.show(&visit, "reschedule", data)
}
