//! The operator's desk in the admin API: an office's bookings of a day or week, one booking, and
//! the counter's steps on it (the same use cases as the desk pages).

use std::collections::BTreeMap;

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{AdminApi, AdminTag, ApiResult, Done, StaffToken};
use crate::app::{AgendaQuery, AppError, DeskBooking, StaffBooking, StaffSession, When};
use crate::domain::desk::DeskAction;
use crate::domain::{BookingStatus, Channel, Mode, OfferKey};
use crate::http::dto::{CitizenInput, DetailsInput, idempotency};

pub struct DeskApi {
    pub admin: AdminApi,
}

/// A booking as the counter sees it: the citizen's data included (each opening is audited).
#[derive(Object)]
pub struct DeskBookingView {
    pub code: String,
    /// `confirmed`, `checked_in`, `called`, `completed`, `no_show` or `cancelled`.
    pub status: String,
    pub service: String,
    pub office: String,
    pub mode: String,
    pub start: String,
    pub end: String,
    pub first_name: String,
    pub last_name: String,
    /// Absent when the citizen, booked by staff, has no e-mail address.
    pub email: Option<String>,
    pub phone: String,
    pub fiscal_code: Option<String>,
    /// How to reach the citizen for a video call (phone, Skype name, Teams address, Jitsi room).
    pub contact: Option<String>,
    pub answers: std::collections::BTreeMap<String, String>,
    pub reason: Option<String>,
    pub details: Option<String>,
    /// How it was made: `web`, `api`, `counter` or `phone`.
    pub channel: String,
    /// The queue's ticket of the day (given at check-in, e.g. `P017`; `A…` for walk-ins).
    pub ticket: Option<String>,
    /// The desk of the last call.
    pub desk: Option<String>,
    /// When its personal data were anonymised (past the body's retention period); the citizen's
    /// fields are then empty.
    pub anonymised_at: Option<String>,
    pub checked_in_at: Option<String>,
    pub called_at: Option<String>,
    pub completed_at: Option<String>,
    /// The staff's internal note (never shown to the citizen).
    pub note: Option<String>,
    /// The desk steps possible now: `check-in`, `call`, `complete`, `no-show`.
    pub actions: Vec<String>,
    /// Whether the last desk step can still be undone.
    pub undoable: bool,
    pub cancellable: bool,
}

impl From<DeskBooking> for DeskBookingView {
    fn from(entry: DeskBooking) -> Self {
        let b = entry.booking;
        let citizen = &b.details.citizen;
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339());
        Self {
            code: b.code.to_string(),
            status: b.status.code().to_owned(),
            service: b.service.to_string(),
            office: b.office.to_string(),
            mode: b.mode.code().to_owned(),
            start: b.start.to_rfc3339(),
            end: b.end.to_rfc3339(),
            first_name: citizen.first_name().to_owned(),
            last_name: citizen.last_name().to_owned(),
            email: citizen.email().map(ToString::to_string),
            phone: citizen.phone().map(ToString::to_string).unwrap_or_default(),
            fiscal_code: citizen.fiscal_code().map(ToString::to_string),
            contact: entry.contact,
            answers: b.details.answers.clone(),
            reason: b.details.reason.clone(),
            channel: b.channel.code().to_owned(),
            ticket: entry.record.ticket.clone(),
            desk: entry.record.desk.clone(),
            details: b.details.details.clone(),
            anonymised_at: time(b.anonymised_at),
            checked_in_at: time(entry.record.checked_in_at),
            called_at: time(entry.record.called_at),
            completed_at: time(entry.record.completed_at),
            note: entry.record.note,
            actions: entry.actions.iter().map(|a| a.code().to_owned()).collect(),
            undoable: entry.undoable,
            cancellable: entry.cancellable,
        }
    }
}

/// A booking staff make for a citizen at the counter or on the phone.
#[derive(Object, serde::Serialize)]
pub struct StaffBookingRequest {
    pub service: String,
    pub office: String,
    pub mode: String,
    /// The slot's start (RFC 3339). Absent for a walk-in served now: the slot under way if it
    /// has room, else the next free one today.
    pub start: Option<String>,
    /// `counter` (the citizen is at the office) or `phone`.
    pub channel: String,
    /// The e-mail address may be left out for a citizen who has none (then nothing is e-mailed).
    pub citizen: CitizenInput,
    pub contact: Option<String>,
    pub answers: Option<BTreeMap<String, String>>,
    pub reason: Option<String>,
    pub details: Option<String>,
    /// The citizen was given the privacy notice.
    pub privacy_accepted: bool,
    /// The citizen's language, `it` or `en`.
    pub locale: Option<String>,
}

#[derive(ApiResponse)]
pub enum StaffBookingCreated {
    /// Booked. A retried request with the same `Idempotency-Key` gets the same booking, marked by
    /// `Idempotent-Replayed: true`.
    #[oai(status = 201)]
    Created(Json<DeskBookingView>, #[oai(header = "Idempotent-Replayed")] Option<String>),
}

#[derive(ApiResponse)]
pub enum BookingsCsv {
    /// The bookings as CSV (UTF-8, a header row; cells that would run as a spreadsheet formula
    /// start with an apostrophe).
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
        /// `no-store`: citizens' data stays out of caches.
        #[oai(header = "Cache-Control")]
        String,
    ),
}

#[derive(Object)]
pub struct CallNextBody {
    /// Where the citizen goes, e.g. `Sportello 3` (one line, up to 40 characters).
    pub desk: String,
}

#[derive(Object)]
pub struct SendOnBody {
    /// The slug of the service the citizen goes on to (offered in person at the same office).
    pub service: String,
}

#[derive(ApiResponse)]
pub enum SentOn {
    /// The new booking, checked in, with its ticket.
    #[oai(status = 201)]
    Created(Json<DeskBookingView>),
}

#[derive(Object)]
pub struct CancelBody {
    /// Why, on one line: the citizen receives it by e-mail.
    pub reason: String,
}

#[derive(Object)]
pub struct NoteBody {
    /// Up to 1,000 characters; empty removes the note.
    pub note: String,
}

impl DeskApi {
    /// The office named, or the viewer's first.
    async fn office_or_first(
        &self,
        session: &StaffSession,
        tenant: &str,
        office: Option<String>,
    ) -> Result<String, AppError> {
        if let Some(office) = office {
            return Ok(office);
        }
        let overview = self.admin.app.tenant_overview(session, tenant).await?;
        overview.offices.first().map(|o| o.slug.to_string()).ok_or(AppError::NotFound("office"))
    }

    async fn step(
        &self,
        request: &poem::Request,
        auth: &StaffToken,
        (tenant, code): (&str, &str),
        action: (DeskAction, Option<&str>),
    ) -> ApiResult<Json<DeskBookingView>> {
        let session = self.admin.session(auth, request).await?;
        Ok(Json(self.admin.app.desk_step(&session, tenant, code, action).await?.into()))
    }
}

fn parsed<T>(raw: Option<&str>, parse: impl Fn(&str) -> Option<T>, field: &'static str) -> Result<Option<T>, AppError> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => {
            parse(raw).map(Some).ok_or_else(|| AppError::field(field, "invalid", format!("Not a valid {field}.")))
        }
    }
}

#[OpenApi(prefix_path = "/admin")]
impl DeskApi {
    /// An office's bookings of a day (or, with `week=true`, of that day's week), every status,
    /// soonest first; `q` finds a booking by its code (any day) or by part of the name. Operators
    /// see their own offices only.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/t/:tenant/bookings", method = "get", tag = "AdminTag::TenantStaff")]
    async fn agenda(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        /// The office's slug; the viewer's first office by default.
        office: Query<Option<String>>,
        /// `YYYY-MM-DD` in the office's zone; today by default.
        date: Query<Option<String>>,
        week: Query<Option<bool>>,
        service: Query<Option<String>>,
        mode: Query<Option<String>>,
        status: Query<Option<String>>,
        q: Query<Option<String>>,
    ) -> ApiResult<Json<Vec<DeskBookingView>>> {
        let session = self.admin.session(&auth, request).await?;
        let office = self.office_or_first(&session, &tenant, office.0).await?;
        let date = parsed(date.0.as_deref(), |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok(), "date")?;
        let query = AgendaQuery {
            office,
            date,
            week: week.0.unwrap_or(false),
            service: service.0.filter(|s| !s.is_empty()),
            mode: parsed(mode.0.as_deref(), Mode::parse, "mode")?,
            status: parsed(status.0.as_deref(), BookingStatus::parse, "status")?,
            search: q.0.filter(|q| !q.trim().is_empty()),
        };
        let agenda = self.admin.app.agenda(&session, &tenant, &query).await?;
        Ok(Json(agenda.bookings.into_iter().map(Into::into).collect()))
    }

    /// Books for a citizen at the counter (a walk-in) or on the phone, through the citizen's own
    /// path: the same capacity, per-person and plugin rules, without the minimum notice.
    #[oai(path = "/t/:tenant/bookings", method = "post", tag = "AdminTag::TenantStaff")]
    async fn book(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        body: Json<StaffBookingRequest>,
        /// Any unique string; a retry with the same key and body returns the first booking.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> ApiResult<StaffBookingCreated> {
        let session = self.admin.session(&auth, request).await?;
        // Who may book here is settled before what was sent is judged.
        self.admin.app.desk_office(&session, &tenant, &body.office).await?;
        let offer = OfferKey::parse(&body.service, &body.office, &body.mode).map_err(AppError::from)?;
        let when = match body.start.as_deref() {
            None => When::Now,
            Some(raw) => When::At(
                chrono::DateTime::parse_from_rfc3339(raw)
                    .map_err(|_| {
                        AppError::field(
                            "start",
                            "invalid_time",
                            "Use an RFC 3339 time, such as 2026-12-01T09:00:00+01:00.",
                        )
                    })?
                    .to_utc(),
            ),
        };
        let channel = Channel::parse(&body.channel)
            .filter(|c| c.by_staff())
            .ok_or_else(|| AppError::field("channel", "not_staff_channel", "Use 'counter' or 'phone'."))?;
        let input = DetailsInput {
            contact: &body.contact,
            answers: &body.answers,
            reason: &body.reason,
            details: &body.details,
            privacy_accepted: body.privacy_accepted,
            locale: &body.locale,
        };
        let booking = StaffBooking {
            offer,
            when,
            channel,
            form: input.form(&body.citizen),
            idempotency: idempotency(idempotency_key.0.as_deref(), &body.0)?,
        };
        let booked = self.admin.app.book_for_citizen(&session, &tenant, booking).await?;
        let replayed = booked.replayed.then(|| "true".to_owned());
        Ok(StaffBookingCreated::Created(Json(booked.booking.into()), replayed))
    }

    /// An office's bookings (every status) of `from..=to` (at most 92 days, in the office's zone)
    /// as CSV, with the citizens' data: written to the audit log.
    #[oai(path = "/t/:tenant/export/bookings", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn export(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        /// The office's slug; the viewer's first office by default.
        office: Query<Option<String>>,
        /// `YYYY-MM-DD`; today by default.
        from: Query<Option<String>>,
        /// `YYYY-MM-DD`; `from` by default.
        to: Query<Option<String>>,
    ) -> ApiResult<BookingsCsv> {
        let session = self.admin.session(&auth, request).await?;
        let office = self.office_or_first(&session, &tenant, office.0).await?;
        // Who may export is settled before the dates are judged.
        let (_, found) = self.admin.app.desk_office(&session, &tenant, &office).await?;
        let today = self.admin.app.now().with_timezone(&found.timezone).date_naive();
        let from = parsed(from.0.as_deref(), |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok(), "from")?;
        let from = from.unwrap_or(today);
        let to = parsed(to.0.as_deref(), |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok(), "to")?;
        let export = self.admin.app.export_bookings(&session, &tenant, &office, (from, to.unwrap_or(from))).await?;
        let disposition = format!("attachment; filename=\"{}\"", export.file_name);
        Ok(BookingsCsv::Ok(PlainText(export.csv), disposition, "no-store".to_owned()))
    }

    /// One booking with the citizen's data; the opening is written to the audit log.
    #[oai(path = "/t/:tenant/bookings/:code", method = "get", tag = "AdminTag::TenantStaff")]
    async fn booking(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
    ) -> ApiResult<Json<DeskBookingView>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.desk_booking(&session, &tenant, &code).await?.1.into()))
    }

    /// The citizen arrived (on the appointment's day; from `confirmed`).
    #[oai(path = "/t/:tenant/bookings/:code/check-in", method = "post", tag = "AdminTag::TenantStaff")]
    async fn check_in(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
    ) -> ApiResult<Json<DeskBookingView>> {
        self.step(request, &auth, (&tenant, &code), (DeskAction::CheckIn, None)).await
    }

    /// Called to a desk (from `checked_in`, or again from `called`): this very ticket, out of the
    /// queue's order. The display board shows it with `desk`.
    #[oai(path = "/t/:tenant/bookings/:code/call", method = "post", tag = "AdminTag::TenantStaff")]
    async fn call(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
        /// Where the citizen goes, e.g. `Sportello 3` (one line, up to 40 characters).
        desk: Query<Option<String>>,
    ) -> ApiResult<Json<DeskBookingView>> {
        self.step(request, &auth, (&tenant, &code), (DeskAction::Call, desk.0.as_deref())).await
    }

    /// Sends a citizen at the counter (arrived or called, today) on to another service's queue
    /// at the same office: this visit is served, and a walk-in for `service` is booked now
    /// (`409` when it has no place today: nothing changes) and checked in with a new ticket.
    #[oai(path = "/t/:tenant/bookings/:code/send-on", method = "post", tag = "AdminTag::TenantStaff")]
    async fn send_on(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
        body: Json<SendOnBody>,
    ) -> ApiResult<SentOn> {
        let session = self.admin.session(&auth, request).await?;
        let sent = self.admin.app.send_on(&session, &tenant, &code, &body.service).await?;
        Ok(SentOn::Created(Json(sent.into())))
    }

    /// Calls the next waiting citizen of the office to `desk`, by the body's rule: a walk-in
    /// passed over too long, appointments due now, walk-ins by arrival, early comers. `409`
    /// `nobody-waiting` when nobody is checked in and waiting.
    #[oai(path = "/t/:tenant/queue/:office/next", method = "post", tag = "AdminTag::TenantStaff")]
    async fn call_next(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        office: Path<String>,
        body: Json<CallNextBody>,
    ) -> ApiResult<Json<DeskBookingView>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.call_next(&session, &tenant, &office, &body.desk).await?.into()))
    }

    /// Served (from `checked_in` or `called`).
    #[oai(path = "/t/:tenant/bookings/:code/complete", method = "post", tag = "AdminTag::TenantStaff")]
    async fn complete(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
    ) -> ApiResult<Json<DeskBookingView>> {
        self.step(request, &auth, (&tenant, &code), (DeskAction::Complete, None)).await
    }

    /// Nobody came (from `confirmed`, once the appointment's time has come).
    #[oai(path = "/t/:tenant/bookings/:code/no-show", method = "post", tag = "AdminTag::TenantStaff")]
    async fn no_show(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
    ) -> ApiResult<Json<DeskBookingView>> {
        self.step(request, &auth, (&tenant, &code), (DeskAction::NoShow, None)).await
    }

    /// Undoes the booking's last desk step, within five minutes of it.
    #[oai(path = "/t/:tenant/bookings/:code/undo", method = "post", tag = "AdminTag::TenantStaff")]
    async fn undo(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
    ) -> ApiResult<Json<DeskBookingView>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.desk_undo(&session, &tenant, &code).await?.into()))
    }

    /// Cancels the booking on the office's side; the citizen is told by e-mail, with the reason.
    #[oai(path = "/t/:tenant/bookings/:code/cancel", method = "post", tag = "AdminTag::TenantStaff")]
    async fn cancel(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
        body: Json<CancelBody>,
    ) -> ApiResult<Json<DeskBookingView>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.desk_cancel(&session, &tenant, &code, &body.reason).await?.into()))
    }

    /// Sets the staff's internal note (empty removes it).
    #[oai(path = "/t/:tenant/bookings/:code/note", method = "put", tag = "AdminTag::TenantStaff")]
    async fn note(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        code: Path<String>,
        body: Json<NoteBody>,
    ) -> ApiResult<Done> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.desk_note(&session, &tenant, &code, &body.note).await?;
        Ok(Done::NoContent)
    }
}
