//! The admin API's JSON shapes.

use poem_openapi::Object;

use crate::app::{InvitationLink, StaffSession, TenantOverview, TenantSummary};
use crate::domain::{Grant, Slug};
use crate::store::{AuditEntry, TenantStaff};

#[derive(Object)]
pub struct Credentials {
    pub email: String,
    pub password: String,
    /// For an account with a second factor: its authenticator's code, or a recovery code.
    pub totp: Option<String>,
}

#[derive(Object)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Object)]
pub struct Acceptance {
    /// A new password for a new account; the account's own password when it exists already.
    pub password: String,
}

#[derive(Object)]
pub struct RoleView {
    /// None for the platform role.
    pub tenant: Option<String>,
    /// `platform`, `tenant_admin` or `operator`.
    pub role: String,
    /// The offices an operator works for.
    pub offices: Vec<String>,
}

#[derive(Object)]
pub struct AccountView {
    pub email: String,
    pub roles: Vec<RoleView>,
    /// The key's name, when the request signed in with an API key (`email` is then a reserved
    /// address that names the key, not a person).
    pub api_key: Option<String>,
}

impl From<&StaffSession> for AccountView {
    fn from(session: &StaffSession) -> Self {
        let roles = session
            .member
            .grants
            .iter()
            .map(|g| match g {
                Grant::Platform => RoleView { tenant: None, role: "platform".into(), offices: Vec::new() },
                Grant::Tenant { slug, role, offices, .. } => RoleView {
                    tenant: Some(slug.clone()),
                    role: role.code().into(),
                    offices: offices.iter().map(Slug::to_string).collect(),
                },
            })
            .collect();
        Self { email: session.member.email.to_string(), roles, api_key: session.api_key().map(str::to_owned) }
    }
}

#[derive(Object)]
pub struct SessionView {
    /// Send it as `Authorization: Bearer <token>`; it is shown only here.
    pub token: String,
    /// What the admin pages' forms send back; API clients with a bearer token do not need it.
    pub csrf_token: String,
    pub expires_at: String,
    pub account: AccountView,
}

#[derive(Object)]
pub struct TenantSummaryView {
    pub slug: String,
    pub name: String,
    pub config_version: i64,
    pub suspended: bool,
    pub staff: u64,
    pub upcoming_bookings: u64,
}

impl From<TenantSummary> for TenantSummaryView {
    fn from(t: TenantSummary) -> Self {
        Self {
            slug: t.slug,
            name: t.name,
            config_version: t.version,
            suspended: t.suspended,
            staff: t.staff,
            upcoming_bookings: t.upcoming_bookings,
        }
    }
}

#[derive(Object)]
pub struct OfficeLoadView {
    pub slug: String,
    pub name: String,
    pub upcoming_bookings: u64,
}

#[derive(Object)]
pub struct TenantOverviewView {
    pub slug: String,
    pub name: String,
    pub config_version: i64,
    /// The caller's role in this tenant.
    pub role: String,
    pub services: u64,
    pub offices: Vec<OfficeLoadView>,
}

impl From<TenantOverview> for TenantOverviewView {
    fn from(t: TenantOverview) -> Self {
        Self {
            slug: t.slug,
            name: t.name,
            config_version: t.version,
            role: t.role.code().into(),
            services: t.services as u64,
            offices: t
                .offices
                .into_iter()
                .map(|o| OfficeLoadView {
                    slug: o.slug.to_string(),
                    name: o.name,
                    upcoming_bookings: o.upcoming_bookings,
                })
                .collect(),
        }
    }
}

#[derive(Object)]
pub struct StaffMemberView {
    /// Names the member in `/t/{tenant}/staff/{account}`.
    pub account: i32,
    pub email: String,
    pub role: String,
    pub offices: Vec<String>,
    pub disabled: bool,
}

impl From<TenantStaff> for StaffMemberView {
    fn from(s: TenantStaff) -> Self {
        Self {
            account: s.account_id,
            email: s.email.to_string(),
            role: s.role.code().into(),
            offices: s.offices.iter().map(Slug::to_string).collect(),
            disabled: s.disabled,
        }
    }
}

#[derive(Object)]
pub struct PendingInvitationView {
    pub email: String,
    pub role: String,
    pub expires_at: String,
}

#[derive(Object)]
pub struct StaffListView {
    pub members: Vec<StaffMemberView>,
    pub pending_invitations: Vec<PendingInvitationView>,
}

#[derive(Object)]
pub struct InvitationRequest {
    pub email: String,
    /// `tenant_admin` or `operator` (in a tenant), `platform` (platform invitations).
    pub role: String,
    /// For operators: the slugs of their offices.
    #[oai(default)]
    pub offices: Vec<String>,
}

#[derive(Object)]
pub struct InvitationCreated {
    /// The link to hand to the invited person; shown only here, valid once.
    pub url: String,
    pub email: String,
    pub expires_at: String,
}

impl InvitationCreated {
    pub fn from(link: &InvitationLink) -> Self {
        Self {
            url: format!("/admin/invitation/{}", link.token),
            email: link.email.to_string(),
            expires_at: link.expires_at.to_rfc3339(),
        }
    }
}

#[derive(Object)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub client_address: Option<String>,
    pub action: String,
    pub detail: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: e.at.to_rfc3339(),
            actor: e.actor,
            client_address: e.client_address,
            action: e.action,
            detail: e.detail,
        }
    }
}

#[derive(Object)]
pub struct ConfigurationBody {
    /// The whole `tenant.toml`, as in a tenant pack (docs/tenant-pack.md).
    pub pack: String,
    /// What to do with upcoming bookings the change would strand: `keep` or `cancel`. Without
    /// it, such a change is refused with 409 listing them.
    pub stranded: Option<String>,
    /// With `cancel`: why, recorded on each cancelled booking (the citizens read it).
    pub cancel_reason: Option<String>,
    /// With `cancel`: the codes the 409 listed. When given, the save cancels only if exactly
    /// these are stranded now (else 409 again with the new list).
    pub stranded_codes: Option<Vec<String>>,
}

#[derive(Object)]
pub struct ConfigurationDocument {
    pub version: i64,
    pub pack: String,
}

#[derive(Object)]
pub struct SavedConfiguration {
    /// The version now in force (the new ETag).
    pub version: i64,
    /// What this save changed, as sentences; empty when nothing did.
    pub changes: Vec<String>,
}

#[derive(Object)]
pub struct VersionView {
    pub version: i64,
    pub saved_at: String,
    pub saved_by: String,
    pub changes: Vec<String>,
}

impl From<crate::store::VersionSummary> for VersionView {
    fn from(v: crate::store::VersionSummary) -> Self {
        Self { version: v.version, saved_at: v.saved_at.to_rfc3339(), saved_by: v.saved_by, changes: v.changes }
    }
}

#[derive(Object)]
pub struct TenantRequest {
    /// The address of its pages, `/t/<slug>/`: 1-63 of a-z, 0-9 and '-'.
    pub slug: String,
    pub name: String,
    /// IANA zone; Europe/Rome unless given.
    #[oai(default = "default_timezone")]
    pub timezone: String,
    /// Language codes, the default first; Italian and English unless given.
    #[oai(default = "default_locales")]
    pub locales: Vec<String>,
    /// Whom to invite as its first admin.
    pub admin_email: String,
}

fn default_timezone() -> String {
    "Europe/Rome".into()
}

fn default_locales() -> Vec<String> {
    vec!["it".into(), "en".into()]
}

#[derive(Object)]
pub struct TenantCreated {
    pub slug: String,
    /// The first admin's invitation, shown only here.
    pub invitation: InvitationCreated,
}
