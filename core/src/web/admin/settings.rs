//! The tenant's own settings (name, zone, languages, branding, privacy notice, hold, limits) and
//! its logo: a form for the settings, an upload for the logo.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};
use serde::Serialize;

use super::edits::{EditState, saved_page, version_field};
use super::services::number;
use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::AppError;
use crate::domain::FieldErrors;
use crate::packs::{LimitsDraft, MAX_LOGO_BYTES, MailDraft, SettingsDraft};
use crate::web::Web;

/// The form's fields as typed.
#[derive(Serialize, Default)]
struct SettingsForm {
    name: String,
    display_name: String,
    timezone: String,
    default_locale: String,
    both_locales: bool,
    /// The hold is shown in seconds when the tenant set it so (a click day), else in minutes.
    in_seconds: bool,
    hold: String,
    privacy_notice_version: String,
    privacy_notice_it: String,
    privacy_notice_en: String,
    require_two_factor: bool,
    publish_open_data: bool,
    retention_days: String,
    primary_color: String,
    secondary_color: String,
    contacts: String,
    privacy_notice_url: String,
    accessibility_url: String,
    holds_per_client: String,
    holds_per_minute: String,
    bookings_per_minute: String,
    lookups_per_minute: String,
    sender_name: String,
    sender_address: String,
    reply_to: String,
    reminder_hours: String,
    jitsi_server: String,
}

fn shown<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl SettingsForm {
    fn of(d: &SettingsDraft) -> Self {
        let l = &d.limits;
        Self {
            name: d.name.clone(),
            display_name: shown(d.display_name.as_ref()),
            timezone: d.timezone.clone(),
            default_locale: d.locales.first().cloned().unwrap_or_else(|| "it".into()),
            both_locales: d.locales.len() > 1,
            in_seconds: d.hold_seconds.is_some(),
            hold: d.hold_seconds.map_or_else(|| shown(d.hold_minutes), |s| s.to_string()),
            privacy_notice_version: d.privacy_notice_version.clone(),
            privacy_notice_it: d.privacy_notice.get("it").cloned().unwrap_or_default(),
            privacy_notice_en: d.privacy_notice.get("en").cloned().unwrap_or_default(),
            require_two_factor: d.require_two_factor,
            publish_open_data: d.publish_open_data,
            retention_days: shown(d.retention_days),
            primary_color: d.primary_color.clone(),
            secondary_color: shown(d.secondary_color.as_ref()),
            contacts: shown(d.contacts.as_ref()),
            privacy_notice_url: shown(d.privacy_notice_url.as_ref()),
            accessibility_url: shown(d.accessibility_url.as_ref()),
            holds_per_client: shown(l.holds_per_client),
            holds_per_minute: shown(l.holds_per_minute),
            bookings_per_minute: shown(l.bookings_per_minute),
            lookups_per_minute: shown(l.lookups_per_minute),
            sender_name: shown(d.mail.sender_name.as_ref()),
            sender_address: shown(d.mail.sender_address.as_ref()),
            reply_to: shown(d.mail.reply_to.as_ref()),
            reminder_hours: shown(d.mail.reminder_hours),
            jitsi_server: shown(d.jitsi_server.as_ref()),
        }
    }

    fn sent(fields: &Fields) -> Self {
        let one = |name: &str| fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            name: one("name"),
            display_name: one("display_name"),
            timezone: one("timezone"),
            default_locale: one("default_locale"),
            both_locales: fields.contains_key("both_locales"),
            in_seconds: fields.contains_key("hold_seconds"),
            hold: if fields.contains_key("hold_seconds") { one("hold_seconds") } else { one("hold_minutes") },
            privacy_notice_version: one("privacy_notice_version"),
            privacy_notice_it: one("privacy_notice_it"),
            privacy_notice_en: one("privacy_notice_en"),
            require_two_factor: fields.contains_key("require_two_factor"),
            publish_open_data: fields.contains_key("publish_open_data"),
            retention_days: one("retention_days"),
            primary_color: one("primary_color"),
            secondary_color: one("secondary_color"),
            contacts: one("contacts"),
            privacy_notice_url: one("privacy_notice_url"),
            accessibility_url: one("accessibility_url"),
            holds_per_client: one("holds_per_client"),
            holds_per_minute: one("holds_per_minute"),
            bookings_per_minute: one("bookings_per_minute"),
            lookups_per_minute: one("lookups_per_minute"),
            sender_name: one("sender_name"),
            sender_address: one("sender_address"),
            reply_to: one("reply_to"),
            reminder_hours: one("reminder_hours"),
            jitsi_server: one("jitsi_server"),
        }
    }

    fn draft(&self) -> Result<SettingsDraft, AppError> {
        let mut errors = FieldErrors::default();
        let mut optional = |field: &str, raw: &str| match raw {
            "" => None,
            raw => Some(number::<u32>(&mut errors, field, raw)),
        };
        let limits = LimitsDraft {
            holds_per_client: optional("holds_per_client", &self.holds_per_client),
            holds_per_minute: optional("holds_per_minute", &self.holds_per_minute),
            bookings_per_minute: optional("bookings_per_minute", &self.bookings_per_minute),
            lookups_per_minute: optional("lookups_per_minute", &self.lookups_per_minute),
        };
        let hold = optional(if self.in_seconds { "hold_seconds" } else { "hold_minutes" }, &self.hold);
        let reminder_hours =
            optional("reminder_hours", &self.reminder_hours).map(|h| u16::try_from(h).unwrap_or(u16::MAX));
        let retention_days =
            optional("retention_days", &self.retention_days).map(|d| u16::try_from(d).unwrap_or(u16::MAX));
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let other = if self.default_locale == "en" { "it" } else { "en" };
        let mut locales = vec![self.default_locale.clone()];
        if self.both_locales {
            locales.push(other.to_owned());
        }
        let text = |t: &str| Some(t.to_owned()).filter(|t| !t.is_empty());
        Ok(SettingsDraft {
            name: self.name.clone(),
            timezone: self.timezone.clone(),
            locales,
            hold_minutes: if self.in_seconds { None } else { hold.map(|m| u16::try_from(m).unwrap_or(u16::MAX)) },
            hold_seconds: if self.in_seconds { hold } else { None },
            privacy_notice_version: self.privacy_notice_version.clone(),
            privacy_notice: [("it", &self.privacy_notice_it), ("en", &self.privacy_notice_en)]
                .into_iter()
                .filter(|(_, words)| !words.is_empty())
                .map(|(code, words)| (code.to_owned(), words.clone()))
                .collect(),
            require_two_factor: self.require_two_factor,
            publish_open_data: self.publish_open_data,
            retention_days,
            display_name: text(&self.display_name),
            primary_color: self.primary_color.clone(),
            secondary_color: text(&self.secondary_color),
            contacts: text(&self.contacts),
            privacy_notice_url: text(&self.privacy_notice_url),
            accessibility_url: text(&self.accessibility_url),
            limits,
            jitsi_server: text(&self.jitsi_server),
            mail: MailDraft {
                sender_name: text(&self.sender_name),
                sender_address: text(&self.sender_address),
                reply_to: text(&self.reply_to),
                reminder_hours,
            },
        })
    }
}

/// The form's fields that errors can name.
const FIELDS: [&str; 26] = [
    "privacy_notice",
    "privacy_notice_it",
    "privacy_notice_en",
    "name",
    "display_name",
    "timezone",
    "locales",
    "hold_minutes",
    "hold_seconds",
    "privacy_notice_version",
    "retention_days",
    "primary_color",
    "secondary_color",
    "contacts",
    "privacy_notice_url",
    "accessibility_url",
    "holds_per_client",
    "holds_per_minute",
    "bookings_per_minute",
    "lookups_per_minute",
    "sender_name",
    "sender_address",
    "reply_to",
    "reminder_hours",
    "jitsi_server",
    "logo",
];

/// A configuration key (`branding.primary_color`, `limits.holds_per_minute`, `locales[1]`) as
/// the form field it comes from.
fn field_of(key: &str) -> Option<String> {
    if let Some(code) = key.strip_prefix("privacy_notice.") {
        return Some(format!("privacy_notice_{code}"));
    }
    let key = key.split('[').next().unwrap_or(key);
    let field = key.rsplit('.').next().unwrap_or(key);
    FIELDS.contains(&field).then(|| field.to_owned())
}

#[derive(Serialize)]
struct SettingsPage {
    tenant_name: String,
    back: String,
    action: String,
    logo_action: String,
    logo_removal_action: String,
    /// Where the logo in force is shown, if there is one.
    logo_url: Option<String>,
    max_logo_kib: usize,
    /// Where the open data is published when switched on.
    open_data_url: String,
    #[serde(flatten)]
    form: SettingsForm,
    #[serde(flatten)]
    state: EditState,
}

impl Web {
    async fn settings_page(
        &self,
        visit: &StaffVisit,
        tenant: &str,
        status: StatusCode,
        form: Option<SettingsForm>,
        state: Option<EditState>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let view = self.app.settings(&visit.session, tenant).await.map_err(fail)?;
        let base = format!("/admin/t/{tenant}");
        let page = SettingsPage {
            tenant_name: view.settings.name.clone(),
            back: format!("{base}/configuration"),
            action: format!("{base}/settings"),
            logo_action: format!("{base}/logo"),
            logo_removal_action: format!("{base}/logo/removal"),
            // The version in the address, so that a new logo is never an old one from a cache.
            logo_url: view.has_logo.then(|| format!("/api/v1/t/{tenant}/logo?v={}", view.version)),
            max_logo_kib: MAX_LOGO_BYTES / 1024,
            open_data_url: format!("/api/v1/t/{tenant}/open-data/availability"),
            form: form.unwrap_or_else(|| SettingsForm::of(&view.settings)),
            state: state.unwrap_or_else(|| EditState { version: view.version, ..EditState::default() }),
        };
        Ok(self.staff_page(visit, "admin-settings", status, &page))
    }

    async fn refused_settings(&self, visit: &StaffVisit, tenant: &str, state: EditState, error: AppError) -> Page {
        let (status, state) = self.refused_edit(visit, error, state, field_of)?;
        self.settings_page(visit, tenant, status, None, Some(state)).await
    }
}

#[handler]
pub async fn settings_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.settings_page(&visit, &tenant, StatusCode::OK, None, None).await
}

#[handler]
pub async fn save_settings(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let form = SettingsForm::sent(&fields);
    let mut state = EditState::sent(&fields);
    let saved = match (web.strand_choice(&visit, &fields, &mut state), form.draft()) {
        (Ok(policy), Ok(draft)) => {
            web.app.save_settings(&visit.session, &tenant, version_field(&fields), &draft, &policy).await
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    match saved {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => {
            let (status, state) = web.refused_edit(&visit, error, state, field_of)?;
            web.settings_page(&visit, &tenant, status, Some(form), Some(state)).await
        }
    }
}

#[handler]
pub async fn upload_logo(web: WebData<'_>, request: &Request, Path(tenant): Path<String>, body: poem::Body) -> Page {
    let (visit, fields, logo) = web.upload_form(request, &tenant, body, "logo").await?;
    let state = EditState::sent(&fields);
    let uploaded = if logo.is_empty() {
        Err(AppError::field("logo", "logo_missing", "Choose an image file."))
    } else {
        web.app.upload_logo(&visit.session, &tenant, version_field(&fields), logo).await
    };
    match uploaded {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => web.refused_settings(&visit, &tenant, state, error).await,
    }
}

#[handler]
pub async fn remove_logo(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let state = EditState::sent(&fields);
    match web.app.remove_logo(&visit.session, &tenant, version_field(&fields)).await {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => web.refused_settings(&visit, &tenant, state, error).await,
    }
}
