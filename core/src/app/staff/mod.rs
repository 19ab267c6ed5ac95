//! Staff: accounts, sessions, invitations and the audit log. Every use case here that acts on a
//! tenant takes the signed-in `StaffSession` and checks its role first, so that the admin API and
//! the admin pages cannot disagree on who may do what.

mod accessibility;
mod accounts;
mod api_keys;
mod audit;
mod configuration;
mod deliveries;
mod desk;
mod export;
mod feeds;
mod members;
mod onboarding;
mod overview;
mod parts;
mod passwords;
mod processing;
mod queue;
pub(crate) mod secrets;
mod send_on;
mod sessions;
mod settings;
mod statistics;
mod throttle;
mod transfer;
mod two_factor;
mod uploads;
mod walk_ins;
mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::{Denied, Grant, Role, StaffMember};

pub use accounts::{InvitationLink, InvitationView, NewStaff, StaffList};
pub use api_keys::{ApiKeyMade, NewApiKeyRequest};
pub(crate) use audit::Actor;
pub use audit::{AuditFilter, AuditPage};
pub use configuration::ConfigurationView;
pub use deliveries::DELIVERY_PAGE;
pub(crate) use desk::local_midnight;
pub use desk::{Agenda, AgendaQuery, DeskBooking, Span};
pub use export::{Export, MAX_EXPORT_DAYS};
pub use members::StaffChange;
pub use onboarding::NewTenant;
pub use overview::{OfficeLoad, TenantOverview, TenantSummary};
pub use parts::Parts;
pub use processing::ProcessingRecord;
pub use queue::{BOARD_CALLS, OfficeQueue, TicketState};
pub use sessions::LoggedIn;
pub use settings::SettingsView;
pub use statistics::{StatisticsQuery, StatisticsTable, StatisticsView};
pub use transfer::ExportedPack;
pub use two_factor::{Enrolment, TwoFactorStatus};
pub use uploads::PluginUpload;
pub use walk_ins::{StaffBooked, StaffBooking, When};
pub use webhooks::{NewWebhookRequest, WebhookKeyed};

/// A signed-in staff member's session, as every admin use case receives it.
#[derive(Clone, Debug)]
pub struct StaffSession {
    pub member: StaffMember,
    /// The token forms must send back (CSRF).
    pub csrf: String,
    /// Where the session's requests come from, for the audit log.
    pub client: Option<String>,
    credential: Credential,
    pub expires_at: DateTime<Utc>,
    /// The account signs in with a second factor.
    pub two_factor: bool,
}

/// What a request signed in with.
#[derive(Clone, Debug)]
enum Credential {
    /// A person's session, by its token's digest.
    Session(String),
    /// An integrator's API key.
    ApiKey { id: i32, name: String },
}

impl StaffSession {
    /// Whether a form's CSRF token is this session's.
    pub fn csrf_matches(&self, sent: &str) -> bool {
        // An API key has no CSRF token: no form can be sent with one.
        !self.csrf.is_empty() && secrets::same(&self.csrf, sent)
    }

    /// The session token's digest; `Forbidden` for an API key, which has no session to end or
    /// password to change.
    pub(super) fn session_digest(&self) -> Result<&str, AppError> {
        match &self.credential {
            Credential::Session(digest) => Ok(digest),
            Credential::ApiKey { .. } => Err(AppError::Forbidden),
        }
    }

    /// Refuses API keys: what lasts beyond a key (people's access, other keys) is given by people.
    pub(crate) fn require_person(&self) -> Result<(), AppError> {
        self.session_digest().map(|_| ())
    }

    /// The API key's name, when the request signed in with one.
    pub fn api_key(&self) -> Option<&str> {
        match &self.credential {
            Credential::ApiKey { name, .. } => Some(name),
            Credential::Session(_) => None,
        }
    }
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        match denied {
            // No existence leak: a tenant one holds no role in answers as if it did not exist.
            Denied::Unknown => AppError::NotFound("tenant"),
            Denied::Forbidden => AppError::Forbidden,
        }
    }
}

impl Sportello {
    /// The tenant `slug`, if `session` may act in it as `needed`; otherwise not found (no role
    /// there) or forbidden (a lesser role).
    pub(crate) async fn tenant_for(
        &self,
        session: &StaffSession,
        slug: &str,
        needed: Role,
    ) -> Result<Arc<TenantSnapshot>, AppError> {
        let tenant = self.tenant_snapshot(slug).await?;
        session.member.may(tenant.id, needed)?;
        if tenant.config.require_two_factor && !session.two_factor && session.api_key().is_none() {
            return Err(AppError::TwoFactorRequired);
        }
        let through_platform =
            !session.member.grants.iter().any(|g| matches!(g, Grant::Tenant { tenant: t, .. } if *t == tenant.id));
        if through_platform {
            self.as_platform(session)?;
        }
        Ok(tenant)
    }

    /// Refuses anyone but a platform admin (with a second factor, when the platform asks for one).
    pub(crate) fn as_platform(&self, session: &StaffSession) -> Result<(), AppError> {
        session.member.may_run_platform()?;
        if self.platform_two_factor && !session.two_factor {
            return Err(AppError::TwoFactorRequired);
        }
        Ok(())
    }

    /// Whether a body this account works for (or the platform) asks it for a second factor.
    pub async fn two_factor_required(&self, session: &StaffSession) -> Result<bool, AppError> {
        for grant in &session.member.grants {
            let required = match grant {
                Grant::Platform => self.platform_two_factor,
                Grant::Tenant { slug, .. } => self.tenant_snapshot(slug).await?.config.require_two_factor,
            };
            if required {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
