//! A tenant's services and offices as resources of the admin API, one at a time:
//! `/admin/t/{tenant}/services/{service}` and `/admin/t/{tenant}/offices/{office}`. Each change
//! is a new configuration version, exactly like a `PUT` of the whole configuration.

use std::collections::BTreeMap;

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{AdminApi, AdminTag, ApiResult, Saved, StaffToken, etag, saved};
use crate::app::AppError;
use crate::packs::{ClosureDraft, FieldDraft, IntervalDraft, OfficeDraft, PluginChoice, ReasonDraft, ServiceDraft};

pub struct PartsApi {
    pub admin: AdminApi,
}

/// A service: what a citizen chooses first.
#[derive(Object, Clone)]
pub struct ServiceDocument {
    /// Its name in addresses, e.g. `tributi`; the path's.
    pub slug: String,
    /// By language code, e.g. `{"it": "Tributi", "en": "Local taxes"}`.
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    /// A multiple of the tenant's grid.
    pub duration_minutes: u16,
    /// `in_person`, `skype`, `whatsapp`, `teams`.
    pub modes: Vec<String>,
    /// How long before the appointment booking closes.
    #[oai(default)]
    pub min_notice_hours: u32,
    /// How far ahead it can be booked.
    #[oai(default = "sixty")]
    pub horizon_days: u16,
    #[oai(default)]
    pub fiscal_code_required: bool,
    /// Upcoming bookings one person may hold for it.
    pub max_active_bookings_per_person: Option<u16>,
    /// An inactive service is not offered to citizens.
    #[oai(default = "yes")]
    pub active: bool,
    /// What to bring, by language code, said in the e-mails; `{}` or left out for nothing.
    #[oai(default)]
    pub bring: BTreeMap<String, String>,
    /// The reasons a citizen chooses from; left out, the service keeps its own.
    pub reasons: Option<Vec<ReasonDocument>>,
    /// The questions its booking form asks; left out, the service keeps its own.
    pub fields: Option<Vec<FieldDocument>>,
    /// The tenant's plugin that checks its bookings; `null` for none, left out to keep it.
    pub plugin: MaybeUndefined<PluginBindingDocument>,
}

/// Which plugin checks a service's bookings, and its settings for this service.
#[derive(Object, Clone)]
pub struct PluginBindingDocument {
    /// One of the tenant's plugins (`[[plugins]]`).
    pub id: String,
    /// What the plugin reads as its configuration, e.g. `{"check_holder": true}`; no nulls.
    #[oai(default)]
    pub config: BTreeMap<String, serde_json::Value>,
}

/// A question of the booking form.
#[derive(Object, Clone)]
pub struct FieldDocument {
    pub key: String,
    pub label: BTreeMap<String, String>,
    #[oai(default)]
    pub help: BTreeMap<String, String>,
    /// `text` or `digits`.
    pub kind: String,
    #[oai(default)]
    pub required: bool,
    pub min_length: Option<u16>,
    pub max_length: Option<u16>,
}

/// A reason for an appointment.
#[derive(Object, Clone)]
pub struct ReasonDocument {
    /// Lower-case letters, digits and `_`.
    pub key: String,
    /// By language code.
    pub label: BTreeMap<String, String>,
}

fn sixty() -> u16 {
    60
}

fn yes() -> bool {
    true
}

/// One opening interval of a day.
#[derive(Object, Clone)]
pub struct IntervalDocument {
    /// "08:30"
    pub from: String,
    /// "12:30"
    pub to: String,
    /// How many citizens it serves at once.
    #[oai(default = "one")]
    pub desks: u16,
}

fn one() -> u16 {
    1
}

/// The weekly hours: each day's intervals (a day left out is closed).
#[derive(Object, Clone, Default)]
pub struct WeekDocument {
    #[oai(default)]
    pub mon: Vec<IntervalDocument>,
    #[oai(default)]
    pub tue: Vec<IntervalDocument>,
    #[oai(default)]
    pub wed: Vec<IntervalDocument>,
    #[oai(default)]
    pub thu: Vec<IntervalDocument>,
    #[oai(default)]
    pub fri: Vec<IntervalDocument>,
    #[oai(default)]
    pub sat: Vec<IntervalDocument>,
    #[oai(default)]
    pub sun: Vec<IntervalDocument>,
}

#[derive(Object, Clone)]
pub struct ClosureDocument {
    /// "2026-12-24"
    pub from: String,
    /// The last day closed; without it, only `from`.
    pub to: Option<String>,
    pub reason: String,
}

/// An office: where (or through which video service) citizens are received, and when.
#[derive(Object, Clone)]
pub struct OfficeDocument {
    pub slug: String,
    pub name: String,
    pub address: String,
    /// An IANA zone; without it, the tenant's.
    pub timezone: Option<String>,
    pub modes: Vec<String>,
    /// The services it offers (their slugs).
    pub services: Vec<String>,
    pub hours: WeekDocument,
    #[oai(default)]
    pub closures: Vec<ClosureDocument>,
    /// The local patron saint's day, "MM-DD": closed every year.
    pub patron_saint_day: Option<String>,
    /// Closed on Italy's national holidays.
    #[oai(default = "yes")]
    pub national_holidays: bool,
    /// The office's Teams meeting link, given to citizens and staff for `teams` appointments.
    pub teams_link: Option<String>,
    /// The office's Skype name, given to citizens for `skype` appointments.
    pub skype_contact: Option<String>,
}

impl TryFrom<ServiceDocument> for ServiceDraft {
    type Error = AppError;

    fn try_from(d: ServiceDocument) -> Result<Self, AppError> {
        let plugin = match d.plugin {
            MaybeUndefined::Undefined => PluginChoice::Keep,
            MaybeUndefined::Null => PluginChoice::Without,
            MaybeUndefined::Value(binding) => match toml::Value::try_from(&binding.config) {
                Ok(toml::Value::Table(config)) => PluginChoice::With { id: binding.id, config },
                _ => {
                    let reason = "The plugin's settings are an object of strings, numbers, booleans, lists and objects (no null).";
                    return Err(AppError::field("plugin.config", "invalid_plugin_config", reason));
                }
            },
        };
        Ok(Self {
            slug: d.slug,
            name: d.name,
            description: d.description,
            duration_minutes: d.duration_minutes,
            modes: d.modes,
            min_notice_hours: d.min_notice_hours,
            horizon_days: d.horizon_days,
            fiscal_code_required: d.fiscal_code_required,
            max_active_bookings_per_person: d.max_active_bookings_per_person,
            active: d.active,
            bring: d.bring,
            reasons: d.reasons.map(|r| r.into_iter().map(|r| ReasonDraft { key: r.key, label: r.label }).collect()),
            fields: d.fields.map(|f| {
                f.into_iter()
                    .map(|f| FieldDraft {
                        key: f.key,
                        label: f.label,
                        help: f.help,
                        kind: f.kind,
                        required: f.required,
                        min_length: f.min_length,
                        max_length: f.max_length,
                    })
                    .collect()
            }),
            plugin,
        })
    }
}

impl From<ServiceDraft> for ServiceDocument {
    fn from(d: ServiceDraft) -> Self {
        Self {
            slug: d.slug,
            name: d.name,
            description: d.description,
            duration_minutes: d.duration_minutes,
            modes: d.modes,
            min_notice_hours: d.min_notice_hours,
            horizon_days: d.horizon_days,
            fiscal_code_required: d.fiscal_code_required,
            max_active_bookings_per_person: d.max_active_bookings_per_person,
            active: d.active,
            bring: d.bring,
            reasons: d.reasons.map(|r| r.into_iter().map(|r| ReasonDocument { key: r.key, label: r.label }).collect()),
            fields: d.fields.map(|f| {
                f.into_iter()
                    .map(|f| FieldDocument {
                        key: f.key,
                        label: f.label,
                        help: f.help,
                        kind: f.kind,
                        required: f.required,
                        min_length: f.min_length,
                        max_length: f.max_length,
                    })
                    .collect()
            }),
            plugin: match d.plugin {
                PluginChoice::Keep | PluginChoice::Without => MaybeUndefined::Null,
                PluginChoice::With { id, config } => {
                    let config = config.into_iter().filter_map(|(k, v)| Some((k, serde_json::to_value(v).ok()?)));
                    MaybeUndefined::Value(PluginBindingDocument { id, config: config.collect() })
                }
            },
        }
    }
}

impl From<OfficeDocument> for OfficeDraft {
    fn from(d: OfficeDocument) -> Self {
        let w = d.hours;
        let hours = [w.mon, w.tue, w.wed, w.thu, w.fri, w.sat, w.sun]
            .map(|day| day.into_iter().map(|i| IntervalDraft { from: i.from, to: i.to, desks: i.desks }).collect());
        Self {
            slug: d.slug,
            name: d.name,
            address: d.address,
            timezone: d.timezone,
            modes: d.modes,
            services: d.services,
            hours,
            closures: d
                .closures
                .into_iter()
                .map(|c| ClosureDraft { from: c.from, to: c.to, reason: c.reason })
                .collect(),
            patron_saint_day: d.patron_saint_day,
            national_holidays: d.national_holidays,
            teams_link: d.teams_link,
            skype_contact: d.skype_contact,
        }
    }
}

impl From<OfficeDraft> for OfficeDocument {
    fn from(d: OfficeDraft) -> Self {
        let [mon, tue, wed, thu, fri, sat, sun] = d
            .hours
            .map(|day| day.into_iter().map(|i| IntervalDocument { from: i.from, to: i.to, desks: i.desks }).collect());
        Self {
            slug: d.slug,
            name: d.name,
            address: d.address,
            timezone: d.timezone,
            modes: d.modes,
            services: d.services,
            hours: WeekDocument { mon, tue, wed, thu, fri, sat, sun },
            closures: d
                .closures
                .into_iter()
                .map(|c| ClosureDocument { from: c.from, to: c.to, reason: c.reason })
                .collect(),
            patron_saint_day: d.patron_saint_day,
            national_holidays: d.national_holidays,
            teams_link: d.teams_link,
            skype_contact: d.skype_contact,
        }
    }
}

#[derive(ApiResponse)]
pub enum Services {
    /// Every service, and in `ETag` the configuration version they belong to.
    #[oai(status = 200)]
    Ok(Json<Vec<ServiceDocument>>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum Offices {
    #[oai(status = 200)]
    Ok(Json<Vec<OfficeDocument>>, #[oai(header = "ETag")] String),
}

/// The path names the part: a body naming another is refused rather than guessed at.
fn same_slug(path: &str, body: &str) -> Result<(), AppError> {
    if path == body {
        Ok(())
    } else {
        Err(AppError::field("slug", "slug_mismatch", "The body's slug must be the one in the path."))
    }
}

#[OpenApi(prefix_path = "/admin")]
impl PartsApi {
    /// The tenant's services.
    #[oai(path = "/t/:tenant/services", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn services(&self, request: &poem::Request, auth: StaffToken, tenant: Path<String>) -> ApiResult<Services> {
        let session = self.admin.session(&auth, request).await?;
        let parts = self.admin.app.parts(&session, &tenant).await?;
        Ok(Services::Ok(Json(parts.services.into_iter().map(Into::into).collect()), etag(parts.version)))
    }

    /// Adds or replaces a service; `If-Match` names the configuration version edited (412 if
    /// someone saved since). A change that would strand upcoming bookings answers 409 with them
    /// unless `stranded` says `keep` or `cancel` (with `cancel_reason`).
    #[oai(path = "/t/:tenant/services/:service", method = "put", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn put_service(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        service: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        stranded: Query<Option<String>>,
        cancel_reason: Query<Option<String>>,
        body: Json<ServiceDocument>,
    ) -> ApiResult<Saved> {
        let (session, expected, policy) =
            self.admin.change(request, &auth, &tenant, &version, &stranded, &cancel_reason).await?;
        let parts = self.admin.app.parts(&session, &tenant).await?;
        same_slug(&service, &body.slug)?;
        let original = parts.services.iter().any(|s| s.slug == *service).then_some(service.as_str());
        let draft = ServiceDraft::try_from(body.0)?;
        Ok(saved(self.admin.app.save_service(&session, &tenant, expected, original, &draft, &policy).await?))
    }

    /// Removes a service, and every office's offer of it.
    #[oai(path = "/t/:tenant/services/:service", method = "delete", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn delete_service(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        service: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        stranded: Query<Option<String>>,
        cancel_reason: Query<Option<String>>,
    ) -> ApiResult<Saved> {
        let (session, expected, policy) =
            self.admin.change(request, &auth, &tenant, &version, &stranded, &cancel_reason).await?;
        Ok(saved(self.admin.app.remove_service(&session, &tenant, expected, &service, &policy).await?))
    }

    /// The tenant's offices with their weekly hours and closures.
    #[oai(path = "/t/:tenant/offices", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn offices(&self, request: &poem::Request, auth: StaffToken, tenant: Path<String>) -> ApiResult<Offices> {
        let session = self.admin.session(&auth, request).await?;
        let parts = self.admin.app.parts(&session, &tenant).await?;
        Ok(Offices::Ok(Json(parts.offices.into_iter().map(Into::into).collect()), etag(parts.version)))
    }

    /// Adds or replaces an office (hours and closures whole); as for services, `If-Match` and
    /// the choice for stranded bookings.
    #[oai(path = "/t/:tenant/offices/:office", method = "put", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn put_office(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        office: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        stranded: Query<Option<String>>,
        cancel_reason: Query<Option<String>>,
        body: Json<OfficeDocument>,
    ) -> ApiResult<Saved> {
        let (session, expected, policy) =
            self.admin.change(request, &auth, &tenant, &version, &stranded, &cancel_reason).await?;
        let parts = self.admin.app.parts(&session, &tenant).await?;
        same_slug(&office, &body.slug)?;
        let original = parts.offices.iter().any(|o| o.slug == *office).then_some(office.as_str());
        let draft = OfficeDraft::from(body.0);
        Ok(saved(self.admin.app.save_office(&session, &tenant, expected, original, &draft, &policy).await?))
    }

    /// Removes an office.
    #[oai(path = "/t/:tenant/offices/:office", method = "delete", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn delete_office(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        office: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        stranded: Query<Option<String>>,
        cancel_reason: Query<Option<String>>,
    ) -> ApiResult<Saved> {
        let (session, expected, policy) =
            self.admin.change(request, &auth, &tenant, &version, &stranded, &cancel_reason).await?;
        Ok(saved(self.admin.app.remove_office(&session, &tenant, expected, &office, &policy).await?))
    }
}
