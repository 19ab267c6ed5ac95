//! The on-disk shape of `tenant.toml`. Unknown keys are errors, so typos do not pass silently.

use std::collections::BTreeMap;

use serde::Deserialize;

pub type LocalizedFile = BTreeMap<String, String>;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    pub slug: String,
    pub name: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_locales")]
    pub locales: Vec<String>,
    pub hold_minutes: Option<u16>,
    /// The hold in seconds, for a tenant that wants it finer than whole minutes (a click day).
    pub hold_seconds: Option<u32>,
    #[serde(default = "default_grid_minutes")]
    pub grid_minutes: u16,
    pub privacy_notice_version: String,
    /// The privacy notice's text (art. 13 GDPR) by language: the version above names it.
    pub privacy_notice: Option<LocalizedFile>,
    /// The body's staff must sign in with a second factor.
    #[serde(default)]
    pub require_two_factor: bool,
    /// Publish per office and service the next free date and the average wait (open data).
    #[serde(default)]
    pub publish_open_data: bool,
    /// Days after an appointment the citizen's personal data are kept (default 90).
    pub retention_days: Option<u16>,
    pub branding: BrandingFile,
    pub accessibility: Option<AccessibilityFile>,
    #[serde(default)]
    pub limits: LimitsFile,
    #[serde(default)]
    pub mail: MailFile,
    #[serde(default)]
    pub queue: QueueFile,
    /// The Jitsi server of `jitsi` video calls (default https://meet.jit.si).
    pub jitsi_server: Option<String>,
    #[serde(default)]
    pub plugins: Vec<PluginFile>,
    #[serde(default)]
    pub datasets: Vec<DatasetFile>,
    #[serde(default)]
    pub services: Vec<ServiceFile>,
    #[serde(default)]
    pub offices: Vec<OfficeFile>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct BrandingFile {
    pub display_name: Option<String>,
    pub primary_color: String,
    pub secondary_color: Option<String>,
    pub logo: Option<String>,
    pub contacts: Option<String>,
    pub privacy_notice_url: Option<String>,
    pub accessibility_url: Option<String>,
}

/// The accessibility statement (AgID's model); dates as "YYYY-MM-DD".
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct AccessibilityFile {
    /// full, partial or none.
    pub conformance: String,
    pub non_accessible: Option<LocalizedFile>,
    pub prepared_on: String,
    pub reviewed_on: Option<String>,
    /// self or third_party.
    pub method: String,
    pub feedback_email: String,
}

/// The counter queue's tickets and call rule; absent keys take the defaults.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct QueueFile {
    /// One capital letter: `P` by default.
    pub appointment_prefix: Option<String>,
    /// One capital letter: `A` by default.
    pub walk_in_prefix: Option<String>,
    pub due_within_minutes: Option<u16>,
    pub walk_in_cap_minutes: Option<u16>,
}

/// How the body's e-mails go out; absent keys take the defaults.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct MailFile {
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    pub reminder_hours: Option<u16>,
}

/// Absent keys take the platform defaults.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub holds_per_client: Option<u32>,
    pub holds_per_minute: Option<u32>,
    pub bookings_per_minute: Option<u32>,
    pub lookups_per_minute: Option<u32>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub slug: String,
    pub name: LocalizedFile,
    pub description: LocalizedFile,
    pub duration_minutes: u16,
    pub modes: Vec<String>,
    #[serde(default)]
    pub min_notice_hours: u32,
    #[serde(default = "default_horizon_days")]
    pub horizon_days: u16,
    #[serde(default)]
    pub fiscal_code_required: bool,
    #[serde(default)]
    pub fields: Vec<FieldFile>,
    #[serde(default)]
    pub reasons: Vec<ReasonFile>,
    #[serde(default = "yes")]
    pub active: bool,
    pub max_active_bookings_per_person: Option<u16>,
    /// What to bring, by language.
    pub bring: Option<LocalizedFile>,
    pub plugin: Option<String>,
    pub plugin_config: Option<toml::Table>,
    /// Fields the plugin's `lookup` checks before the calendar.
    #[serde(default)]
    pub check_first: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct DatasetFile {
    pub name: String,
    pub file: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct PluginFile {
    pub id: String,
    pub file: String,
    pub fuel: Option<u64>,
    #[serde(default)]
    pub citizen_fields: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FieldFile {
    pub key: String,
    pub label: LocalizedFile,
    pub help: Option<LocalizedFile>,
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    pub min_length: Option<u16>,
    pub max_length: Option<u16>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ReasonFile {
    pub key: String,
    pub label: LocalizedFile,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct OfficeFile {
    pub slug: String,
    pub name: String,
    pub address: String,
    pub timezone: Option<String>,
    pub modes: Vec<String>,
    pub services: Vec<String>,
    pub hours: HoursFile,
    #[serde(default)]
    pub closures: Vec<ClosureFile>,
    /// "MM-DD"
    pub patron_saint_day: Option<String>,
    #[serde(default = "yes")]
    pub national_holidays: bool,
    /// The office's Teams meeting link, for `teams` appointments.
    pub teams_link: Option<String>,
    /// The office's Skype name, for `skype` appointments.
    pub skype_contact: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct HoursFile {
    #[serde(default)]
    pub mon: Vec<IntervalFile>,
    #[serde(default)]
    pub tue: Vec<IntervalFile>,
    #[serde(default)]
    pub wed: Vec<IntervalFile>,
    #[serde(default)]
    pub thu: Vec<IntervalFile>,
    #[serde(default)]
    pub fri: Vec<IntervalFile>,
    #[serde(default)]
    pub sat: Vec<IntervalFile>,
    #[serde(default)]
    pub sun: Vec<IntervalFile>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct IntervalFile {
    pub from: String,
    pub to: String,
    #[serde(default = "one")]
    pub desks: u16,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ClosureFile {
    pub from: String,
    pub to: Option<String>,
    pub reason: String,
}

fn default_timezone() -> String {
    "Europe/Rome".into()
}
fn default_locales() -> Vec<String> {
    vec!["it".into(), "en".into()]
}
fn default_grid_minutes() -> u16 {
    15
}
fn default_horizon_days() -> u16 {
    60
}
fn yes() -> bool {
    true
}
fn one() -> u16 {
    1
}
