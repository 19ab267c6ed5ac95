//! A tenant's configuration: what it offers, where and when. Built only by `packs`, from a
//! validated tenant pack, so every value here is consistent (services exist, modes match…).

use chrono_tz::Tz;

use super::contact::{Email, SkypeName};
use super::mode::Mode;
use super::schedule::{Closure, HolidayPolicy, WeeklyHours};
use super::text::{Locale, Localized, Slug};

#[derive(Clone, Debug, PartialEq)]
pub struct TenantConfig {
    pub slug: Slug,
    pub name: String,
    pub timezone: Tz,
    /// The first is the default language.
    pub locales: Vec<Locale>,
    pub branding: Branding,
    /// How long a hold keeps its place.
    pub hold_seconds: u32,
    /// Every slot start and every capacity unit falls on this grid (minutes from midnight).
    pub grid_minutes: u16,
    pub privacy_notice_version: String,
    /// The privacy notice's text, when the body writes it here rather than only linking to it.
    pub privacy_notice: Option<Localized>,
    pub limits: Limits,
    /// How its e-mails to citizens go out.
    pub mail: MailSettings,
    /// Its counters' tickets and call rule.
    pub queue: super::queue::QueueSettings,
    /// The Jitsi server of its `jitsi` video calls, e.g. `https://meet.jit.si` (no trailing slash).
    pub jitsi_server: String,
    /// Its staff must sign in with a second factor to work on its pages and API.
    pub require_two_factor: bool,
    /// It publishes open data: per office and service, the next free date and the average wait.
    pub publish_open_data: bool,
    /// Days after an appointment its citizen's personal data are kept; then they are anonymised.
    pub retention_days: u16,
    /// Its accessibility statement, once it has published one here.
    pub accessibility: Option<super::AccessibilityStatement>,
    /// WebAssembly plugins the pack brings, bound to services by id.
    pub plugins: Vec<PluginSpec>,
    /// Keyed tables the plugins may read: (name, CSV file inside the pack).
    pub datasets: Vec<(Slug, String)>,
    pub services: Vec<Service>,
    pub offices: Vec<Office>,
}

/// How a body's e-mails to citizens go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    /// The name in `From`; the body's display name when unset.
    pub sender_name: Option<String>,
    /// Its own `From` address, used only where the platform may send for its domain (SPF, DKIM).
    pub sender_address: Option<Email>,
    /// Where citizens' replies go (its front office), since the sender takes none.
    pub reply_to: Option<Email>,
    /// How many hours before the appointment the reminder goes; 0 sends none.
    pub reminder_hours: u16,
}

/// Jitsi's public server, when a body names none of its own.
pub const DEFAULT_JITSI_SERVER: &str = "https://meet.jit.si";

/// A reminder two days ahead, as Vicenza's cut no-shows.
pub const DEFAULT_REMINDER_HOURS: u16 = 48;
/// Two weeks: a reminder earlier than that reminds nobody.
pub const MAX_REMINDER_HOURS: u16 = 336;

impl Default for MailSettings {
    fn default() -> Self {
        Self { sender_name: None, sender_address: None, reply_to: None, reminder_hours: DEFAULT_REMINDER_HOURS }
    }
}

/// Anti-hoarding limits against bots and paid "saltafila" agencies. Zero switches a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Live holds one client (IP address) may keep at once.
    pub holds_per_client: u32,
    /// Holds one IP address may place per minute (token bucket, bursts up to the same number).
    pub holds_per_minute: u32,
    /// Bookings one IP address may confirm per minute.
    pub bookings_per_minute: u32,
    /// Field checks (`lookup`) one IP address may ask per minute: a rule's answers describe a
    /// tenant's records (e.g. a notice's amount), so guessing through them is slowed down.
    pub lookups_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { holds_per_client: 2, holds_per_minute: 30, bookings_per_minute: 10, lookups_per_minute: 30 }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branding {
    pub display_name: String,
    pub primary_color: String,
    pub secondary_color: Option<String>,
    /// File name of the logo inside the pack.
    pub logo: Option<String>,
    /// How to reach the public body, shown in every page's footer.
    pub contacts: Option<String>,
    /// The full privacy notice (GDPR art. 13) the booking form refers to.
    pub privacy_notice_url: Option<String>,
    /// The accessibility statement (AgID format).
    pub accessibility_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub slug: Slug,
    pub name: Localized,
    pub description: Localized,
    pub duration_minutes: u16,
    pub modes: Vec<Mode>,
    pub min_notice_hours: u32,
    pub horizon_days: u16,
    pub fiscal_code_required: bool,
    pub fields: Vec<FieldSpec>,
    pub reasons: Vec<Reason>,
    pub active: bool,
    /// The tenant rule checked before a booking is confirmed, if any.
    pub plugin: Option<ServicePlugin>,
    /// Keys of the service's fields its rule checks before the calendar (with the citizen fields
    /// the rule sees that the service asks for), so that nobody holds a place they cannot book.
    pub check_first: Vec<String>,
    /// What the citizen should bring (documents, a notice to pay), said in the e-mails.
    pub bring: Option<Localized>,
    /// Confirmed future bookings of this service one person (same e-mail, phone or fiscal code)
    /// may have at once; `None` for no limit.
    pub max_active_bookings_per_person: Option<u16>,
}

/// A service at an office in a mode, as a request names them: parsed at the edge, so that use
/// cases never see text that could not be a slug or a mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferKey {
    pub service: Slug,
    pub office: Slug,
    pub mode: Mode,
}

/// Which part of an `OfferKey` could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferKeyError {
    Service,
    Office,
    Mode,
}

impl OfferKey {
    pub fn parse(service: &str, office: &str, mode: &str) -> Result<Self, OfferKeyError> {
        Ok(Self {
            service: Slug::parse(service).map_err(|_| OfferKeyError::Service)?,
            office: Slug::parse(office).map_err(|_| OfferKeyError::Office)?,
            mode: Mode::parse(mode).ok_or(OfferKeyError::Mode)?,
        })
    }
}

impl Service {
    /// The most characters a typed value of `field` (one of the service's fields, or
    /// `fiscal_code`) may have before it is parsed; `None` for a field the service does not ask for.
    /// Digits may be typed with spaces between them.
    pub fn input_limit(&self, field: &str) -> Option<usize> {
        if field == CitizenField::FiscalCode.code() {
            return Some(32);
        }
        self.fields.iter().find(|f| f.key == field).map(|f| match f.kind {
            FieldKind::Text { max_length } => usize::from(max_length),
            FieldKind::Digits { max_length, .. } => 2 * usize::from(max_length) + 8,
        })
    }
}

/// A plugin module of the pack and what it may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSpec {
    pub id: Slug,
    /// Path of the module inside the pack (`plugins/<name>.wasm`).
    pub file: String,
    /// Instruction budget per call, if the tenant sets one (capped by the platform).
    pub fuel: Option<u64>,
    /// The only citizen data the plugin receives (data minimisation).
    pub citizen_fields: Vec<CitizenField>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CitizenField {
    FirstName,
    LastName,
    Email,
    Phone,
    FiscalCode,
}

impl CitizenField {
    pub const ALL: [CitizenField; 5] = [Self::FirstName, Self::LastName, Self::Email, Self::Phone, Self::FiscalCode];

    pub fn code(self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::FiscalCode => "fiscal_code",
        }
    }
}

/// A service's plugin and its configuration for that service (a JSON object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePlugin {
    pub id: Slug,
    pub config_json: String,
}

/// Most instructions a tenant may give a plugin call.
pub const MAX_PLUGIN_FUEL: u64 = 50_000_000;

/// An extra answer a service asks for (e.g. a payment-notice number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub key: String,
    pub label: Localized,
    pub help: Option<Localized>,
    pub kind: FieldKind,
    pub required: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text up to `max_length` characters.
    Text { max_length: u16 },
    /// Digits only (spaces allowed and removed), e.g. a payment-notice number.
    Digits { min_length: u16, max_length: u16 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub key: String,
    pub label: Localized,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Office {
    pub slug: Slug,
    pub name: String,
    pub address: String,
    pub timezone: Tz,
    pub modes: Vec<Mode>,
    pub services: Vec<Slug>,
    pub hours: WeeklyHours,
    pub closures: Vec<Closure>,
    pub holidays: HolidayPolicy,
    /// The office's Teams meeting, given to citizens and staff for `teams` appointments.
    pub teams_link: Option<String>,
    /// The office's Skype name, given to citizens for `skype` appointments.
    pub skype_contact: Option<SkypeName>,
}

/// The most days a service may be booked ahead, whatever a pack says.
pub const MAX_HORIZON_DAYS: u16 = 365;
/// Free-text details are capped, as Designers Italia's flow does.
pub const MAX_DETAILS_CHARS: usize = 200;

impl TenantConfig {
    /// How long a hold keeps its place.
    pub fn hold_length(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(i64::from(self.hold_seconds))
    }

    /// The address of a booking's video call, when it has one: its Jitsi room, or the Teams
    /// meeting of its office.
    pub fn call_link(&self, office: &str, contact: &super::ModeContact) -> Option<String> {
        match contact {
            super::ModeContact::Room(room) => Some(format!("{}/{}", self.jitsi_server, room.as_str())),
            super::ModeContact::Email(_) => self.office(office).and_then(|o| o.teams_link.clone()),
            _ => None,
        }
    }

    pub fn service(&self, slug: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.slug.as_str() == slug)
    }

    pub fn office(&self, slug: &str) -> Option<&Office> {
        self.offices.iter().find(|o| o.slug.as_str() == slug)
    }

    /// The time zone of office `slug` (the body's own for an office no longer configured).
    pub fn timezone_of(&self, office: &str) -> Tz {
        self.office(office).map_or(self.timezone, |o| o.timezone)
    }

    /// Offices that offer `service` in at least one mode both allow.
    pub fn offices_for<'a>(&'a self, service: &'a Service) -> impl Iterator<Item = &'a Office> + 'a {
        self.offices.iter().filter(move |o| o.offers(service))
    }

    pub fn default_locale(&self) -> Locale {
        self.locales.first().copied().unwrap_or(Locale::It)
    }

    /// The citizen fields `service`'s rule is given (none without a rule).
    pub fn rule_sees(&self, service: &Service) -> &[CitizenField] {
        service
            .plugin
            .as_ref()
            .and_then(|b| self.plugins.iter().find(|p| p.id == b.id))
            .map(|p| p.citizen_fields.as_slice())
            .unwrap_or_default()
    }
}

impl Office {
    /// Why the office is closed all day on `date` (a closure or a holiday), if it is.
    pub fn closed_on(&self, date: chrono::NaiveDate) -> Option<&str> {
        if let Some(closure) = self.closures.iter().find(|c| c.from <= date && date <= c.to) {
            return Some(&closure.reason);
        }
        self.holidays.closes(date)
    }

    pub fn offers(&self, service: &Service) -> bool {
        self.services.contains(&service.slug) && !self.modes_for(service).is_empty()
    }

    /// Modes in which this office delivers `service` (both must allow the mode).
    pub fn modes_for(&self, service: &Service) -> Vec<Mode> {
        service.modes.iter().copied().filter(|m| self.modes.contains(m)).collect()
    }
}
