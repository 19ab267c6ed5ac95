//! Use cases: the only place that orchestrates catalog, holds and store.
//!
//! Depends on the domain and on the `HoldStore` port, never on a concrete hold adapter or on HTTP.

mod availability;
mod booking_mail;
mod bookings;
mod catalog;
mod citizen_rights;
mod demo;
pub use demo::DemoBooked;
mod drafts;
mod feeds;
mod flow_metrics;
mod full_units;
mod holds;
mod links;
mod open_data;
mod outbox;
mod pressure;
mod qr;
mod retention;
mod rule_lanes;
mod rule_metrics;
mod rules;
mod staff;
pub(crate) mod tenants;
mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::FieldErrors;
use crate::holds::{HoldHealth, HoldStore, HoldStoreError};
use crate::packs::PackError;
use crate::plugin_host::PluginHost;
use crate::store::{Store, StoreError};

pub use crate::store::DraftFields;
pub use availability::{Availability, AvailabilityRequest, AvailableDay, AvailableSlot, MAX_RANGE_DAYS};
pub use bookings::{ConfirmRequest, Confirmed};
pub use catalog::TenantSnapshot;
pub use citizen_rights::PersonalDataCopy;
pub use drafts::DRAFT_GRACE;
pub use flow_metrics::{Flow, FlowCount};
pub use holds::{HoldRequest, PlacedHold};
pub use links::{BookingProof, LinkKeys, LinkPurpose, MIN_SECRET_BYTES, PROOFS_PER_MINUTE, ProofBy, ShortSecret};
pub use open_data::{MIN_COUNTED, OPEN_DATA_DAYS, OpenAvailability, OpenAvailabilityRow};
pub use outbox::{MAX_ATTEMPTS, MailSetup, retry_delay, run_worker};
pub use qr::qr_svg;
pub use retention::{RETENTION_BATCH, RetentionPass, run_retention};
pub use rule_metrics::{RuleCount, RuleOutcome};
pub use rules::{LookupQuery, LookupResult};
pub(crate) use staff::secrets;
pub use staff::{
    Agenda, AgendaQuery, ApiKeyMade, AuditFilter, AuditPage, BOARD_CALLS, ConfigurationView, DELIVERY_PAGE,
    DeskBooking, Enrolment, Export, ExportedPack, InvitationLink, InvitationView, LoggedIn, MAX_EXPORT_DAYS,
    NewApiKeyRequest, NewStaff, NewTenant, NewWebhookRequest, OfficeLoad, OfficeQueue, Parts, PluginUpload,
    ProcessingRecord, SettingsView, Span, StaffBooked, StaffBooking, StaffChange, StaffList, StaffSession,
    StatisticsQuery, StatisticsTable, StatisticsView, TenantOverview, TenantSummary, TicketState, TwoFactorStatus,
    WebhookKeyed, When,
};
pub use tenants::{ApplyReport, StrandPolicy, StrandedBooking};
pub use webhooks::{BookingEvent, ROTATION_OVERLAP};

/// Where "now" comes from; tests of the domain pass instants directly instead.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The wall clock moved to another moment, running from there: a browser test's server pretends
/// to be in an office's opening hours whatever the hour of the run.
pub struct ShiftedClock(pub chrono::TimeDelta);

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

/// What can go wrong in a use case; the HTTP layer maps each to a status and problem type.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the request has invalid fields")]
    Invalid(FieldErrors),
    #[error("this service cannot be booked at the moment")]
    ServiceInactive,
    #[error("the slot is no longer available")]
    SlotTaken,
    #[error("the hold does not exist or has expired long ago; choose a slot again")]
    HoldUnknown,
    /// The hold already became a booking (its code, when it could be read).
    #[error("this hold was already confirmed")]
    HoldUsed(Option<crate::domain::BookingCode>),
    /// A client-chosen hold id that is someone else's hold, or already became a booking.
    #[error("this hold id is already in use; choose another")]
    HoldIdTaken,
    #[error("the booking can no longer be changed")]
    NotChangeable,
    /// A walk-in for now: no slot of this service is free at this office for the rest of the day.
    #[error("no place is free at this office for the rest of the day; book a later day")]
    NothingFreeToday,
    /// "Call next" with nobody checked in and waiting at the office.
    #[error("nobody is waiting at this office")]
    NobodyWaiting,
    /// A step at the counter that the booking's status or time does not allow.
    #[error("{}", desk_refusal(*.0))]
    DeskRefused(crate::domain::desk::DeskRefusal),
    #[error("too many requests; try again in {retry_after} seconds")]
    RateLimited { retry_after: u32 },
    #[error("you already keep {0} slots on hold; confirm or release one first")]
    TooManyHolds(u32),
    #[error("you already have {0} upcoming booking(s) for this service; cancel or attend one first")]
    BookingLimit(u16),
    #[error("the database is busy; try again in a moment")]
    Busy,
    #[error("the Idempotency-Key was already used for a different request")]
    IdempotencyMismatch,
    #[error("invalid tenant pack: {0}")]
    Pack(#[from] PackError),
    /// A tenant rule failed to run (trap, budget, bad output): the booking cannot be checked now.
    #[error("the rule of this service is unavailable")]
    RuleUnavailable,
    /// The platform suspended this tenant: its pages and API are temporarily unavailable.
    #[error("this public body's booking service is temporarily unavailable")]
    TenantSuspended,
    /// No session, or one that ended.
    #[error("sign in first")]
    Unauthenticated,
    /// Deliberately vague: it does not say whether the address has an account.
    #[error("the e-mail address or the password is wrong")]
    LoginFailed,
    #[error("your role does not allow this")]
    Forbidden,
    /// The account signs in with a second factor and the login did not bring its code.
    #[error("this account signs in with a second factor: send the code of its authenticator as `totp`")]
    CodeRequired,
    /// The public body (or the platform) asks its staff for a second factor, and this account
    /// has none yet.
    #[error("this public body asks its staff for a second factor: turn it on for your account first")]
    TwoFactorRequired,
    /// A staff form without its session's CSRF token (a forged request, or a page left open
    /// across a new login).
    #[error("this form has expired; reload the page and try again")]
    StaleForm,
    /// The configuration was saved by someone else since the version an edit started from.
    #[error("version {current} was saved meanwhile; review its changes and edit again")]
    StaleVersion { current: i64, changes: Vec<String> },
    /// The new configuration would strand these upcoming bookings: keep or cancel them, explicitly.
    #[error("{} upcoming booking(s) would no longer fit this configuration; keep them or cancel them with a reason", .0.len())]
    StrandsBookings(Vec<tenants::StrandedBooking>),
    /// A booking listed as stranded was moved or cancelled while the save ran: nothing was saved.
    #[error("bookings changed while saving; review the list and save again")]
    BookingsChanged,
    /// An edit must say which version it changes (`If-Match`).
    #[error("say which version you edit, with If-Match: \"<version>\"")]
    VersionRequired,
    #[error("this invitation link is not valid: it was used, has expired, or never existed")]
    InvitationInvalid,
    /// A booking link (from an e-mail) that is not ours, not for this, or changed.
    #[error("this link is not valid")]
    LinkInvalid,
    /// A booking link past its time (a cancel link after the appointment began).
    #[error("this link has expired")]
    LinkExpired,
    /// A bug or an impossible state of ours, described for the log.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Holds(#[from] HoldStoreError),
}

fn desk_refusal(refusal: crate::domain::desk::DeskRefusal) -> String {
    use crate::domain::desk::DeskRefusal as R;
    match refusal {
        R::NotFrom(status) => format!("not possible for a booking that is {}", status.code().replace('_', " ")),
        R::NotToday => "a citizen checks in on the appointment's day".to_owned(),
        R::NotYetDue => "a no-show is marked once the appointment's time has come".to_owned(),
        R::NothingToUndo => "there is no desk step to undo (or it is too late to)".to_owned(),
    }
}

impl From<crate::domain::OfferKeyError> for AppError {
    fn from(error: crate::domain::OfferKeyError) -> Self {
        use crate::domain::OfferKeyError as E;
        match error {
            E::Service => Self::NotFound("service"),
            E::Office => Self::NotFound("office"),
            E::Mode => Self::field("mode", "unknown_mode", "Use one of: in_person, whatsapp, skype, teams."),
        }
    }
}

impl AppError {
    pub(crate) fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.push(field, code, message);
        Self::Invalid(errors)
    }
}

/// Counters of this process (they start at zero with it), for `/metrics`.
#[derive(Clone, Debug)]
pub struct Metrics {
    pub rule_calls: Vec<RuleCount>,
    /// Holds and bookings by tenant and outcome.
    pub flows: Vec<FlowCount>,
    /// Plugin loads served by compiled code already in memory or on disk.
    pub module_cache_hits: u64,
    pub module_compilations: u64,
}

/// The application: one per process, shared by every request.
#[derive(Clone)]
pub struct Sportello {
    store: Store,
    holds: Arc<dyn HoldStore>,
    catalog: Arc<catalog::Catalog>,
    full_units: Arc<full_units::FullUnits>,
    open_data: Arc<open_data::OpenDataCache>,
    plugins: Arc<PluginHost>,
    rule_lanes: Arc<rule_lanes::RuleLanes>,
    rule_metrics: Arc<rule_metrics::RuleMetrics>,
    flow_metrics: Arc<flow_metrics::FlowMetrics>,
    clock: Arc<dyn Clock>,
    /// Platform admins must sign in with a second factor to act as such.
    platform_two_factor: bool,
    /// How messages to citizens are composed; without it none are written (a bare CLI run).
    mail: Option<Arc<outbox::MailSetup>>,
    /// The secret that signs the links in e-mails and pages: the server's, or (until one is
    /// given) a random one that dies with the process.
    link_keys: Arc<links::LinkKeys>,
    /// Sends webhooks; without it they wait in the outbox (a bare CLI run).
    webhooks: Option<Arc<crate::webhooks::WebhookClient>>,
    /// The booking requests in progress, which the outbox worker steps aside for.
    pressure: Arc<pressure::Pressure>,
}

impl Sportello {
    pub fn new(store: Store, holds: Arc<dyn HoldStore>, plugins: Arc<PluginHost>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            holds,
            catalog: Arc::new(catalog::Catalog::default()),
            full_units: Arc::new(full_units::FullUnits::default()),
            open_data: Arc::default(),
            plugins,
            rule_lanes: Arc::new(rule_lanes::RuleLanes::default()),
            rule_metrics: Arc::new(rule_metrics::RuleMetrics::default()),
            flow_metrics: Arc::default(),
            platform_two_factor: false,
            mail: None,
            link_keys: Arc::new(links::LinkKeys::ephemeral()),
            webhooks: None,
            pressure: Arc::default(),
            clock,
        }
    }

    /// Writes no messages (a benchmark's baseline; a CLI command that changes no booking).
    pub fn without_mail(mut self) -> Self {
        self.mail = None;
        self
    }

    /// Signs the links in e-mails (manage, one-click cancel) with `keys`.
    pub fn with_link_keys(mut self, keys: links::LinkKeys) -> Self {
        self.link_keys = Arc::new(keys);
        self
    }

    /// Sends webhooks with `client` (which also says which targets are allowed).
    pub fn with_webhooks(mut self, client: crate::webhooks::WebhookClient) -> Self {
        self.webhooks = Some(Arc::new(client));
        self
    }

    /// `path` on the pages' public address, when the server knows it (it does when it sends mail).
    pub fn public_address(&self, path: &str) -> String {
        self.mail.as_ref().map_or_else(|| path.to_owned(), |mail| format!("{}{path}", mail.public_url))
    }

    /// Writes messages to citizens into the outbox with each change that causes one.
    /// Whether citizens are e-mailed about their bookings (a server with mail set up).
    pub fn sends_mail(&self) -> bool {
        self.mail.is_some()
    }

    pub fn with_mail(mut self, setup: outbox::MailSetup) -> Self {
        self.mail = Some(Arc::new(setup));
        self
    }

    /// Asks platform admins for a second factor before they act as such.
    /// Tells the time by `clock` (tests only: see `ShiftedClock`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_platform_two_factor(mut self, required: bool) -> Self {
        self.platform_two_factor = required;
        self
    }

    /// What this process counted since it started, for `/metrics`.
    pub fn metrics(&self) -> Metrics {
        let (module_cache_hits, module_compilations) = self.plugins.cache_counters();
        Metrics {
            rule_calls: self.rule_metrics.snapshot(),
            flows: self.flow_metrics.snapshot(),
            module_cache_hits,
            module_compilations,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The application's "now" (pages ask it rather than the system clock, as use cases do).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Readiness: whether the database answers, and how the hold store is doing.
    pub async fn check_ready(&self) -> (Result<(), StoreError>, HoldHealth) {
        (self.store.ping().await, self.holds.health().await)
    }
}
