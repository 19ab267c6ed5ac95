//! The public booking API, `/api/v1/t/{tenant}/…`.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi, Tags};
use uuid::Uuid;

use super::dto;
use super::dto::{
    AvailabilityInfo, BookingRequest, BookingView, HoldCreated, LookupRequest, LookupView, OfficeInfo, ProofBody,
    RescheduleRequest, ServiceInfo, SummaryItem, TenantInfo,
};
use super::problem::ProblemResponse;
use crate::app::{
    AppError, AvailabilityRequest, BookingProof, ConfirmRequest, HoldRequest, LookupQuery, ProofBy, Sportello,
    TenantSnapshot,
};
use crate::calendar::{CalendarUse, booking_calendar};
use crate::domain::{Booking, Channel, FieldErrors, OfferKey};
use crate::holds::HoldToken;
use crate::web::client_key;

#[derive(Tags)]
enum Tag {
    /// What a tenant offers, where and when.
    Catalog,
    /// Keeping and booking slots.
    Booking,
}

pub struct PublicApi {
    pub app: Sportello,
    pub options: HttpOptions,
}

/// How the HTTP layer sees its clients.
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpOptions {
    /// Take the client's address from the first `X-Forwarded-For` hop: only behind a reverse
    /// proxy that sets it, or clients could pick their own identity.
    pub trust_forwarded_for: bool,
    /// Serve staff cookies without `Secure`: only when the server is reached over plain http on
    /// purpose (the demo on 127.0.0.1), never in production.
    pub plain_http: bool,
    /// How long a client may take.
    pub patience: super::patience::Patience,
}

impl PublicApi {
    fn view(&self, tenant: &TenantSnapshot, booking: &Booking) -> BookingView {
        BookingView::from(tenant, booking, self.app.manage_token(tenant.id, booking))
    }

    fn client(&self, request: &poem::Request) -> Option<String> {
        client_key(request, self.options.trust_forwarded_for)
    }
}

#[derive(ApiResponse)]
pub enum HoldResponse {
    /// The place is kept until `expires_at`.
    #[oai(status = 201)]
    Created(Json<HoldCreated>),
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
pub enum BookingCreated {
    /// Booked. A retried request with the same `Idempotency-Key` gets the same booking,
    /// marked by `Idempotent-Replayed: true`.
    #[oai(status = 201)]
    Created(Json<BookingView>, #[oai(header = "Idempotent-Replayed")] Option<String>),
}

#[derive(ApiResponse)]
pub enum CalendarFile {
    /// An iCalendar (RFC 5545) file with one event.
    #[oai(status = 200, content_type = "text/calendar; charset=utf-8")]
    Ok(PlainText<String>, #[oai(header = "Content-Disposition")] String),
}

pub(super) type ApiResult<T> = Result<T, ProblemResponse>;

fn invalid(field: &str, code: &'static str, message: &str) -> ProblemResponse {
    let mut errors = FieldErrors::default();
    errors.push(field, code, message);
    AppError::Invalid(errors).into()
}

fn parse_date(field: &str, raw: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    raw.map(|r| {
        NaiveDate::parse_from_str(r, "%Y-%m-%d")
            .map_err(|_| invalid(field, "invalid_date", "Use a date like 2026-12-01."))
    })
    .transpose()
}

/// The proof of a booking: its e-mail address or its manage token, one of the two.
pub(super) fn proof<'a>(
    code: &'a str,
    email: Option<&'a str>,
    token: Option<&'a str>,
    client: Option<&'a str>,
) -> ApiResult<BookingProof<'a>> {
    let by = match (email.map(str::trim).filter(|e| !e.is_empty()), token.map(str::trim).filter(|t| !t.is_empty())) {
        (Some(email), None) => ProofBy::Email(email),
        (None, Some(token)) => ProofBy::Token(token),
        _ => {
            return Err(invalid(
                "proof",
                "proof_required",
                "Give the booking's e-mail address (the Booking-Email header) or its manage_token, one of the two.",
            ));
        }
    };
    Ok(BookingProof { code, by, client })
}

fn parse_uuid(field: &str, raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| invalid(field, "invalid_id", "This is not a valid id."))
}

fn parse_token(field: &str, raw: &str) -> ApiResult<HoldToken> {
    HoldToken::parse(raw.trim())
        .ok_or_else(|| invalid(field, "invalid_token", "Use the hold_token given with the hold (32-128 characters)."))
}

#[OpenApi]
impl PublicApi {
    /// A tenant's public information: name, time zone, languages, branding.
    #[oai(path = "/t/:tenant", method = "get", tag = "Tag::Catalog")]
    async fn tenant(&self, tenant: Path<String>) -> ApiResult<Json<TenantInfo>> {
        Ok(Json(TenantInfo::from(&*self.app.tenant(&tenant).await?)))
    }

    /// The services that can be booked.
    #[oai(path = "/t/:tenant/services", method = "get", tag = "Tag::Catalog")]
    async fn services(&self, tenant: Path<String>) -> ApiResult<Json<Vec<ServiceInfo>>> {
        let tenant = self.app.tenant(&tenant).await?;
        let locales = &tenant.config.locales;
        Ok(Json(tenant.config.services.iter().map(|s| ServiceInfo::from(s, locales)).collect()))
    }

    /// The offices that offer a service, with the modes they offer it in.
    #[oai(path = "/t/:tenant/services/:service/offices", method = "get", tag = "Tag::Catalog")]
    async fn offices(&self, tenant: Path<String>, service: Path<String>) -> ApiResult<Json<Vec<OfficeInfo>>> {
        let tenant = self.app.tenant(&tenant).await?;
        let service = tenant.config.service(&service).ok_or(AppError::NotFound("service"))?;
        Ok(Json(tenant.config.offices_for(service).map(|o| OfficeInfo::from(o, service)).collect()))
    }

    /// Checks one field with the service's rule while the citizen types (e.g. a payment notice).
    #[oai(path = "/t/:tenant/services/:service/lookup", method = "post", tag = "Tag::Catalog")]
    async fn lookup(
        &self,
        tenant: Path<String>,
        service: Path<String>,
        body: Json<LookupRequest>,
        request: &poem::Request,
    ) -> ApiResult<Json<LookupView>> {
        let client = self.client(request);
        let query = LookupQuery {
            service: &service,
            field: &body.field,
            value: &body.value,
            locale: body.locale.as_deref(),
            citizen: &body.citizen,
        };
        let found = self.app.lookup(&tenant, &query, client.as_deref()).await?;
        let summary = found
            .summary
            .iter()
            .map(|s| SummaryItem { label: s.label.get(found.locale).to_owned(), value: s.value.clone() })
            .collect();
        Ok(Json(LookupView { value: found.value, summary }))
    }

    /// Free slots of a service at an office in a mode, day by day (at most 92 days per request).
    #[oai(path = "/t/:tenant/availability", method = "get", tag = "Tag::Catalog")]
    async fn availability(
        &self,
        tenant: Path<String>,
        service: Query<String>,
        office: Query<String>,
        mode: Query<String>,
        /// First day, `YYYY-MM-DD` in the office's zone; defaults to today.
        from: Query<Option<String>>,
        /// Last day (inclusive); defaults to 31 days from `from`.
        to: Query<Option<String>>,
    ) -> ApiResult<Json<AvailabilityInfo>> {
        let offer = OfferKey::parse(&service, &office, &mode).map_err(AppError::from)?;
        let request = AvailabilityRequest {
            offer: &offer,
            from: parse_date("from", from.as_deref())?,
            to: parse_date("to", to.as_deref())?,
        };
        Ok(Json(AvailabilityInfo::from(&self.app.availability(&tenant, request).await?)))
    }

    /// Keeps one place of a slot while the citizen fills in their details.
    #[oai(path = "/t/:tenant/holds", method = "post", tag = "Tag::Booking")]
    async fn place_hold(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        body: Json<dto::HoldRequest>,
    ) -> ApiResult<HoldResponse> {
        let start = DateTime::parse_from_rfc3339(body.start.trim())
            .map_err(|_| {
                invalid("start", "invalid_datetime", "Use an RFC 3339 time such as 2026-12-01T09:00:00+01:00.")
            })?
            .with_timezone(&Utc);
        let id = body.hold_id.as_deref().map(|raw| parse_uuid("hold_id", raw)).transpose()?;
        let token = body.hold_token.as_deref().map(|raw| parse_token("hold_token", raw)).transpose()?;
        let client = self.client(request);
        let offer = OfferKey::parse(&body.service, &body.office, &body.mode).map_err(AppError::from)?;
        let asked = HoldRequest { offer: &offer, start, id, token, client: client.as_deref() };
        let placed = self.app.place_hold(&tenant, asked).await?;
        let tz = placed.timezone();
        let hold = &placed.hold;
        Ok(HoldResponse::Created(Json(HoldCreated {
            hold_id: hold.id.to_string(),
            hold_token: placed.token.as_str().to_owned(),
            expires_at: hold.expires_at.with_timezone(&tz).to_rfc3339(),
            start: hold.start.with_timezone(&tz).to_rfc3339(),
            end: hold.end.with_timezone(&tz).to_rfc3339(),
        })))
    }

    /// Gives a kept place back.
    #[oai(path = "/t/:tenant/holds/:hold_id", method = "delete", tag = "Tag::Booking")]
    async fn release_hold(
        &self,
        tenant: Path<String>,
        hold_id: Path<String>,
        /// The `hold_token` given with the hold.
        #[oai(name = "Hold-Token")]
        hold_token: Header<String>,
    ) -> ApiResult<Deleted> {
        let token = parse_token("Hold-Token", &hold_token)?;
        self.app.release_hold(&tenant, parse_uuid("hold_id", &hold_id)?, &token).await?;
        Ok(Deleted::NoContent)
    }

    /// Confirms a booking for a held slot.
    #[oai(path = "/t/:tenant/bookings", method = "post", tag = "Tag::Booking")]
    async fn book(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        body: Json<BookingRequest>,
        /// Any unique string; a retry with the same key and body returns the first booking.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> ApiResult<BookingCreated> {
        let idempotency = super::dto::idempotency(idempotency_key.0.as_deref(), &body.0)?;
        let confirm = ConfirmRequest {
            hold_id: parse_uuid("hold_id", &body.hold_id)?,
            hold_token: parse_token("hold_token", &body.hold_token)?,
            form: body.form(),
            idempotency,
            client: self.client(request),
            channel: Channel::Api,
        };
        let confirmed = self.app.confirm(&tenant, confirm).await?;
        let replayed = confirmed.replayed.then(|| "true".to_owned());
        Ok(BookingCreated::Created(Json(self.view(&confirmed.tenant, &confirmed.booking)), replayed))
    }

    /// A booking, for whoever knows its code and proves it: the e-mail address it was made with
    /// in the `Booking-Email` header (never in the URL), or its `manage_token`.
    #[oai(path = "/t/:tenant/bookings/:code", method = "get", tag = "Tag::Booking")]
    async fn booking(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        code: Path<String>,
        #[oai(name = "Booking-Email")] email: Header<Option<String>>,
        token: Query<Option<String>>,
    ) -> ApiResult<Json<BookingView>> {
        let client = self.client(request);
        let proof = proof(&code, email.as_deref(), token.as_deref(), client.as_deref())?;
        let (tenant, booking) = self.app.find_booking(&tenant, &proof).await?;
        Ok(Json(self.view(&tenant, &booking)))
    }

    /// Cancels a booking and frees its place.
    #[oai(path = "/t/:tenant/bookings/:code/cancel", method = "post", tag = "Tag::Booking")]
    async fn cancel(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        code: Path<String>,
        body: Json<ProofBody>,
    ) -> ApiResult<Json<BookingView>> {
        let client = self.client(request);
        let proof = proof(&code, body.email.as_deref(), body.token.as_deref(), client.as_deref())?;
        let cancelled = self.app.cancel(&tenant, &proof).await?;
        Ok(Json(self.view(&cancelled.tenant, &cancelled.booking)))
    }

    /// Moves a booking to a newly held slot of the same service, office and mode.
    #[oai(path = "/t/:tenant/bookings/:code/reschedule", method = "post", tag = "Tag::Booking")]
    async fn reschedule(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        code: Path<String>,
        body: Json<RescheduleRequest>,
    ) -> ApiResult<Json<BookingView>> {
        let hold_id = parse_uuid("hold_id", &body.hold_id)?;
        let token = parse_token("hold_token", &body.hold_token)?;
        let client = self.client(request);
        let proof = proof(&code, body.email.as_deref(), body.token.as_deref(), client.as_deref())?;
        let moved = self.app.reschedule(&tenant, &proof, hold_id, &token).await?;
        Ok(Json(self.view(&moved.tenant, &moved.booking)))
    }

    /// The booking as a calendar event, with the same proof as the booking.
    #[oai(path = "/t/:tenant/bookings/:code/calendar.ics", method = "get", tag = "Tag::Booking")]
    async fn calendar(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        code: Path<String>,
        #[oai(name = "Booking-Email")] email: Header<Option<String>>,
        token: Query<Option<String>>,
    ) -> ApiResult<CalendarFile> {
        let client = self.client(request);
        let proof = proof(&code, email.as_deref(), token.as_deref(), client.as_deref())?;
        let (tenant, booking) = self.app.find_booking(&tenant, &proof).await?;
        let disposition = format!("attachment; filename=\"{}.ics\"", booking.code.as_str());
        Ok(CalendarFile::Ok(PlainText(booking_calendar(&tenant.config, &booking, CalendarUse::Download)), disposition))
    }
}
