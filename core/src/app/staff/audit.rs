//! Writing and reading the audit log. Entries name staff by sign-in address and citizens by
//! booking code at most; never a password, a token or what a failed login typed.

use serde_json::Value;

use super::StaffSession;
use crate::app::{AppError, Sportello};
use crate::domain::{Grant, Role, StaffMember, TenantId};
use crate::store::{AuditEntry, AuditLog, AuditQuery};

/// Who did something, and from where.
pub(crate) struct Actor {
    id: Option<i32>,
    label: String,
    client: Option<String>,
}

impl Actor {
    pub(crate) fn of(session: &StaffSession) -> Self {
        match &session.credential {
            super::Credential::ApiKey { id, name } => {
                Self { id: None, label: format!("API key #{id} {name:?}"), client: session.client.clone() }
            }
            super::Credential::Session(_) => Self::member(&session.member, session.client.as_deref()),
        }
    }

    pub(crate) fn member(member: &StaffMember, client: Option<&str>) -> Self {
        Self { id: Some(member.id), label: member.email.to_string(), client: client.map(str::to_owned) }
    }

    pub(crate) fn unknown(client: Option<&str>) -> Self {
        Self { id: None, label: "unknown account".into(), client: client.map(str::to_owned) }
    }

    /// The command line (first accounts, demo accounts, packs applied).
    pub(crate) fn console() -> Self {
        Self { id: None, label: "console".into(), client: None }
    }

    /// How the history names whoever saved a version.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }
}

/// Which entries an admin asks for.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only actions starting with this, e.g. `login` or `staff.`.
    pub action: Option<String>,
    /// The next page: entries older than this id.
    pub before: Option<i64>,
}

/// A page of a log, and the zone its times read in: the tenant's, or UTC for the platform's.
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub timezone: chrono_tz::Tz,
}

/// Entries per page.
const PAGE: u64 = 50;

impl Sportello {
    /// Appends one entry to `tenant`'s log (None: the platform's).
    pub(crate) async fn audit(
        &self,
        tenant: Option<TenantId>,
        actor: &Actor,
        action: &str,
        detail: Value,
    ) -> Result<(), AppError> {
        AuditLog::append(self.store.reader(), &self.audit_entry(tenant, actor, action, detail)).await?;
        Ok(())
    }

    /// As `audit`, inside `tx`: the entry commits with the change it records, or neither does.
    pub(crate) async fn audit_in(
        &self,
        tx: &crate::store::WriteTx,
        tenant: Option<TenantId>,
        actor: &Actor,
        action: &str,
        detail: Value,
    ) -> Result<(), AppError> {
        AuditLog::append(tx.conn(), &self.audit_entry(tenant, actor, action, detail)).await?;
        Ok(())
    }

    fn audit_entry(&self, tenant: Option<TenantId>, actor: &Actor, action: &str, detail: Value) -> AuditEntry {
        AuditEntry {
            id: 0,
            tenant,
            at: self.clock.now(),
            actor_id: actor.id,
            actor: actor.label.clone(),
            client_address: actor.client.clone(),
            action: action.to_owned(),
            detail,
        }
    }

    /// An event about an account itself (login, logout, password): in the log of every tenant it
    /// works for, and in the platform's for platform admins and accounts without a role.
    pub(crate) async fn audit_member(
        &self,
        member: &StaffMember,
        actor: &Actor,
        action: &str,
        detail: Value,
    ) -> Result<(), AppError> {
        let mut scopes: Vec<Option<TenantId>> = member
            .grants
            .iter()
            .map(|g| match g {
                Grant::Platform => None,
                Grant::Tenant { tenant, .. } => Some(*tenant),
            })
            .collect();
        if scopes.is_empty() {
            scopes.push(None);
        }
        for scope in scopes {
            self.audit(scope, actor, action, detail.clone()).await?;
        }
        Ok(())
    }

    /// A page of `tenant`'s log, newest first (tenant admins); `None` reads the platform's
    /// (platform admins).
    pub async fn audit_log(
        &self,
        session: &StaffSession,
        tenant: Option<&str>,
        filter: &AuditFilter,
    ) -> Result<AuditPage, AppError> {
        let (scope, timezone) = match tenant {
            Some(slug) => {
                let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
                (Some(tenant.id), tenant.config.timezone)
            }
            None => {
                self.as_platform(session)?;
                (None, chrono_tz::UTC)
            }
        };
        let action = filter.action.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
        let query = AuditQuery { tenant: scope, action, before: filter.before, limit: PAGE };
        Ok(AuditPage { entries: AuditLog::read(self.store.reader(), &query).await?, timezone })
    }
}
