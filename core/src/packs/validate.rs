//! From `tenant.toml` text to a consistent `TenantConfig`, or the first precise error.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, TimeDelta};
use chrono_tz::Tz;

use super::file::{
    AccessibilityFile, FieldFile, HoursFile, IntervalFile, LocalizedFile, OfficeFile, PackFile, ServiceFile,
};
use super::{MANIFEST, PackError};
use crate::domain::catalog::{
    CitizenField, DEFAULT_JITSI_SERVER, DEFAULT_REMINDER_HOURS, Limits, MAX_HORIZON_DAYS, MAX_PLUGIN_FUEL,
    MAX_REMINDER_HOURS, MailSettings, PluginSpec, Reason, ServicePlugin,
};
use crate::domain::queue::QueueSettings;
use crate::domain::schedule::ScheduleError;
use crate::domain::text::single_line;
use crate::domain::{
    AccessibilityStatement, Assessment, Branding, Closure, Conformance, Email, FieldKind, FieldSpec, HolidayPolicy,
    Locale, Localized, Mode, Office, OpeningInterval, Service, SkypeName, Slug, TenantConfig, WeeklyHours,
};

const GRIDS: [u16; 6] = [5, 10, 15, 20, 30, 60];

fn err(key: impl Into<String>, reason: impl Into<String>) -> PackError {
    PackError::new(MANIFEST, key, reason)
}

/// A place is kept ten minutes while the citizen types, unless the pack says otherwise.
const DEFAULT_HOLD_SECONDS: u32 = 600;
/// Personal data are kept this many days after the appointment unless the body says otherwise.
pub const DEFAULT_RETENTION_DAYS: u16 = 90;
/// From a day (the appointment is over) to ten years.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u16> = 1..=3650;

/// Parses and validates a pack manifest.
pub fn parse_config(text: &str) -> Result<TenantConfig, PackError> {
    let file: PackFile = toml::from_str(text).map_err(|e| {
        let key = e.span().map_or_else(|| "(syntax)".to_owned(), |span| line_of(text, span.start));
        err(key, e.message().to_owned())
    })?;
    let slug = parse_slug("slug", &file.slug)?;
    let name = single_line(&file.name, 200).ok_or_else(|| err("name", "must be one line of 1-200 characters"))?;
    let timezone = parse_tz("timezone", &file.timezone)?;
    let locales = parse_locales(&file.locales)?;
    let default_locale = locales.first().copied().ok_or_else(|| err("locales", "list at least one language"))?;
    let retention_days = match file.retention_days {
        None => DEFAULT_RETENTION_DAYS,
        Some(days) if RETENTION_DAYS.contains(&days) => days,
        Some(_) => return Err(err("retention_days", "must be between 1 and 3650 days")),
    };
    let hold_seconds = match (file.hold_minutes, file.hold_seconds) {
        (Some(_), Some(_)) => return Err(err("hold_seconds", "set hold_minutes or hold_seconds, not both")),
        (Some(minutes), None) if (1..=60).contains(&minutes) => u32::from(minutes) * 60,
        (Some(_), None) => return Err(err("hold_minutes", "must be between 1 and 60")),
        (None, Some(seconds)) if (10..=3600).contains(&seconds) => seconds,
        (None, Some(_)) => return Err(err("hold_seconds", "must be between 10 and 3600")),
        (None, None) => DEFAULT_HOLD_SECONDS,
    };
    if !GRIDS.contains(&file.grid_minutes) {
        return Err(err("grid_minutes", format!("must be one of {GRIDS:?}")));
    }
    let privacy_notice_version = single_line(&file.privacy_notice_version, 64)
        .ok_or_else(|| err("privacy_notice_version", "must be one line of 1-64 characters"))?;
    let privacy_notice =
        file.privacy_notice.as_ref().map(|texts| parse_notice("privacy_notice", texts, default_locale)).transpose()?;
    let branding = Branding {
        display_name: match &file.branding.display_name {
            Some(d) => single_line(d, 200)
                .ok_or_else(|| err("branding.display_name", "must be one line of 1-200 characters"))?,
            None => name.clone(),
        },
        primary_color: parse_color("branding.primary_color", &file.branding.primary_color)?,
        secondary_color: file
            .branding
            .secondary_color
            .as_deref()
            .map(|c| parse_color("branding.secondary_color", c))
            .transpose()?,
        logo: file.branding.logo.clone(),
        contacts: file
            .branding
            .contacts
            .as_deref()
            .map(|c| {
                single_line(c, 300).ok_or_else(|| err("branding.contacts", "must be one line of 1-300 characters"))
            })
            .transpose()?,
        privacy_notice_url: file
            .branding
            .privacy_notice_url
            .as_deref()
            .map(|u| parse_url("branding.privacy_notice_url", u))
            .transpose()?,
        accessibility_url: file
            .branding
            .accessibility_url
            .as_deref()
            .map(|u| parse_url("branding.accessibility_url", u))
            .transpose()?,
    };
    let mut plugins: Vec<PluginSpec> = Vec::new();
    for (index, plugin) in file.plugins.iter().enumerate() {
        let parsed = parse_plugin(&format!("plugins[{index}]"), plugin)?;
        if plugins.iter().any(|p| p.id == parsed.id) {
            return Err(err(format!("plugins[{index}].id"), format!("{:?} is used twice", plugin.id)));
        }
        plugins.push(parsed);
    }
    let mut datasets: Vec<(Slug, String)> = Vec::new();
    for (index, dataset) in file.datasets.iter().enumerate() {
        let name = parse_slug(&format!("datasets[{index}].name"), &dataset.name)?;
        let plain = dataset
            .file
            .strip_prefix("datasets/")
            .is_some_and(|f| f.ends_with(".csv") && !f.contains(['/', '\\']) && !f.starts_with('.'));
        if !plain {
            return Err(err(
                format!("datasets[{index}].file"),
                format!("{:?} must be a .csv file in the pack's datasets/ folder", dataset.file),
            ));
        }
        if datasets.iter().any(|(n, _)| *n == name) {
            return Err(err(format!("datasets[{index}].name"), format!("{:?} is used twice", dataset.name)));
        }
        datasets.push((name, dataset.file.clone()));
    }
    let mut services = Vec::new();
    for (index, service) in file.services.iter().enumerate() {
        let mut parsed = parse_service(&format!("services[{index}]"), service, file.grid_minutes, default_locale)?;
        parsed.plugin = match &service.plugin {
            None => None,
            Some(id) => {
                if !plugins.iter().any(|p| p.id.as_str() == id) {
                    return Err(err(
                        format!("services[{index}].plugin"),
                        format!("{id:?} is not a plugin of this pack (see [[plugins]])"),
                    ));
                }
                let config = service.plugin_config.clone().unwrap_or_default();
                let config_json = serde_json::to_string(&config)
                    .map_err(|e| err(format!("services[{index}].plugin_config"), e.to_string()))?;
                Some(ServicePlugin { id: parse_slug(&format!("services[{index}].plugin"), id)?, config_json })
            }
        };
        parsed.check_first = parse_check_first(&format!("services[{index}]"), service, &parsed)?;
        if services.iter().any(|s: &Service| s.slug == parsed.slug) {
            return Err(err(format!("services[{index}].slug"), format!("{:?} is used twice", service.slug)));
        }
        services.push(parsed);
    }
    let mut offices = Vec::new();
    for (index, office) in file.offices.iter().enumerate() {
        let parsed = parse_office(&format!("offices[{index}]"), office, timezone, file.grid_minutes, &services)?;
        if offices.iter().any(|o: &Office| o.slug == parsed.slug) {
            return Err(err(format!("offices[{index}].slug"), format!("{:?} is used twice", office.slug)));
        }
        offices.push(parsed);
    }
    Ok(TenantConfig {
        slug,
        name,
        timezone,
        locales,
        branding,
        hold_seconds,
        grid_minutes: file.grid_minutes,
        privacy_notice_version,
        privacy_notice,
        limits: parse_limits(&file.limits)?,
        mail: parse_mail(&file.mail)?,
        queue: parse_queue(&file.queue)?,
        jitsi_server: match file.jitsi_server.as_deref().map(str::trim) {
            None => DEFAULT_JITSI_SERVER.to_owned(),
            Some(server) => {
                let bare = server.trim_end_matches('/');
                let host = bare.strip_prefix("https://").unwrap_or_default();
                if host.is_empty() || host.contains(['/', '?', '#']) || parse_url("jitsi_server", bare).is_err() {
                    return Err(err(
                        "jitsi_server",
                        "must be the https:// address of a Jitsi server, e.g. https://meet.jit.si",
                    ));
                }
                bare.to_owned()
            }
        },
        require_two_factor: file.require_two_factor,
        publish_open_data: file.publish_open_data,
        retention_days,
        accessibility: file.accessibility.as_ref().map(|a| parse_accessibility(a, default_locale)).transpose()?,
        plugins,
        datasets,
        services,
        offices,
    })
}

/// "line N" for a byte offset, so a syntax error points at the line.
fn line_of(text: &str, offset: usize) -> String {
    let line = text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1);
    format!("line {line}")
}

fn parse_slug(key: &str, raw: &str) -> Result<Slug, PackError> {
    Slug::parse(raw).map_err(|e| err(key, format!("{raw:?} {e}")))
}

fn parse_tz(key: &str, raw: &str) -> Result<Tz, PackError> {
    raw.parse().map_err(|_| err(key, format!("{raw:?} is not an IANA time zone such as \"Europe/Rome\"")))
}

fn parse_locales(raw: &[String]) -> Result<Vec<Locale>, PackError> {
    let mut locales = Vec::new();
    for (i, code) in raw.iter().enumerate() {
        let locale = Locale::parse(code)
            .ok_or_else(|| err(format!("locales[{i}]"), format!("{code:?} is not supported (use \"it\" or \"en\")")))?;
        if locales.contains(&locale) {
            return Err(err(format!("locales[{i}]"), format!("{code:?} is listed twice")));
        }
        locales.push(locale);
    }
    if locales.is_empty() {
        return Err(err("locales", "list at least one language; the first is the default"));
    }
    Ok(locales)
}

fn parse_color(key: &str, raw: &str) -> Result<String, PackError> {
    let hex = raw.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(err(key, format!("{raw:?} must be a colour like \"#0066cc\"")))
    }
}

/// An absolute https URL, or a path on this server.
fn parse_url(key: &str, raw: &str) -> Result<String, PackError> {
    let ok = (raw.starts_with("https://") || raw.starts_with('/'))
        && raw.len() <= 500
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(err(key, format!("{raw:?} must be an https:// address or a path starting with /")))
    }
}

/// The longest text of what is not accessible, per language.
const MAX_NON_ACCESSIBLE_CHARS: usize = 4_000;

fn parse_accessibility(file: &AccessibilityFile, required: Locale) -> Result<AccessibilityStatement, PackError> {
    let key = |field: &str| format!("accessibility.{field}");
    let date = |field: &str, raw: &str| {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map_err(|_| err(key(field), format!("{raw:?} must be a date like \"2026-09-30\"")))
    };
    let conformance = Conformance::parse(file.conformance.trim())
        .ok_or_else(|| err(key("conformance"), "must be \"full\", \"partial\" or \"none\""))?;
    let non_accessible = file
        .non_accessible
        .as_ref()
        .filter(|texts| texts.values().any(|t| !t.trim().is_empty()))
        .map(|texts| {
            let plain = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
            if let Some((code, _)) = texts.iter().find(|(_, text)| !text.chars().all(plain)) {
                return Err(err(format!("{}.{code}", key("non_accessible")), "must be plain text"));
            }
            parse_localized(&key("non_accessible"), texts, required, MAX_NON_ACCESSIBLE_CHARS)
        })
        .transpose()?;
    if conformance != Conformance::Full && non_accessible.is_none() {
        return Err(err(key("non_accessible"), "say what is not accessible and why, unless the pages fully conform"));
    }
    let prepared_on = date("prepared_on", &file.prepared_on)?;
    let reviewed_on = file.reviewed_on.as_deref().map(|d| date("reviewed_on", d)).transpose()?;
    if reviewed_on.is_some_and(|reviewed| reviewed < prepared_on) {
        return Err(err(key("reviewed_on"), "cannot be before the statement was drawn up"));
    }
    Ok(AccessibilityStatement {
        conformance,
        non_accessible,
        prepared_on,
        reviewed_on,
        method: Assessment::parse(file.method.trim())
            .ok_or_else(|| err(key("method"), "must be \"self\" or \"third_party\""))?,
        feedback_email: Email::parse(file.feedback_email.trim())
            .ok_or_else(|| err(key("feedback_email"), "must be an e-mail address"))?,
    })
}

/// The longest privacy notice, per language.
const MAX_NOTICE_CHARS: usize = 20_000;

/// A text of several paragraphs: lines and tabs, but no other control characters.
fn parse_notice(key: &str, raw: &LocalizedFile, required: Locale) -> Result<Localized, PackError> {
    let plain = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    if let Some((code, _)) = raw.iter().find(|(_, text)| !text.chars().all(plain)) {
        return Err(err(format!("{key}.{code}"), "must be plain text (no control characters)"));
    }
    parse_localized(key, raw, required, MAX_NOTICE_CHARS)
}

fn parse_localized(key: &str, raw: &LocalizedFile, required: Locale, max: usize) -> Result<Localized, PackError> {
    let mut texts = BTreeMap::new();
    for (code, text) in raw {
        let locale = Locale::parse(code)
            .ok_or_else(|| err(format!("{key}.{code}"), "unsupported language (use \"it\" or \"en\")"))?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > max {
            return Err(err(format!("{key}.{code}"), format!("must be 1-{max} characters")));
        }
        texts.insert(locale, text.to_owned());
    }
    let localized = Localized::new(texts).ok_or_else(|| err(key, "give at least one translation"))?;
    if !localized.has(required) {
        return Err(err(key, format!("needs a \"{}\" text (the tenant's default language)", required.code())));
    }
    Ok(localized)
}

fn parse_modes(key: &str, raw: &[String]) -> Result<Vec<Mode>, PackError> {
    let mut modes = Vec::new();
    for (i, code) in raw.iter().enumerate() {
        let mode = Mode::parse(code).ok_or_else(|| {
            err(format!("{key}[{i}]"), format!("{code:?} is not a mode (in_person, skype, whatsapp, teams, jitsi)"))
        })?;
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    if modes.is_empty() {
        return Err(err(key, "list at least one mode"));
    }
    Ok(modes)
}

fn parse_service(key: &str, raw: &ServiceFile, grid: u16, default_locale: Locale) -> Result<Service, PackError> {
    let slug = parse_slug(&format!("{key}.slug"), &raw.slug)?;
    let duration = raw.duration_minutes;
    if duration == 0 || duration > 480 || !duration.is_multiple_of(grid) {
        return Err(err(
            format!("{key}.duration_minutes"),
            format!("must be a multiple of grid_minutes ({grid}) up to 480"),
        ));
    }
    if !(1..=MAX_HORIZON_DAYS).contains(&raw.horizon_days) {
        return Err(err(format!("{key}.horizon_days"), format!("must be between 1 and {MAX_HORIZON_DAYS}")));
    }
    if raw.min_notice_hours > 24 * 90 {
        return Err(err(format!("{key}.min_notice_hours"), "must be at most 2160 (90 days)"));
    }
    let mut fields = Vec::new();
    for (i, field) in raw.fields.iter().enumerate() {
        let parsed = parse_field(&format!("{key}.fields[{i}]"), field, default_locale)?;
        if fields.iter().any(|f: &FieldSpec| f.key == parsed.key) {
            return Err(err(format!("{key}.fields[{i}].key"), format!("{:?} is used twice", field.key)));
        }
        fields.push(parsed);
    }
    let mut reasons = Vec::new();
    for (i, reason) in raw.reasons.iter().enumerate() {
        let reason_key = format!("{key}.reasons[{i}]");
        if !is_field_key(&reason.key) || reasons.iter().any(|r: &Reason| r.key == reason.key) {
            return Err(err(format!("{reason_key}.key"), "must be unique, lower-case letters, digits and '_'"));
        }
        reasons.push(Reason {
            key: reason.key.clone(),
            label: parse_localized(&format!("{reason_key}.label"), &reason.label, default_locale, 200)?,
        });
    }
    Ok(Service {
        slug,
        name: parse_localized(&format!("{key}.name"), &raw.name, default_locale, 200)?,
        description: parse_localized(&format!("{key}.description"), &raw.description, default_locale, 2000)?,
        duration_minutes: duration,
        modes: parse_modes(&format!("{key}.modes"), &raw.modes)?,
        min_notice_hours: raw.min_notice_hours,
        horizon_days: raw.horizon_days,
        fiscal_code_required: raw.fiscal_code_required,
        fields,
        reasons,
        active: raw.active,
        bring: raw
            .bring
            .as_ref()
            .map(|b| parse_localized(&format!("{key}.bring"), b, default_locale, 500))
            .transpose()?,
        plugin: None,
        check_first: Vec::new(),
        max_active_bookings_per_person: match raw.max_active_bookings_per_person {
            Some(0) => {
                return Err(err(
                    format!("{key}.max_active_bookings_per_person"),
                    "must be at least 1 (leave it out for no limit)",
                ));
            }
            other => other,
        },
    })
}

/// The fields checked before the calendar: the service's own, by its rule.
fn parse_check_first(key: &str, raw: &super::file::ServiceFile, service: &Service) -> Result<Vec<String>, PackError> {
    let key = format!("{key}.check_first");
    if !raw.check_first.is_empty() && service.plugin.is_none() {
        return Err(err(key, "needs the service's plugin, which checks these fields"));
    }
    let mut keys: Vec<String> = Vec::new();
    for field in &raw.check_first {
        if !service.fields.iter().any(|f| &f.key == field) {
            return Err(err(key, format!("{field:?} is not one of the service's fields")));
        }
        if keys.contains(field) {
            return Err(err(key, format!("{field:?} is listed twice")));
        }
        keys.push(field.clone());
    }
    Ok(keys)
}

fn parse_plugin(key: &str, raw: &super::file::PluginFile) -> Result<PluginSpec, PackError> {
    let id = parse_slug(&format!("{key}.id"), &raw.id)?;
    let name = raw.file.strip_prefix("plugins/").unwrap_or_default();
    let plain = !name.is_empty() && name.ends_with(".wasm") && !name.contains(['/', '\\']) && !name.starts_with('.');
    if !plain {
        return Err(err(
            format!("{key}.file"),
            format!("{:?} must be a .wasm file in the pack's plugins/ folder", raw.file),
        ));
    }
    if raw.fuel.is_some_and(|f| f == 0 || f > MAX_PLUGIN_FUEL) {
        return Err(err(format!("{key}.fuel"), format!("must be between 1 and {MAX_PLUGIN_FUEL}")));
    }
    let mut citizen_fields = Vec::new();
    for (i, field) in raw.citizen_fields.iter().enumerate() {
        let parsed = CitizenField::ALL.into_iter().find(|f| f.code() == field).ok_or_else(|| {
            err(
                format!("{key}.citizen_fields[{i}]"),
                format!("{field:?} is not one of first_name, last_name, email, phone, fiscal_code"),
            )
        })?;
        citizen_fields.push(parsed);
    }
    Ok(PluginSpec { id, file: raw.file.clone(), fuel: raw.fuel, citizen_fields })
}

fn parse_mail(raw: &super::file::MailFile) -> Result<MailSettings, PackError> {
    let address = |key: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|a| Email::parse(a).ok_or_else(|| err(format!("mail.{key}"), "must be an e-mail address")))
            .transpose()
    };
    let reminder_hours = raw.reminder_hours.unwrap_or(DEFAULT_REMINDER_HOURS);
    if reminder_hours > MAX_REMINDER_HOURS {
        return Err(err("mail.reminder_hours", format!("must be at most {MAX_REMINDER_HOURS} (0: no reminder)")));
    }
    Ok(MailSettings {
        sender_name: raw
            .sender_name
            .as_deref()
            .map(|n| single_line(n, 100).ok_or_else(|| err("mail.sender_name", "must be one line of 1-100 characters")))
            .transpose()?,
        sender_address: address("sender_address", &raw.sender_address)?,
        reply_to: address("reply_to", &raw.reply_to)?,
        reminder_hours,
    })
}

fn parse_queue(raw: &super::file::QueueFile) -> Result<QueueSettings, PackError> {
    let defaults = QueueSettings::default();
    let letter = |key: &str, value: &Option<String>, default: char| match value.as_deref() {
        None => Ok(default),
        Some(raw) => {
            let mut chars = raw.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_uppercase() => Ok(c),
                _ => Err(err(format!("queue.{key}"), "must be one capital letter, e.g. \"P\"")),
            }
        }
    };
    let minutes = |key: &str, value: Option<u16>, default: TimeDelta| match value {
        None => Ok(default),
        Some(m) if m <= 240 => Ok(TimeDelta::minutes(i64::from(m))),
        Some(_) => Err(err(format!("queue.{key}"), "must be at most 240 minutes")),
    };
    let settings = QueueSettings {
        appointment_prefix: letter("appointment_prefix", &raw.appointment_prefix, defaults.appointment_prefix)?,
        walk_in_prefix: letter("walk_in_prefix", &raw.walk_in_prefix, defaults.walk_in_prefix)?,
        due_within: minutes("due_within_minutes", raw.due_within_minutes, defaults.due_within)?,
        walk_in_cap: minutes("walk_in_cap_minutes", raw.walk_in_cap_minutes, defaults.walk_in_cap)?,
    };
    if settings.appointment_prefix == settings.walk_in_prefix {
        return Err(err("queue.walk_in_prefix", "must differ from the appointments' prefix"));
    }
    Ok(settings)
}

fn parse_limits(raw: &super::file::LimitsFile) -> Result<Limits, PackError> {
    let defaults = Limits::default();
    let pick = |key: &str, value: Option<u32>, default: u32| match value {
        Some(v) if v > 10_000 => Err(err(format!("limits.{key}"), "must be at most 10000 (0 switches it off)")),
        Some(v) => Ok(v),
        None => Ok(default),
    };
    Ok(Limits {
        holds_per_client: pick("holds_per_client", raw.holds_per_client, defaults.holds_per_client)?,
        holds_per_minute: pick("holds_per_minute", raw.holds_per_minute, defaults.holds_per_minute)?,
        bookings_per_minute: pick("bookings_per_minute", raw.bookings_per_minute, defaults.bookings_per_minute)?,
        lookups_per_minute: pick("lookups_per_minute", raw.lookups_per_minute, defaults.lookups_per_minute)?,
    })
}

fn is_field_key(key: &str) -> bool {
    key.len() <= 63
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn parse_field(key: &str, raw: &FieldFile, default_locale: Locale) -> Result<FieldSpec, PackError> {
    if !is_field_key(&raw.key) {
        return Err(err(
            format!("{key}.key"),
            format!("{:?} must be lower-case letters, digits and '_', starting with a letter", raw.key),
        ));
    }
    let kind = match raw.kind.as_str() {
        "text" => FieldKind::Text { max_length: raw.max_length.unwrap_or(200).clamp(1, 1000) },
        "digits" => {
            let max_length = raw.max_length.unwrap_or(40).clamp(1, 100);
            let min_length = raw.min_length.unwrap_or(1).clamp(1, max_length);
            FieldKind::Digits { min_length, max_length }
        }
        other => return Err(err(format!("{key}.kind"), format!("{other:?} is not a field kind (text, digits)"))),
    };
    Ok(FieldSpec {
        key: raw.key.clone(),
        label: parse_localized(&format!("{key}.label"), &raw.label, default_locale, 200)?,
        help: raw.help.as_ref().map(|h| parse_localized(&format!("{key}.help"), h, default_locale, 500)).transpose()?,
        kind,
        required: raw.required,
    })
}

fn parse_office(
    key: &str,
    raw: &OfficeFile,
    tenant_tz: Tz,
    grid: u16,
    services: &[Service],
) -> Result<Office, PackError> {
    let slug = parse_slug(&format!("{key}.slug"), &raw.slug)?;
    let name = single_line(&raw.name, 200)
        .ok_or_else(|| err(format!("{key}.name"), "must be one line of 1-200 characters"))?;
    let address = single_line(&raw.address, 300)
        .ok_or_else(|| err(format!("{key}.address"), "must be one line of 1-300 characters"))?;
    let timezone =
        raw.timezone.as_deref().map(|tz| parse_tz(&format!("{key}.timezone"), tz)).transpose()?.unwrap_or(tenant_tz);
    let modes = parse_modes(&format!("{key}.modes"), &raw.modes)?;
    let mut offered = Vec::new();
    for (i, service_slug) in raw.services.iter().enumerate() {
        let service_key = format!("{key}.services[{i}]");
        let service = services
            .iter()
            .find(|s| s.slug.as_str() == service_slug)
            .ok_or_else(|| err(&service_key, format!("{service_slug:?} is not a service of this pack")))?;
        if !service.modes.iter().any(|m| modes.contains(m)) {
            return Err(err(&service_key, format!("{service_slug:?} shares no mode with this office")));
        }
        if !offered.contains(&service.slug) {
            offered.push(service.slug.clone());
        }
    }
    let hours = parse_hours(&format!("{key}.hours"), &raw.hours, grid)?;
    if hours.is_empty() {
        return Err(err(format!("{key}.hours"), "the office must open at least once a week"));
    }
    let mut closures = Vec::new();
    for (i, closure) in raw.closures.iter().enumerate() {
        let closure_key = format!("{key}.closures[{i}]");
        let from = parse_date(&format!("{closure_key}.from"), &closure.from)?;
        let to =
            closure.to.as_deref().map(|t| parse_date(&format!("{closure_key}.to"), t)).transpose()?.unwrap_or(from);
        if to < from {
            return Err(err(format!("{closure_key}.to"), "must not be before `from`"));
        }
        let reason = single_line(&closure.reason, 200)
            .ok_or_else(|| err(format!("{closure_key}.reason"), "must be one line of 1-200 characters"))?;
        closures.push(Closure { from, to, reason });
    }
    let patron_saint =
        raw.patron_saint_day.as_deref().map(|d| parse_month_day(&format!("{key}.patron_saint_day"), d)).transpose()?;
    Ok(Office {
        slug,
        name,
        address,
        timezone,
        modes,
        services: offered,
        hours,
        closures,
        holidays: HolidayPolicy { national: raw.national_holidays, patron_saint },
        teams_link: raw.teams_link.as_deref().map(|l| parse_url(&format!("{key}.teams_link"), l.trim())).transpose()?,
        skype_contact: raw
            .skype_contact
            .as_deref()
            .map(|c| SkypeName::parse(c).ok_or_else(|| err(format!("{key}.skype_contact"), "must be a Skype name")))
            .transpose()?,
    })
}

fn parse_hours(key: &str, raw: &HoursFile, grid: u16) -> Result<WeeklyHours, PackError> {
    let named: [(&str, &Vec<IntervalFile>); 7] = [
        ("mon", &raw.mon),
        ("tue", &raw.tue),
        ("wed", &raw.wed),
        ("thu", &raw.thu),
        ("fri", &raw.fri),
        ("sat", &raw.sat),
        ("sun", &raw.sun),
    ];
    let mut days: [Vec<OpeningInterval>; 7] = Default::default();
    for ((day, intervals), parsed_day) in named.iter().zip(days.iter_mut()) {
        for (i, interval) in intervals.iter().enumerate() {
            let interval_key = format!("{key}.{day}[{i}]");
            let from = parse_time(&format!("{interval_key}.from"), &interval.from)?;
            let to = parse_time(&format!("{interval_key}.to"), &interval.to)?;
            let parsed =
                OpeningInterval::new(from, to, interval.desks).map_err(|e| err(&interval_key, e.to_string()))?;
            parsed_day.push(parsed);
        }
    }
    WeeklyHours::new(days, grid).map_err(|(weekday, e)| {
        let day = usize::try_from(weekday.num_days_from_monday()).ok().and_then(|i| named.get(i)).map_or("?", |d| d.0);
        let hint = if matches!(e, ScheduleError::OffGrid(_)) { " (see grid_minutes)" } else { "" };
        err(format!("{key}.{day}"), format!("{e}{hint}"))
    })
}

fn parse_time(key: &str, raw: &str) -> Result<NaiveTime, PackError> {
    if raw == "24:00" {
        return Err(err(key, "\"24:00\" is not a time of day; close at \"23:45\" at the latest"));
    }
    NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| err(key, format!("{raw:?} must be a time like \"08:30\"")))
}

fn parse_date(key: &str, raw: &str) -> Result<NaiveDate, PackError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| err(key, format!("{raw:?} must be a date like \"2026-12-24\"")))
}

fn parse_month_day(key: &str, raw: &str) -> Result<(u32, u32), PackError> {
    // 2024 is a leap year, so "02-29" is accepted.
    let date = NaiveDate::parse_from_str(&format!("2024-{raw}"), "%Y-%m-%d")
        .map_err(|_| err(key, format!("{raw:?} must be a day like \"06-24\" (month-day)")))?;
    Ok((chrono::Datelike::month(&date), chrono::Datelike::day(&date)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MINIMAL: &str = r##"
slug = "comune-prova"
name = "Comune di Prova"
privacy_notice_version = "2026-01"
[branding]
primary_color = "#0066CC"
[[services]]
slug = "carta-identita"
name = { it = "Carta d'identità", en = "Identity card" }
description = { it = "Rilascio", en = "Issue" }
duration_minutes = 30
modes = ["in_person"]
[[offices]]
slug = "anagrafe"
name = "Anagrafe"
address = "Piazza Municipio 1"
modes = ["in_person", "teams"]
services = ["carta-identita"]
patron_saint_day = "06-24"
[offices.hours]
mon = [{ from = "08:30", to = "12:30", desks = 2 }]
[[offices.closures]]
from = "2026-12-24"
to = "2026-12-31"
reason = "Chiusura natalizia"
"##;

    #[test]
    fn a_minimal_pack_gets_defaults() {
        let config = parse_config(MINIMAL).unwrap();
        assert_eq!(config.timezone, chrono_tz::Europe::Rome);
        assert_eq!(config.locales, vec![Locale::It, Locale::En]);
        assert_eq!(config.hold_seconds, 600);
        assert_eq!(config.branding.primary_color, "#0066cc");
        assert_eq!(config.branding.display_name, "Comune di Prova");
        assert_eq!(config.services[0].horizon_days, 60);
        let office = &config.offices[0];
        assert_eq!(office.holidays, HolidayPolicy { national: true, patron_saint: Some((6, 24)) });
        assert_eq!(office.closures[0].to, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(office.modes_for(&config.services[0]), vec![Mode::InPerson]);
    }

    #[test]
    fn the_hold_is_set_in_minutes_or_in_seconds() {
        let with = |line: &str| parse_config(&MINIMAL.replacen("[branding]", &format!("{line}\n[branding]"), 1));
        assert_eq!(with("hold_minutes = 2").unwrap().hold_seconds, 120);
        assert_eq!(with("hold_seconds = 90").unwrap().hold_length(), chrono::TimeDelta::seconds(90));
        assert_eq!(with("hold_seconds = 5").unwrap_err().key, "hold_seconds");
        assert_eq!(with("hold_minutes = 0").unwrap_err().key, "hold_minutes");
        assert_eq!(with("hold_minutes = 1\nhold_seconds = 60").unwrap_err().key, "hold_seconds");
    }

    #[test]
    fn a_body_sets_its_queue() {
        let with =
            |table: &str| parse_config(&MINIMAL.replacen("[branding]", &format!("[queue]\n{table}\n[branding]"), 1));
        let queue = with("walk_in_prefix = \"S\"\nwalk_in_cap_minutes = 30").unwrap().queue;
        assert_eq!((queue.appointment_prefix, queue.walk_in_prefix), ('P', 'S'));
        assert_eq!(queue.walk_in_cap, chrono::TimeDelta::minutes(30));
        assert_eq!(parse_config(MINIMAL).unwrap().queue, crate::domain::queue::QueueSettings::default());
        assert_eq!(with("walk_in_prefix = \"ab\"").unwrap_err().key, "queue.walk_in_prefix");
        assert_eq!(with("appointment_prefix = \"a\"").unwrap_err().key, "queue.appointment_prefix");
        assert_eq!(with("walk_in_prefix = \"P\"").unwrap_err().key, "queue.walk_in_prefix", "the two kinds differ");
        assert_eq!(with("due_within_minutes = 500").unwrap_err().key, "queue.due_within_minutes");
    }

    fn broken(find: &str, replace: &str) -> PackError {
        assert!(MINIMAL.contains(find), "{find}");
        parse_config(&MINIMAL.replacen(find, replace, 1)).unwrap_err()
    }

    #[test]
    fn errors_name_the_key_and_the_reason() {
        let cases = [
            ("slug = \"comune-prova\"", "slug = \"Comune Prova\"", "slug", "a-z"),
            ("duration_minutes = 30", "duration_minutes = 25", "services[0].duration_minutes", "multiple"),
            ("modes = [\"in_person\"]", "modes = [\"fax\"]", "services[0].modes[0]", "not a mode"),
            (
                "services = [\"carta-identita\"]",
                "services = [\"passaporto\"]",
                "offices[0].services[0]",
                "not a service",
            ),
            ("from = \"08:30\"", "from = \"08:40\"", "offices[0].hours.mon", "grid"),
            ("desks = 2", "desks = 0", "offices[0].hours.mon[0]", "desks"),
            ("to = \"2026-12-31\"", "to = \"2026-12-01\"", "offices[0].closures[0].to", "before"),
            (
                "patron_saint_day = \"06-24\"",
                "patron_saint_day = \"13-01\"",
                "offices[0].patron_saint_day",
                "month-day",
            ),
            ("primary_color = \"#0066CC\"", "primary_color = \"blue\"", "branding.primary_color", "colour"),
            ("en = \"Identity card\"", "fr = \"Carte\"", "services[0].name.fr", "unsupported"),
            ("name = \"Anagrafe\"", "name = \"Anagrafe\"\nfloor = 2", "line 16", "unknown field `floor`"),
            ("[branding]", "[branding\n", "line 5", "unclosed table"),
        ];
        for (find, replace, key, reason) in cases {
            let e = broken(find, replace);
            assert_eq!(e.key, key, "{e}");
            assert!(e.reason.contains(reason), "{e}");
            assert_eq!(e.file, "tenant.toml");
        }
    }

    #[test]
    fn an_office_must_share_a_mode_with_its_services() {
        let e = broken("modes = [\"in_person\", \"teams\"]", "modes = [\"teams\"]");
        assert_eq!(e.key, "offices[0].services[0]");
        assert!(e.reason.contains("no mode"));
    }
}
