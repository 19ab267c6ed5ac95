//! A tenant's own settings and its logo as resources of the admin API:
//! `/admin/t/{tenant}/settings` and `/admin/t/{tenant}/logo`. Each change is a new version. Also
//! the record of processing the settings and the configuration make (`/admin/t/{tenant}/processing`).

use std::collections::BTreeMap;

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{AdminApi, AdminTag, ApiResult, Saved, StaffToken, etag, if_match, saved};
use crate::domain::Role;
use crate::packs::{LimitsDraft, MailDraft, SettingsDraft};

pub struct SettingsApi {
    pub admin: AdminApi,
}

/// The tenant-wide settings. Absent optional texts take their defaults (the display name is the
/// name; no contacts, no links).
#[derive(Object, Clone)]
pub struct SettingsDocument {
    pub name: String,
    /// An IANA zone, e.g. `Europe/Rome`: offices without their own zone keep hours in it.
    pub timezone: String,
    /// Language codes (`it`, `en`), the default first.
    pub locales: Vec<String>,
    /// How long a place is held while the citizen types, in minutes (1-60)...
    pub hold_minutes: Option<u16>,
    /// ...or in seconds (10-3600), for a click day; not both.
    pub hold_seconds: Option<u32>,
    /// The version of the privacy notice citizens accept (recorded on each booking); a new text
    /// needs a new version.
    pub privacy_notice_version: String,
    /// The privacy notice's text by language code (paragraphs separated by a blank line); `{}`
    /// for none (only the link). Left out: as it is.
    pub privacy_notice: Option<BTreeMap<String, String>>,
    /// The body's staff must sign in with a second factor (API keys excepted). Left out: as it is.
    pub require_two_factor: Option<bool>,
    /// Publish open data (per office and service: the next free date, the average wait) at
    /// `/api/v1/t/{tenant}/open-data/availability`. Left out: as it is.
    pub publish_open_data: Option<bool>,
    /// Days after an appointment the citizen's personal data are kept, then anonymised (1-3650;
    /// default 90). Left out: as it is.
    pub retention_days: Option<u16>,
    pub display_name: Option<String>,
    /// `#rrggbb`
    pub primary_color: String,
    pub secondary_color: Option<String>,
    pub contacts: Option<String>,
    pub privacy_notice_url: Option<String>,
    pub accessibility_url: Option<String>,
    #[oai(default)]
    pub limits: LimitsDocument,
    /// How the body's e-mails go out. Left out: as it is.
    pub mail: Option<MailDocument>,
    /// The https:// address of the Jitsi server of `jitsi` video calls (default https://meet.jit.si).
    pub jitsi_server: Option<String>,
}

/// How the body's e-mails go out; absent keys take the defaults.
#[derive(Object, Clone, Default)]
pub struct MailDocument {
    /// The name in `From` (default: the display name).
    pub sender_name: Option<String>,
    /// Its own `From` address, used only where the platform may send for its domain.
    pub sender_address: Option<String>,
    /// Where citizens' replies go.
    pub reply_to: Option<String>,
    /// Hours before the appointment for the reminder (default 48; 0: none; at most 336).
    pub reminder_hours: Option<u16>,
}

impl From<MailDraft> for MailDocument {
    fn from(m: MailDraft) -> Self {
        Self {
            sender_name: m.sender_name,
            sender_address: m.sender_address,
            reply_to: m.reply_to,
            reminder_hours: m.reminder_hours,
        }
    }
}

impl From<MailDocument> for MailDraft {
    fn from(m: MailDocument) -> Self {
        Self {
            sender_name: m.sender_name,
            sender_address: m.sender_address,
            reply_to: m.reply_to,
            reminder_hours: m.reminder_hours,
        }
    }
}

/// Anti-hoarding limits; absent takes the platform default, 0 switches one off.
#[derive(Object, Clone, Default)]
pub struct LimitsDocument {
    /// Live holds one client may keep.
    pub holds_per_client: Option<u32>,
    pub holds_per_minute: Option<u32>,
    pub bookings_per_minute: Option<u32>,
    pub lookups_per_minute: Option<u32>,
}

impl SettingsDocument {
    /// The draft it makes; what it leaves out stays as in `current`.
    fn into_draft(self, current: SettingsDraft) -> SettingsDraft {
        let d = self;
        let l = d.limits;
        SettingsDraft {
            name: d.name,
            timezone: d.timezone,
            locales: d.locales,
            hold_minutes: d.hold_minutes,
            hold_seconds: d.hold_seconds,
            privacy_notice_version: d.privacy_notice_version,
            privacy_notice: d.privacy_notice.unwrap_or(current.privacy_notice),
            require_two_factor: d.require_two_factor.unwrap_or(current.require_two_factor),
            publish_open_data: d.publish_open_data.unwrap_or(current.publish_open_data),
            retention_days: d.retention_days.or(current.retention_days),
            display_name: d.display_name,
            primary_color: d.primary_color,
            secondary_color: d.secondary_color,
            contacts: d.contacts,
            privacy_notice_url: d.privacy_notice_url,
            accessibility_url: d.accessibility_url,
            limits: LimitsDraft {
                holds_per_client: l.holds_per_client,
                holds_per_minute: l.holds_per_minute,
                bookings_per_minute: l.bookings_per_minute,
                lookups_per_minute: l.lookups_per_minute,
            },
            mail: d.mail.map_or(current.mail, MailDraft::from),
            jitsi_server: d.jitsi_server,
        }
    }
}

impl From<SettingsDraft> for SettingsDocument {
    fn from(d: SettingsDraft) -> Self {
        let l = d.limits;
        Self {
            name: d.name,
            timezone: d.timezone,
            locales: d.locales,
            hold_minutes: d.hold_minutes,
            hold_seconds: d.hold_seconds,
            privacy_notice_version: d.privacy_notice_version,
            privacy_notice: Some(d.privacy_notice),
            require_two_factor: Some(d.require_two_factor),
            publish_open_data: Some(d.publish_open_data),
            retention_days: d.retention_days,
            display_name: d.display_name,
            primary_color: d.primary_color,
            secondary_color: d.secondary_color,
            contacts: d.contacts,
            privacy_notice_url: d.privacy_notice_url,
            accessibility_url: d.accessibility_url,
            limits: LimitsDocument {
                holds_per_client: l.holds_per_client,
                holds_per_minute: l.holds_per_minute,
                bookings_per_minute: l.bookings_per_minute,
                lookups_per_minute: l.lookups_per_minute,
            },
            mail: Some(d.mail.into()),
            jitsi_server: d.jitsi_server,
        }
    }
}

#[derive(ApiResponse)]
pub enum Settings {
    /// The settings, and in `ETag` the configuration version.
    #[oai(status = 200)]
    Ok(Json<SettingsDocument>, #[oai(header = "ETag")] String),
}

#[OpenApi(prefix_path = "/admin")]
impl SettingsApi {
    /// The body's record of processing (GDPR art. 30), generated from its configuration now:
    /// controller, purpose, legal basis, retention, per service the data collected (by code:
    /// `first_name`, `last_name`, `email`, `phone`, `fiscal_code`, `contact.<mode>`, `reason`,
    /// `details`) and its questions, the data each plugin receives, and the recipients (webhooks,
    /// video-call services).
    #[oai(path = "/t/:tenant/processing", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn processing(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Json<serde_json::Value>> {
        let session = self.admin.session(&auth, request).await?;
        let record = self.admin.app.record_of_processing(&session, &tenant).await?;
        let record = serde_json::to_value(record)
            .map_err(|e| crate::app::AppError::Internal(format!("record of processing: {e}")))?;
        Ok(Json(record))
    }

    /// The tenant-wide settings: name, zone, languages, branding, privacy notice, hold, limits.
    #[oai(path = "/t/:tenant/settings", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn settings(&self, request: &poem::Request, auth: StaffToken, tenant: Path<String>) -> ApiResult<Settings> {
        let session = self.admin.session(&auth, request).await?;
        let view = self.admin.app.settings(&session, &tenant).await?;
        Ok(Settings::Ok(Json(view.settings.into()), etag(view.version)))
    }

    /// Replaces the settings; `If-Match`, and the choice for bookings a new zone would strand.
    #[oai(path = "/t/:tenant/settings", method = "put", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn put_settings(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        stranded: Query<Option<String>>,
        cancel_reason: Query<Option<String>>,
        body: Json<SettingsDocument>,
    ) -> ApiResult<Saved> {
        let (session, expected, policy) =
            self.admin.change(request, &auth, &tenant, &version, &stranded, &cancel_reason).await?;
        let current = self.admin.app.settings(&session, &tenant).await?.settings;
        let draft = body.0.into_draft(current);
        Ok(saved(self.admin.app.save_settings(&session, &tenant, expected, &draft, &policy).await?))
    }

    /// Replaces the logo with the body: a PNG, JPEG, WebP or SVG image of at most 512 KiB, judged
    /// by its content. An SVG with scripts, event handlers, animations or references outside
    /// itself is refused (422); a larger body is refused before it is read whole (413).
    #[oai(path = "/t/:tenant/logo", method = "put", tag = "AdminTag::TenantAdmin")]
    async fn put_logo(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        body: Binary<Vec<u8>>,
    ) -> ApiResult<Saved> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.tenant_for(&session, &tenant, Role::TenantAdmin).await?;
        let expected = if_match(version.0.as_deref())?;
        Ok(saved(self.admin.app.upload_logo(&session, &tenant, expected, body.0).await?))
    }

    /// Removes the logo.
    #[oai(path = "/t/:tenant/logo", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn delete_logo(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
    ) -> ApiResult<Saved> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.tenant_for(&session, &tenant, Role::TenantAdmin).await?;
        let expected = if_match(version.0.as_deref())?;
        Ok(saved(self.admin.app.remove_logo(&session, &tenant, expected).await?))
    }
}
