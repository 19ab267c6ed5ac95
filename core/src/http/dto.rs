//! The API's JSON shapes, and their mapping from domain values.

use std::collections::BTreeMap;

use poem_openapi::Object;

use crate::app::{AppError, Availability, TenantSnapshot};
use crate::domain::catalog::{FieldKind, MAX_DETAILS_CHARS};
use crate::domain::{Booking, DetailsForm, Locale, Localized, Office, Service};

/// Text in each of the tenant's languages, keyed by language code.
pub type Texts = BTreeMap<String, String>;

fn texts(text: &Localized, locales: &[Locale]) -> Texts {
    locales.iter().filter(|l| text.has(**l)).map(|l| (l.code().to_owned(), text.get(*l).to_owned())).collect()
}

#[derive(Object)]
pub struct Branding {
    pub display_name: String,
    pub primary_color: String,
    pub secondary_color: Option<String>,
    /// Where the logo is served, if the tenant has one.
    pub logo_url: Option<String>,
}

#[derive(Object)]
pub struct TenantInfo {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    /// The first is the default language.
    pub locales: Vec<String>,
    pub branding: Branding,
    /// How long a hold keeps its place, in whole minutes (rounded up)…
    pub hold_minutes: u32,
    /// …and exactly.
    pub hold_seconds: u32,
    pub privacy_notice_version: String,
}

impl TenantInfo {
    pub fn from(tenant: &TenantSnapshot) -> Self {
        let c = &tenant.config;
        Self {
            slug: c.slug.to_string(),
            name: c.name.clone(),
            timezone: c.timezone.name().to_owned(),
            locales: c.locales.iter().map(|l| l.code().to_owned()).collect(),
            branding: Branding {
                display_name: c.branding.display_name.clone(),
                primary_color: c.branding.primary_color.clone(),
                secondary_color: c.branding.secondary_color.clone(),
                logo_url: tenant.logo.as_ref().map(|_| format!("/api/v1/t/{}/logo", c.slug)),
            },
            hold_minutes: c.hold_seconds.div_ceil(60),
            hold_seconds: c.hold_seconds,
            privacy_notice_version: c.privacy_notice_version.clone(),
        }
    }
}

#[derive(Object)]
pub struct FieldInfo {
    pub key: String,
    pub label: Texts,
    pub help: Option<Texts>,
    /// `text` or `digits`.
    pub kind: String,
    pub required: bool,
    pub min_length: Option<u16>,
    pub max_length: u16,
}

#[derive(Object)]
pub struct ReasonInfo {
    pub key: String,
    pub label: Texts,
}

#[derive(Object)]
pub struct ServiceInfo {
    pub slug: String,
    pub name: Texts,
    pub description: Texts,
    pub duration_minutes: u16,
    pub modes: Vec<String>,
    pub min_notice_hours: u32,
    pub horizon_days: u16,
    pub fiscal_code_required: bool,
    pub fields: Vec<FieldInfo>,
    /// When not empty, a booking must name one of these reasons.
    pub reasons: Vec<ReasonInfo>,
    pub details_max_length: u16,
    /// An inactive service is listed but cannot be booked.
    pub active: bool,
}

impl ServiceInfo {
    pub fn from(service: &Service, locales: &[Locale]) -> Self {
        Self {
            slug: service.slug.to_string(),
            name: texts(&service.name, locales),
            description: texts(&service.description, locales),
            duration_minutes: service.duration_minutes,
            modes: service.modes.iter().map(|m| m.code().to_owned()).collect(),
            min_notice_hours: service.min_notice_hours,
            horizon_days: service.horizon_days,
            fiscal_code_required: service.fiscal_code_required,
            fields: service
                .fields
                .iter()
                .map(|f| {
                    let (kind, min_length, max_length) = match f.kind {
                        FieldKind::Text { max_length } => ("text", None, max_length),
                        FieldKind::Digits { min_length, max_length } => ("digits", Some(min_length), max_length),
                    };
                    FieldInfo {
                        key: f.key.clone(),
                        label: texts(&f.label, locales),
                        help: f.help.as_ref().map(|h| texts(h, locales)),
                        kind: kind.to_owned(),
                        required: f.required,
                        min_length,
                        max_length,
                    }
                })
                .collect(),
            reasons: service
                .reasons
                .iter()
                .map(|r| ReasonInfo { key: r.key.clone(), label: texts(&r.label, locales) })
                .collect(),
            details_max_length: MAX_DETAILS_CHARS as u16,
            active: service.active,
        }
    }
}

#[derive(Object)]
pub struct OfficeInfo {
    pub slug: String,
    pub name: String,
    pub address: String,
    pub timezone: String,
    /// Modes in which this office delivers the service.
    pub modes: Vec<String>,
}

impl OfficeInfo {
    pub fn from(office: &Office, service: &Service) -> Self {
        Self {
            slug: office.slug.to_string(),
            name: office.name.clone(),
            address: office.address.clone(),
            timezone: office.timezone.name().to_owned(),
            modes: office.modes_for(service).iter().map(|m| m.code().to_owned()).collect(),
        }
    }
}

#[derive(Object)]
pub struct SlotInfo {
    /// RFC 3339 with the office's UTC offset.
    pub start: String,
    pub end: String,
    pub remaining: u32,
}

#[derive(Object)]
pub struct DayInfo {
    pub date: String,
    pub slots: Vec<SlotInfo>,
}

#[derive(Object)]
pub struct AvailabilityInfo {
    pub timezone: String,
    /// The last date that can be booked now.
    pub horizon_end: String,
    /// Only days with free slots are listed.
    pub days: Vec<DayInfo>,
}

impl AvailabilityInfo {
    pub fn from(availability: &Availability) -> Self {
        let tz = availability.timezone;
        Self {
            timezone: tz.name().to_owned(),
            horizon_end: availability.horizon_end.to_string(),
            days: availability
                .days
                .iter()
                .map(|d| DayInfo {
                    date: d.date.to_string(),
                    slots: d
                        .slots
                        .iter()
                        .map(|s| SlotInfo {
                            start: s.start.with_timezone(&tz).to_rfc3339(),
                            end: s.end.with_timezone(&tz).to_rfc3339(),
                            remaining: s.remaining,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Object)]
pub struct HoldRequest {
    pub service: String,
    pub office: String,
    pub mode: String,
    /// The slot's start, RFC 3339 (any offset).
    pub start: String,
    /// Optional: a UUID chosen by the client. Sending the same request again with the same id
    /// (and `hold_token`) returns the same hold instead of taking a second place.
    pub hold_id: Option<String>,
    /// Optional: the client's own secret for the hold (32-128 characters of `A-Z a-z 0-9 - _`),
    /// so that a retry whose answer was lost still proves it is the hold's owner. One is made
    /// when absent.
    pub hold_token: Option<String>,
}

#[derive(Object)]
pub struct HoldCreated {
    pub hold_id: String,
    /// The hold's secret: confirming, moving or releasing the hold needs it. Keep it private.
    pub hold_token: String,
    pub expires_at: String,
    pub start: String,
    pub end: String,
}

#[derive(Object, serde::Serialize)]
pub struct CitizenInput {
    pub first_name: String,
    pub last_name: String,
    /// Required when the citizen books; staff may leave it out for a citizen who has none.
    pub email: Option<String>,
    pub phone: String,
    pub fiscal_code: Option<String>,
}

#[derive(Object, serde::Serialize)]
pub struct BookingRequest {
    pub hold_id: String,
    /// The `hold_token` given with the hold.
    pub hold_token: String,
    pub citizen: CitizenInput,
    /// The mode's contact: WhatsApp number, Skype name or Teams e-mail.
    pub contact: Option<String>,
    /// Answers to the service's extra fields, by key.
    pub answers: Option<BTreeMap<String, String>>,
    /// The key of one of the service's reasons, when it lists any.
    pub reason: Option<String>,
    /// Free text, up to 200 characters.
    pub details: Option<String>,
    pub privacy_accepted: bool,
    /// `it` or `en`; defaults to the tenant's first language.
    pub locale: Option<String>,
}

impl BookingRequest {
    pub fn form(&self) -> DetailsForm {
        self.details_form().form(&self.citizen)
    }

    fn details_form(&self) -> DetailsInput<'_> {
        DetailsInput {
            contact: &self.contact,
            answers: &self.answers,
            reason: &self.reason,
            details: &self.details,
            privacy_accepted: self.privacy_accepted,
            locale: &self.locale,
        }
    }
}

/// What a booking request says besides its place and its citizen (a citizen's or staff's).
pub struct DetailsInput<'a> {
    pub contact: &'a Option<String>,
    pub answers: &'a Option<BTreeMap<String, String>>,
    pub reason: &'a Option<String>,
    pub details: &'a Option<String>,
    pub privacy_accepted: bool,
    pub locale: &'a Option<String>,
}

impl DetailsInput<'_> {
    pub fn form(&self, citizen: &CitizenInput) -> DetailsForm {
        DetailsForm {
            first_name: citizen.first_name.clone(),
            last_name: citizen.last_name.clone(),
            email: citizen.email.clone().unwrap_or_default(),
            phone: citizen.phone.clone(),
            fiscal_code: citizen.fiscal_code.clone(),
            contact: self.contact.clone(),
            answers: self.answers.clone().unwrap_or_default(),
            reason: self.reason.clone(),
            details: self.details.clone(),
            privacy_accepted: self.privacy_accepted,
            locale: self.locale.clone(),
        }
    }
}

/// The `Idempotency-Key` header with a digest of the request's body, for `ConfirmRequest`.
pub fn idempotency(key: Option<&str>, body: &impl serde::Serialize) -> Result<Option<(String, String)>, AppError> {
    use sha2::Digest;
    match key.map(str::trim) {
        None => Ok(None),
        Some(key) if key.is_empty() || key.len() > 255 => {
            Err(AppError::field("Idempotency-Key", "invalid_key", "Use 1-255 characters."))
        }
        Some(key) => {
            let json = serde_json::to_string(body).unwrap_or_default();
            Ok(Some((key.to_owned(), format!("{:x}", sha2::Sha256::digest(json.as_bytes())))))
        }
    }
}

#[derive(Object)]
pub struct ProofBody {
    /// The e-mail address the booking was made with…
    pub email: Option<String>,
    /// …or its `manage_token`.
    pub token: Option<String>,
}

#[derive(Object)]
pub struct RescheduleRequest {
    /// The e-mail address the booking was made with, or its `manage_token`.
    pub email: Option<String>,
    pub token: Option<String>,
    pub hold_id: String,
    /// The `hold_token` given with the hold.
    pub hold_token: String,
}

#[derive(Object)]
pub struct NamedRef {
    pub slug: String,
    pub name: String,
}

#[derive(Object)]
pub struct OfficeRef {
    pub slug: String,
    pub name: String,
    pub address: String,
}

#[derive(Object)]
pub struct CitizenView {
    pub first_name: String,
    pub last_name: String,
    /// Absent only when staff booked a citizen who has no e-mail address.
    pub email: Option<String>,
    pub phone: String,
    pub fiscal_code: Option<String>,
}

#[derive(Object)]
pub struct LookupRequest {
    /// The field being checked, e.g. `notice_number`.
    pub field: String,
    pub value: String,
    /// `it` or `en`, for the messages; defaults to the tenant's first language.
    pub locale: Option<String>,
    /// Citizen fields the rule compares the value with, by code (e.g. `{"fiscal_code": "…"}`:
    /// a notice's details show only to its holder); only fields the service's rule uses.
    #[oai(default)]
    pub citizen: BTreeMap<String, String>,
}

#[derive(Object)]
pub struct LookupView {
    /// The value as the rule normalised it.
    pub value: Option<String>,
    pub summary: Vec<SummaryItem>,
}

#[derive(Object)]
pub struct SummaryItem {
    pub label: String,
    pub value: String,
}

#[derive(Object)]
pub struct BookingView {
    /// Show it as `ABCD-EFGH`; it is accepted with or without the dash.
    pub code: String,
    pub status: String,
    pub service: NamedRef,
    pub office: OfficeRef,
    pub mode: String,
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub citizen: CitizenView,
    pub contact: Option<String>,
    /// The video call's own address (a `jitsi` booking's room), for the citizen and the office.
    pub call_link: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub reason: Option<String>,
    pub details: Option<String>,
    pub locale: String,
    pub privacy_notice_version: String,
    /// What the service's rule reported (e.g. a notice's amount and due date), in the booking's language.
    pub summary: Vec<SummaryItem>,
    pub created_at: String,
    pub updated_at: String,
    /// When its personal data were anonymised (past the body's retention period); the citizen's
    /// fields are then empty.
    pub anonymised_at: Option<String>,
    /// Proves the booking instead of the e-mail address (`?token=`, or `token` in a body), until 30
    /// days after it; the citizen's page is `/t/{tenant}/b/{manage_token}`.
    pub manage_token: String,
}

impl BookingView {
    pub fn from(tenant: &TenantSnapshot, b: &Booking, manage_token: String) -> Self {
        let config = &tenant.config;
        let tz = b.timezone;
        let locale = b.details.locale;
        let service_name =
            config.service(b.service.as_str()).map_or_else(|| b.service.to_string(), |s| s.name.get(locale).to_owned());
        let office = config.office(b.office.as_str());
        let citizen = &b.details.citizen;
        Self {
            code: b.code.to_string(),
            status: b.status.code().to_owned(),
            service: NamedRef { slug: b.service.to_string(), name: service_name },
            office: OfficeRef {
                slug: b.office.to_string(),
                name: office.map_or_else(|| b.office.to_string(), |o| o.name.clone()),
                address: office.map(|o| o.address.clone()).unwrap_or_default(),
            },
            mode: b.mode.code().to_owned(),
            start: b.start.with_timezone(&tz).to_rfc3339(),
            end: b.end.with_timezone(&tz).to_rfc3339(),
            timezone: tz.name().to_owned(),
            citizen: CitizenView {
                first_name: citizen.first_name().to_owned(),
                last_name: citizen.last_name().to_owned(),
                email: citizen.email().map(ToString::to_string),
                phone: citizen.phone().map(ToString::to_string).unwrap_or_default(),
                fiscal_code: citizen.fiscal_code().as_ref().map(ToString::to_string),
            },
            contact: b.details.contact.as_str().map(str::to_owned),
            call_link: config.call_link(b.office.as_str(), &b.details.contact),
            answers: b.details.answers.clone(),
            reason: b.details.reason.clone(),
            details: b.details.details.clone(),
            locale: locale.code().to_owned(),
            privacy_notice_version: b.privacy_version.clone(),
            summary: b
                .summary
                .iter()
                .map(|s| SummaryItem { label: s.label.get(locale).to_owned(), value: s.value.clone() })
                .collect(),
            created_at: b.created_at.with_timezone(&tz).to_rfc3339(),
            updated_at: b.updated_at.with_timezone(&tz).to_rfc3339(),
            anonymised_at: b.anonymised_at.map(|t| t.with_timezone(&tz).to_rfc3339()),
            manage_token,
        }
    }
}
