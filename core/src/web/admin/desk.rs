//! The operator's desk: an office's agenda (a day or a week, filtered, searched), one booking
//! with its personal data, and the counter's steps as small forms that come back to where they
//! were sent from.

use chrono::{Datelike, NaiveDate, TimeDelta};
use poem::http::StatusCode;
use poem::web::{Form, Path, Query};
use poem::{Request, handler};
use serde::{Deserialize, Serialize};

use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::{AgendaQuery, AppError, DeskBooking, Span};
use crate::domain::desk::DeskAction;
use crate::domain::{BookingStatus, Mode};
use crate::web::{Web, see_other};

#[derive(Deserialize, Default)]
pub struct AgendaParams {
    office: Option<String>,
    date: Option<String>,
    week: Option<String>,
    service: Option<String>,
    mode: Option<String>,
    status: Option<String>,
    q: Option<String>,
    /// After "call next": the booking called, or that nobody was waiting.
    called: Option<String>,
    nobody: Option<String>,
}

/// One option of a select or a radio group.
#[derive(Serialize)]
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

#[derive(Serialize)]
struct ActionButton {
    action: &'static str,
    label_key: String,
}

#[derive(Serialize)]
struct Row {
    time: String,
    code: String,
    url: String,
    service: String,
    mode_key: String,
    /// How to reach the citizen for the call (phone, Skype name, Teams address, Jitsi room).
    contact: Option<String>,
    name: String,
    /// The queue's ticket, once checked in, and the desk it was called to.
    ticket: Option<String>,
    desk: Option<String>,
    status: &'static str,
    status_key: String,
    actions: Vec<ActionButton>,
    undoable: bool,
    action_url: String,
}

#[derive(Serialize)]
struct Day {
    label: String,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct AgendaPage {
    tenant_name: String,
    back: String,
    office_name: String,
    offices: Vec<Choice>,
    office_form: String,
    filter_action: String,
    date: String,
    week: bool,
    title_label: String,
    previous_url: String,
    next_url: String,
    today_url: String,
    day_url: String,
    week_url: String,
    services: Vec<Choice>,
    modes: Vec<Choice>,
    statuses: Vec<Choice>,
    q: String,
    days: Vec<Day>,
    count: usize,
    found_by_code: bool,
    /// Where an action's form comes back to: this very page.
    back_here: String,
    new_booking_url: String,
    /// The counter queue: the desk this browser calls to, who is waiting, whom it just called.
    queue: QueueBox,
    /// The export is for the body's admins.
    can_export: bool,
    export_action: String,
    /// The shown days, as the export form's default range.
    export_from: String,
    export_to: String,
}

#[derive(Serialize)]
struct TicketBox {
    code: String,
    url: String,
    qr_svg: Option<String>,
}

#[derive(Serialize)]
struct QueueBox {
    call_next_action: String,
    board_url: String,
    desk: String,
    waiting: usize,
    /// "P003 → Sportello 3" after a call.
    called: Option<String>,
    nobody_waiting: bool,
}

#[derive(Serialize)]
struct Line {
    label_key: &'static str,
    value: String,
}

#[derive(Serialize)]
struct BookingPage {
    tenant_name: String,
    agenda_url: String,
    code: String,
    status: &'static str,
    status_key: String,
    when: String,
    lines: Vec<Line>,
    answers: Vec<(String, String)>,
    summary: Vec<(String, String)>,
    desk_times: Vec<Line>,
    /// The queue's ticket with the QR code of its page, for the citizen's phone or a printed slip.
    ticket: Option<TicketBox>,
    /// The citizen has no e-mail address: a cancellation must be told by phone.
    no_email: bool,
    note: String,
    actions: Vec<ActionButton>,
    undoable: bool,
    cancellable: bool,
    action_url: String,
    note_url: String,
    cancel_url: String,
    back_here: String,
    errors: std::collections::BTreeMap<String, String>,
    cancel_reason: String,
    /// At the counter: the other services of the office the citizen may be sent on to.
    send_on: Option<SendOnBox>,
}

#[derive(Serialize)]
struct SendOnBox {
    action: String,
    services: Vec<Choice>,
}

fn parse_date(raw: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw?.trim(), "%Y-%m-%d").ok()
}

fn status_key(status: BookingStatus) -> String {
    format!("admin-status-{}", status.code().replace('_', "-"))
}

fn action_buttons(entry: &DeskBooking) -> Vec<ActionButton> {
    entry
        .actions
        .iter()
        .map(|a| ActionButton { action: a.code(), label_key: format!("admin-desk-{}", a.code()) })
        .collect()
}

/// A page of this tenant's desk to come back to after a form (anything else is the agenda).
fn back_to(fields: &Fields, tenant: &str, fallback: String) -> String {
    let prefix = format!("/admin/t/{tenant}/");
    fields
        .get("back")
        .filter(|b| b.starts_with(&prefix) && !b.contains("//") && !b.chars().any(char::is_control))
        .cloned()
        .unwrap_or(fallback)
}

/// The desk: the viewer's first office's agenda, or (from the office chooser) the chosen one's.
#[handler]
pub async fn desk_home(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Query(params): Query<AgendaParams>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    let overview = web.app.tenant_overview(&visit.session, &tenant).await;
    let overview = overview.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    let Some(first) = overview.offices.first() else {
        return Err(stop(web.admin_failure(&visit, &AppError::NotFound("office"))));
    };
    match overview.offices.iter().find(|o| Some(o.slug.as_str()) == params.office.as_deref()) {
        Some(chosen) => {
            let date = parse_date(params.date.as_deref()).map(|d| format!("?date={d}")).unwrap_or_default();
            Ok(see_other(&format!("/admin/t/{tenant}/desk/{}{date}", chosen.slug)))
        }
        None => web.agenda_page(&visit, request, &tenant, first.slug.as_str(), params).await,
    }
}

#[handler]
pub async fn agenda_page(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Query(params): Query<AgendaParams>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    web.agenda_page(&visit, request, &tenant, &office, params).await
}

impl Web {
    async fn agenda_page(
        &self,
        visit: &StaffVisit,
        request: &Request,
        tenant: &str,
        office: &str,
        params: AgendaParams,
    ) -> Page {
        let web = self;
        let query = AgendaQuery {
            office: office.to_owned(),
            date: parse_date(params.date.as_deref()),
            week: params.week.as_deref() == Some("yes"),
            service: params.service.clone().filter(|s| !s.is_empty()),
            mode: params.mode.as_deref().and_then(Mode::parse),
            status: params.status.as_deref().and_then(BookingStatus::parse),
            search: params.q.clone().filter(|q| !q.trim().is_empty()),
        };
        let agenda =
            web.app.agenda(&visit.session, tenant, &query).await.map_err(|e| stop(web.admin_failure(visit, &e)))?;
        let config = &agenda.tenant.config;
        let locale = visit.locale;
        let tz = agenda.office.timezone;
        let base = format!("/admin/t/{tenant}/desk/{office}");
        let week = agenda.span == Span::Week;
        let step = if week { TimeDelta::days(7) } else { TimeDelta::days(1) };
        let chosen = query.date.unwrap_or(agenda.today);
        let link = |date: NaiveDate, week: bool| format!("{base}?date={date}{}", if week { "&week=yes" } else { "" });
        let mut days: Vec<Day> = Vec::new();
        for entry in &agenda.bookings {
            let local = entry.booking.start.with_timezone(&tz);
            let label = web.staff_date(locale, local.date_naive());
            let row = Row {
                time: local.format("%H:%M").to_string(),
                code: entry.booking.code.to_string(),
                url: format!("/admin/t/{tenant}/bookings/{}", entry.booking.code),
                service: config
                    .service(entry.booking.service.as_str())
                    .map_or_else(|| entry.booking.service.to_string(), |s| s.name.get(locale).to_owned()),
                mode_key: format!("mode-{}", entry.booking.mode.code()),
                contact: entry.contact.clone(),
                name: self.citizen_name(locale, &entry.booking.details.citizen),
                ticket: entry.record.ticket.clone(),
                desk: entry.record.desk.clone(),
                status: entry.booking.status.code(),
                status_key: status_key(entry.booking.status),
                actions: action_buttons(entry),
                undoable: entry.undoable,
                action_url: format!("/admin/t/{tenant}/bookings/{}/actions", entry.booking.code),
            };
            match days.last_mut() {
                Some(day) if day.label == label => day.rows.push(row),
                _ => days.push(Day { label, rows: vec![row] }),
            }
        }
        let choice = |value: &str, label: String, selected: bool| Choice { value: value.to_owned(), label, selected };
        let view = AgendaPage {
            tenant_name: config.name.clone(),
            back: format!("/admin/t/{tenant}/"),
            office_name: agenda.office.name.clone(),
            offices: agenda
                .offices
                .iter()
                .map(|(slug, name)| choice(slug.as_str(), name.clone(), *slug == agenda.office.slug))
                .collect(),
            office_form: format!("/admin/t/{tenant}/desk"),
            filter_action: base.clone(),
            date: chosen.to_string(),
            week,
            title_label: match week {
                true => format!(
                    "{} – {}",
                    web.staff_date(locale, agenda.first_day),
                    web.staff_date(locale, agenda.first_day + TimeDelta::days(6))
                ),
                false => web.staff_date(locale, agenda.first_day),
            },
            previous_url: link(chosen - step, week),
            next_url: link(chosen + step, week),
            today_url: link(agenda.today, week),
            day_url: link(chosen, false),
            week_url: link(chosen, true),
            services: config
                .services
                .iter()
                .filter(|s| agenda.office.services.contains(&s.slug))
                .map(|s| {
                    choice(
                        s.slug.as_str(),
                        s.name.get(locale).to_owned(),
                        query.service.as_deref() == Some(s.slug.as_str()),
                    )
                })
                .collect(),
            modes: agenda
                .office
                .modes
                .iter()
                .map(|m| {
                    choice(
                        m.code(),
                        web.render.text(locale, &format!("mode-{}", m.code()), &[]),
                        query.mode == Some(*m),
                    )
                })
                .collect(),
            statuses: BookingStatus::ALL
                .iter()
                .map(|s| choice(s.code(), web.render.text(locale, &status_key(*s), &[]), query.status == Some(*s)))
                .collect(),
            q: params.q.unwrap_or_default(),
            count: agenda.bookings.len(),
            found_by_code: agenda.found_by_code,
            days,
            back_here: request.uri().path_and_query().map_or_else(|| base.clone(), |p| p.as_str().to_owned()),
            new_booking_url: format!("{base}/new?date={chosen}"),
            queue: QueueBox {
                call_next_action: format!("{base}/next"),
                board_url: format!("/t/{tenant}/board/{office}"),
                desk: super::queue::chosen_desk(request).unwrap_or_default(),
                waiting: agenda.bookings.iter().filter(|b| b.booking.status == BookingStatus::CheckedIn).count(),
                called: params.called.as_deref().and_then(|code| {
                    let called = agenda.bookings.iter().find(|b| b.booking.code.to_string() == code)?;
                    Some(format!("{} → {}", called.record.ticket.as_deref()?, called.record.desk.as_deref()?))
                }),
                nobody_waiting: params.nobody.is_some(),
            },
            can_export: visit.session.member.may(agenda.tenant.id, crate::domain::Role::TenantAdmin).is_ok(),
            export_action: format!("{base}/export"),
            export_from: agenda.first_day.to_string(),
            export_to: (agenda.first_day + TimeDelta::days(if week { 6 } else { 0 })).to_string(),
        };
        Ok(web.staff_page(visit, "admin-desk", StatusCode::OK, &view))
    }
}

impl Web {
    pub(super) fn staff_date(&self, locale: crate::domain::Locale, date: NaiveDate) -> String {
        let weekday = self.render.text(locale, &format!("weekday-{}", date.weekday().number_from_monday()), &[]);
        let month = self.render.text(locale, &format!("month-{}", date.month()), &[]);
        format!("{weekday} {} {month} {}", date.day(), date.year())
    }

    /// The citizen's name, or that it was anonymised.
    fn citizen_name(&self, locale: crate::domain::Locale, citizen: &crate::domain::Citizen) -> String {
        match citizen.is_erased() {
            true => self.render.text(locale, "admin-anonymised", &[]),
            false => format!("{} {}", citizen.first_name(), citizen.last_name()),
        }
    }

    async fn booking_page(
        &self,
        visit: &StaffVisit,
        tenant: &str,
        code: &str,
        failed: Option<(&AppError, String)>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let (snapshot, entry) = self.app.desk_booking(&visit.session, tenant, code).await.map_err(fail)?;
        let locale = visit.locale;
        let config = &snapshot.config;
        let booking = &entry.booking;
        let tz = config.timezone_of(booking.office.as_str());
        let citizen = &booking.details.citizen;
        let service = config.service(booking.service.as_str());
        let mut lines = vec![Line { label_key: "admin-desk-name", value: self.citizen_name(locale, citizen) }];
        if let Some(ticket) = &entry.record.ticket {
            let desk = entry.record.desk.as_deref().map(|d| format!(" → {d}")).unwrap_or_default();
            lines.push(Line { label_key: "admin-queue-ticket", value: format!("{ticket}{desk}") });
        }
        if let Some(email) = citizen.email() {
            lines.push(Line { label_key: "admin-desk-email", value: email.to_string() });
        }
        lines.push(Line {
            label_key: "admin-desk-phone",
            value: citizen.phone().map(ToString::to_string).unwrap_or_default(),
        });
        if let Some(code) = citizen.fiscal_code() {
            lines.push(Line { label_key: "admin-desk-fiscal-code", value: code.to_string() });
        }
        lines.push(Line {
            label_key: "admin-desk-service",
            value: service.map_or_else(|| booking.service.to_string(), |s| s.name.get(locale).to_owned()),
        });
        lines.push(Line {
            label_key: "admin-desk-mode",
            value: self.render.text(locale, &format!("mode-{}", booking.mode.code()), &[]),
        });
        if let Some(contact) = entry.contact.clone() {
            lines.push(Line { label_key: "admin-desk-contact", value: contact });
        }
        lines.push(Line {
            label_key: "admin-desk-channel",
            value: self.render.text(locale, &format!("admin-channel-{}", booking.channel.code()), &[]),
        });
        if let Some(reason) = &booking.details.reason {
            let label = service
                .and_then(|s| s.reasons.iter().find(|r| &r.key == reason))
                .map_or_else(|| reason.clone(), |r| r.label.get(locale).to_owned());
            lines.push(Line { label_key: "admin-desk-reason", value: label });
        }
        if let Some(details) = &booking.details.details {
            lines.push(Line { label_key: "admin-desk-details", value: details.clone() });
        }
        let stamp =
            |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.with_timezone(&tz).format("%H:%M").to_string());
        let desk_times = [
            ("admin-status-checked-in", stamp(entry.record.checked_in_at)),
            ("admin-status-called", stamp(entry.record.called_at)),
            ("admin-status-completed", stamp(entry.record.completed_at)),
        ]
        .into_iter()
        .filter_map(|(label_key, value)| Some(Line { label_key, value: value? }))
        .collect();
        let start = booking.start.with_timezone(&tz);
        let base = format!("/admin/t/{tenant}/bookings/{}", booking.code);
        let refused = failed.is_some();
        let (errors, cancel_reason) = match failed {
            Some((AppError::Invalid(errors), typed)) => (self.field_errors(locale, errors), typed),
            _ => (Default::default(), String::new()),
        };
        let view = BookingPage {
            tenant_name: config.name.clone(),
            agenda_url: format!("/admin/t/{tenant}/desk/{}?date={}", booking.office, start.date_naive()),
            code: booking.code.to_string(),
            status: booking.status.code(),
            status_key: status_key(booking.status),
            when: format!("{} {}", self.staff_date(locale, start.date_naive()), start.format("%H:%M")),
            lines,
            answers: booking
                .details
                .answers
                .iter()
                .map(|(key, value)| {
                    let label = service
                        .and_then(|s| s.fields.iter().find(|f| &f.key == key))
                        .map_or_else(|| key.clone(), |f| f.label.get(locale).to_owned());
                    (label, value.clone())
                })
                .collect(),
            summary: booking.summary.iter().map(|l| (l.label.get(locale).to_owned(), l.value.clone())).collect(),
            desk_times,
            ticket: entry.record.ticket.as_ref().filter(|_| booking.status == BookingStatus::CheckedIn).map(|code| {
                let url = self.app.public_address(&format!("/t/{tenant}/board/{}/ticket/{code}", booking.office));
                TicketBox { code: code.clone(), qr_svg: crate::app::qr_svg(&url, 160).ok(), url }
            }),
            no_email: citizen.email().is_none(),
            note: entry.record.note.clone().unwrap_or_default(),
            actions: action_buttons(&entry),
            undoable: entry.undoable,
            cancellable: entry.cancellable,
            action_url: format!("{base}/actions"),
            note_url: format!("{base}/note"),
            cancel_url: format!("{base}/cancel"),
            send_on: matches!(booking.status, BookingStatus::CheckedIn | BookingStatus::Called).then(|| SendOnBox {
                action: format!("{base}/send-on"),
                services: config
                    .services
                    .iter()
                    .filter(|s| s.active && s.slug != booking.service && s.modes.contains(&Mode::InPerson))
                    .filter(|s| config.office(booking.office.as_str()).is_some_and(|o| o.offers(s)))
                    .map(|s| Choice {
                        value: s.slug.to_string(),
                        label: s.name.get(locale).to_owned(),
                        selected: false,
                    })
                    .collect(),
            }),
            back_here: base,
            errors,
            cancel_reason,
        };
        let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        Ok(self.staff_page(visit, "admin-booking", status, &view))
    }
}

#[handler]
pub async fn booking_page(web: WebData<'_>, request: &Request, Path((tenant, code)): Path<(String, String)>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.booking_page(&visit, &tenant, &code, None).await
}

/// A counter step (or its undo) from the agenda or the booking's page, then back there.
#[handler]
pub async fn booking_action(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, code)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let wanted = fields.get("action").map(String::as_str).unwrap_or_default();
    let done = match (wanted, DeskAction::parse(wanted)) {
        ("undo", _) => web.app.desk_undo(&visit.session, &tenant, &code).await,
        (_, Some(action)) => {
            // A call goes to the desk this browser's operator sits at, when they said.
            let desk = super::queue::chosen_desk(request).filter(|_| action == DeskAction::Call);
            web.app.desk_step(&visit.session, &tenant, &code, (action, desk.as_deref())).await
        }
        // Who may act is settled before what was asked is judged.
        (_, None) => match web.app.tenant_overview(&visit.session, &tenant).await {
            Ok(_) => Err(AppError::field("action", "unknown_action", "Choose a desk step.")),
            Err(error) => Err(error),
        },
    };
    done.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    Ok(see_other(&back_to(&fields, &tenant, format!("/admin/t/{tenant}/bookings/{code}"))))
}

#[handler]
pub async fn booking_note(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, code)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let note = fields.get("note").map(String::as_str).unwrap_or_default();
    match web.app.desk_note(&visit.session, &tenant, &code, note).await {
        Ok(()) => Ok(see_other(&format!("/admin/t/{tenant}/bookings/{code}"))),
        Err(error @ AppError::Invalid(_)) => {
            web.booking_page(&visit, &tenant, &code, Some((&error, String::new()))).await
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}

#[handler]
pub async fn booking_cancel(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, code)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let reason = fields.get("reason").cloned().unwrap_or_default();
    match web.app.desk_cancel(&visit.session, &tenant, &code, &reason).await {
        Ok(_) => Ok(see_other(&format!("/admin/t/{tenant}/bookings/{code}"))),
        Err(error @ AppError::Invalid(_)) => web.booking_page(&visit, &tenant, &code, Some((&error, reason))).await,
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}

/// Sends the citizen on to another service's queue; the new booking's page.
#[handler]
pub async fn booking_send_on(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, code)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let service = fields.get("service").cloned().unwrap_or_default();
    match web.app.send_on(&visit.session, &tenant, &code, &service).await {
        Ok(sent) => Ok(see_other(&format!("/admin/t/{tenant}/bookings/{}", sent.booking.code))),
        Err(error @ AppError::Invalid(_)) => {
            web.booking_page(&visit, &tenant, &code, Some((&error, String::new()))).await
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}
