//! Booking for a citizen at the desk: a walk-in served now, or a phone call booked for later. One
//! page: the service, mode and day chosen with a plain GET form, then the day's free times and
//! the citizen's details in one POST form that lands on the new booking.

use chrono::NaiveDate;
use poem::http::StatusCode;
use poem::web::{Form, Path, Query};
use poem::{Request, handler};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::desk::Choice;
use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::{AppError, StaffBooking, When};
use crate::domain::{Channel, ContactKind, DetailsForm, FieldErrors, Locale, Mode, OfferKey};
use crate::web::{Web, see_other};

#[derive(Deserialize, Default)]
pub struct ChoiceParams {
    service: Option<String>,
    mode: Option<String>,
    date: Option<String>,
    channel: Option<String>,
}

#[derive(Serialize)]
struct InputField {
    name: String,
    id: String,
    label: String,
    kind: &'static str,
    value: String,
    required: bool,
    help: Option<String>,
    error: Option<String>,
    autocomplete: &'static str,
}

#[derive(Serialize)]
struct NewBookingPage {
    tenant_name: String,
    agenda_url: String,
    office_name: String,
    choose_action: String,
    services: Vec<Choice>,
    modes: Vec<Choice>,
    channels: Vec<Choice>,
    date: String,
    /// A service and mode are chosen: the times and the details form follow.
    chosen: bool,
    book_action: String,
    service: String,
    mode: String,
    channel: String,
    times: Vec<Choice>,
    time_error: Option<String>,
    fields: Vec<InputField>,
    reasons: Vec<Choice>,
    reason_error: Option<String>,
    locales: Vec<Choice>,
    privacy_checked: bool,
    privacy_error: Option<String>,
    /// Why the booking was not made when no field is to blame (the place went meanwhile).
    refusal: Option<String>,
    /// Every field error, linked to its field.
    summary: Vec<SummaryLink>,
    /// Names this filling of the form: sent twice (a double click), it books once.
    form_id: String,
}

#[derive(Serialize)]
struct SummaryLink {
    href: String,
    text: String,
}

/// What the page was sent back with after a refused booking.
struct Refused<'a> {
    values: &'a Fields,
    errors: FieldErrors,
    refusal: Option<String>,
}

fn parse_date(raw: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw?.trim(), "%Y-%m-%d").ok()
}

fn staff_channel(raw: Option<&str>) -> Channel {
    raw.and_then(Channel::parse).filter(|c| c.by_staff()).unwrap_or(Channel::Counter)
}

/// The error key of a field error: the citizen's form's words, said to staff where they differ.
fn error_key(code: &str, field: &str) -> String {
    match (code, field) {
        ("required", "citizen.phone") => "admin-walk-in-phone-required".to_owned(),
        (_, "when" | "start") => "admin-walk-in-choose-time".to_owned(),
        (code, _) => format!("error-{}", code.replace('_', "-")),
    }
}

#[handler]
pub async fn new_booking_page(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Query(params): Query<ChoiceParams>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    web.new_booking_page(&visit, (&tenant, &office), &params, None).await
}

#[handler]
pub async fn new_booking(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    // Who may book here is settled before what was sent is judged.
    web.app.desk_office(&visit.session, &tenant, &office).await.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    let get = |key: &str| fields.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let params =
        ChoiceParams { service: get("service"), mode: get("mode"), date: get("date"), channel: get("channel") };
    let mut errors = FieldErrors::default();
    let offer = OfferKey::parse(
        params.service.as_deref().unwrap_or_default(),
        &office,
        params.mode.as_deref().unwrap_or_default(),
    );
    let when = match get("when").as_deref() {
        Some("now") => Some(When::Now),
        Some(raw) => chrono::DateTime::parse_from_rfc3339(raw).ok().map(|t| When::At(t.to_utc())),
        None => None,
    };
    if when.is_none() {
        errors.push("when", "choose_time", "Choose a time.");
    }
    let (Ok(offer), Some(when), true) = (offer, when, errors.is_empty()) else {
        let refused = Refused { values: &fields, errors, refusal: None };
        return web.new_booking_page(&visit, (&tenant, &office), &params, Some(refused)).await;
    };
    // The same filling sent twice books once; changed and sent again, it is a new request.
    let idempotency = fields.get("form_id").filter(|id| uuid::Uuid::parse_str(id).is_ok()).map(|id| {
        let sent: Vec<(&String, &String)> = fields.iter().filter(|(k, _)| k.as_str() != "csrf").collect();
        let digest = Sha256::digest(serde_json::to_string(&sent).unwrap_or_default().as_bytes());
        (format!("desk-{id}"), format!("{digest:x}"))
    });
    let booking = StaffBooking {
        offer,
        when,
        channel: staff_channel(params.channel.as_deref()),
        form: staff_form(&fields),
        idempotency,
    };
    match web.app.book_for_citizen(&visit.session, &tenant, booking).await {
        Ok(booked) => Ok(see_other(&format!("/admin/t/{tenant}/bookings/{}", booked.booking.booking.code))),
        Err(AppError::Invalid(errors)) => {
            let refused = Refused { values: &fields, errors, refusal: None };
            web.new_booking_page(&visit, (&tenant, &office), &params, Some(refused)).await
        }
        Err(AppError::IdempotencyMismatch) => {
            // Back after booking, changed and sent again: a new filling of the form, said so.
            let mut fresh = fields.clone();
            fresh.remove("form_id");
            let refusal = Some(web.render.text(visit.locale, "admin-walk-in-form-used", &[]));
            let refused = Refused { values: &fresh, errors: FieldErrors::default(), refusal };
            web.new_booking_page(&visit, (&tenant, &office), &params, Some(refused)).await
        }
        Err(error @ (AppError::SlotTaken | AppError::NothingFreeToday | AppError::BookingLimit(_))) => {
            let outcome = crate::outcome::Outcome::of(&error);
            let refusal = Some(web.render.text(visit.locale, outcome.page_body, &[]));
            let refused = Refused { values: &fields, errors: FieldErrors::default(), refusal };
            web.new_booking_page(&visit, (&tenant, &office), &params, Some(refused)).await
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}

/// The citizen's details as the desk's form sent them, in the language chosen for the citizen.
fn staff_form(values: &Fields) -> DetailsForm {
    crate::web::details_form(values.iter(), values.get("locale").cloned())
}

impl Web {
    async fn new_booking_page(
        &self,
        visit: &StaffVisit,
        (tenant, office): (&str, &str),
        params: &ChoiceParams,
        refused: Option<Refused<'_>>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let (snapshot, office) = self.app.desk_office(&visit.session, tenant, office).await.map_err(fail)?;
        let config = &snapshot.config;
        let locale = visit.locale;
        let tz = office.timezone;
        let today = self.app.now().with_timezone(&tz).date_naive();
        let date = parse_date(params.date.as_deref()).unwrap_or(today);
        let channel = staff_channel(params.channel.as_deref());
        let service =
            params.service.as_deref().and_then(|s| config.service(s)).filter(|s| s.active && office.offers(s));
        let modes = service.map(|s| office.modes_for(s)).unwrap_or_default();
        let mode = params.mode.as_deref().and_then(Mode::parse).filter(|m| modes.contains(m));
        let (values, errors, refusal) = match &refused {
            Some(r) => (Some(r.values), &r.errors, r.refusal.clone()),
            None => (None, &FieldErrors::default(), None),
        };
        let value = |key: &str| values.and_then(|v| v.get(key)).cloned().unwrap_or_default();
        let error_for = |field: &str| {
            // The use case calls the time `start`; the form, `when`.
            let named = |e: &&crate::domain::FieldError| e.field == field || (field == "when" && e.field == "start");
            errors.0.iter().find(named).map(|e| match e.code {
                "rule" => e.message.clone(),
                code => self.render.text(locale, &error_key(code, field), &[]),
            })
        };
        let text = |key: &str| self.render.text(locale, key, &[]);
        let choice = |value: &str, label: String, selected: bool| Choice { value: value.to_owned(), label, selected };
        let times = match (service, mode) {
            (Some(s), Some(m)) => {
                let offer = OfferKey { service: s.slug.clone(), office: office.slug.clone(), mode: m };
                let free = self.app.staff_free_times(&visit.session, tenant, &offer, date).await.map_err(fail)?;
                let picked = value("when");
                let mut times: Vec<Choice> = Vec::new();
                if date == today {
                    let now = picked.is_empty() || picked == "now";
                    times.push(choice("now", text("admin-walk-in-now"), now));
                }
                times.extend(free.iter().map(|slot| {
                    let start = slot.start.to_rfc3339();
                    let label = format!(
                        "{} ({})",
                        slot.start.with_timezone(&tz).format("%H:%M"),
                        self.render.text(locale, "admin-walk-in-places", &[("count", slot.remaining.to_string())])
                    );
                    let selected = picked == start;
                    choice(&start, label, selected)
                }));
                if !times.iter().any(|t| t.selected)
                    && let Some(first) = times.first_mut()
                {
                    first.selected = true;
                }
                times
            }
            _ => Vec::new(),
        };
        let field = |name: &str, label: String, kind, required, autocomplete, help: Option<String>| {
            let path = match name {
                "first_name" | "last_name" | "email" | "phone" | "fiscal_code" => format!("citizen.{name}"),
                other => other.to_owned(),
            };
            InputField {
                name: name.to_owned(),
                id: format!("f-{}", name.replace('.', "-")),
                label,
                kind,
                value: value(name),
                required,
                help,
                error: error_for(&path),
                autocomplete,
            }
        };
        let mut fields = Vec::new();
        if let (Some(service), Some(mode)) = (service, mode) {
            fields.push(field("first_name", text("field-first-name"), "text", true, "off", None));
            fields.push(field("last_name", text("field-last-name"), "text", true, "off", None));
            fields.push(field("phone", text("field-phone"), "tel", true, "off", None));
            fields.push(field(
                "email",
                text("admin-walk-in-email"),
                "email",
                false,
                "off",
                Some(text("admin-walk-in-email-help")),
            ));
            if service.fiscal_code_required {
                fields.push(field("fiscal_code", text("field-fiscal-code"), "text", true, "off", None));
            }
            if mode.contact_kind() != ContactKind::None {
                let label = text(&format!("field-contact-{}", mode.code()));
                fields.push(field("contact", label, "text", true, "off", None));
            }
            for spec in &service.fields {
                let name = format!("answers.{}", spec.key);
                let help = spec.help.as_ref().map(|h| h.get(locale).to_owned());
                fields.push(field(&name, spec.label.get(locale).to_owned(), "text", spec.required, "off", help));
            }
            fields.push(field("details", text("field-details"), "text", false, "off", None));
        }
        let mut summary: Vec<SummaryLink> =
            fields.iter().filter_map(|f| Some(SummaryLink { href: f.id.clone(), text: f.error.clone()? })).collect();
        for (href, field) in [("f-when-0", "when"), ("f-reason", "reason"), ("f-privacy_accepted", "privacy_accepted")]
        {
            summary.extend(error_for(field).map(|text| SummaryLink { href: href.to_owned(), text }));
        }
        let picked_reason = value("reason");
        let citizen_locale = values.and_then(|v| v.get("locale")).and_then(|l| Locale::parse(l));
        let citizen_locale = citizen_locale.unwrap_or_else(|| config.default_locale());
        let view = NewBookingPage {
            tenant_name: config.name.clone(),
            agenda_url: format!("/admin/t/{tenant}/desk/{}", office.slug),
            office_name: office.name.clone(),
            choose_action: format!("/admin/t/{tenant}/desk/{}/new", office.slug),
            services: config
                .services
                .iter()
                .filter(|s| s.active && office.offers(s))
                .map(|s| {
                    choice(s.slug.as_str(), s.name.get(locale).to_owned(), service.is_some_and(|c| c.slug == s.slug))
                })
                .collect(),
            modes: office
                .modes
                .iter()
                .filter(|m| service.is_none_or(|_| modes.contains(m)))
                .map(|m| choice(m.code(), text(&format!("mode-{}", m.code())), mode == Some(*m)))
                .collect(),
            channels: [Channel::Counter, Channel::Phone]
                .iter()
                .map(|c| choice(c.code(), text(&format!("admin-channel-{}", c.code())), *c == channel))
                .collect(),
            date: date.to_string(),
            chosen: service.is_some() && mode.is_some(),
            book_action: format!("/admin/t/{tenant}/desk/{}/new", office.slug),
            service: service.map(|s| s.slug.to_string()).unwrap_or_default(),
            mode: mode.map(|m| m.code().to_owned()).unwrap_or_default(),
            channel: channel.code().to_owned(),
            time_error: error_for("when"),
            times,
            fields,
            reasons: service
                .map(|s| &s.reasons[..])
                .unwrap_or_default()
                .iter()
                .map(|r| choice(&r.key, r.label.get(locale).to_owned(), r.key == picked_reason))
                .collect(),
            reason_error: error_for("reason"),
            locales: config
                .locales
                .iter()
                .map(|l| choice(l.code(), self.render.text(*l, "language-name", &[]), *l == citizen_locale))
                .collect(),
            privacy_checked: values.is_some_and(|v| v.contains_key("privacy_accepted")),
            privacy_error: error_for("privacy_accepted"),
            refusal,
            summary,
            form_id: values
                .and_then(|v| v.get("form_id"))
                .filter(|id| uuid::Uuid::parse_str(id).is_ok())
                .cloned()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        };
        let status = match &refused {
            None => StatusCode::OK,
            Some(r) if r.refusal.is_some() => StatusCode::CONFLICT,
            Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Ok(self.staff_page(visit, "admin-walk-in", status, &view))
    }
}
