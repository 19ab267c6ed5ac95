//! What staff see first: every tenant (platform admins), or one tenant at a glance.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use crate::app::{AppError, Sportello};
use crate::domain::{Role, Slug, TenantId};
use crate::store::{Bookings, StaffAccounts, Tenants};

/// One tenant in the platform's list.
#[derive(Clone, Debug)]
pub struct TenantSummary {
    pub slug: String,
    pub name: String,
    pub version: i64,
    pub suspended: bool,
    pub staff: u64,
    pub upcoming_bookings: u64,
}

/// An office and how busy it is.
#[derive(Clone, Debug)]
pub struct OfficeLoad {
    pub slug: Slug,
    pub name: String,
    pub upcoming_bookings: u64,
}

/// One tenant at a glance.
#[derive(Clone, Debug)]
pub struct TenantOverview {
    pub slug: String,
    pub name: String,
    pub version: i64,
    /// The role the viewer holds there.
    pub role: Role,
    pub services: usize,
    /// The tenant's time zone, to show times in.
    pub timezone: chrono_tz::Tz,
    /// The offices the viewer may see: all of them, or an operator's own.
    pub offices: Vec<OfficeLoad>,
}

impl Sportello {
    /// Every tenant with its size (platform admins).
    pub async fn tenant_summaries(&self, session: &StaffSession) -> Result<Vec<TenantSummary>, AppError> {
        self.as_platform(session)?;
        let now = self.clock.now();
        let staff = StaffAccounts::count_by_tenant(self.store.reader()).await?;
        let mut summaries = Vec::new();
        for tenant in Tenants::all(self.store.reader()).await? {
            let upcoming = Bookings::count_upcoming(self.store.reader(), tenant.id, None, None, now).await?;
            summaries.push(TenantSummary {
                staff: staff.iter().find(|(id, _)| *id == tenant.id.get()).map_or(0, |(_, n)| *n),
                slug: tenant.slug,
                name: tenant.name,
                version: tenant.version,
                suspended: tenant.suspended,
                upcoming_bookings: upcoming,
            });
        }
        Ok(summaries)
    }

    /// A tenant at a glance (anyone with a role there; operators see their own offices).
    pub async fn tenant_overview(&self, session: &StaffSession, slug: &str) -> Result<TenantOverview, AppError> {
        let tenant = self.tenant_for(session, slug, Role::Operator).await?;
        let role = session.member.may(tenant.id, Role::Operator)?;
        let own_offices: Vec<&str> = session
            .member
            .tenant_grants()
            .filter(|(s, _, _)| *s == tenant.config.slug.as_str())
            .flat_map(|(_, _, offices)| offices.iter().map(Slug::as_str))
            .collect();
        let now = self.clock.now();
        let mut offices = Vec::new();
        for office in &tenant.config.offices {
            if role == Role::Operator && !own_offices.contains(&office.slug.as_str()) {
                continue;
            }
            let upcoming =
                Bookings::count_upcoming(self.store.reader(), tenant.id, None, Some(office.slug.as_str()), now).await?;
            offices.push(OfficeLoad {
                slug: office.slug.clone(),
                name: office.name.clone(),
                upcoming_bookings: upcoming,
            });
        }
        Ok(TenantOverview {
            slug: tenant.config.slug.to_string(),
            name: tenant.config.name.clone(),
            version: tenant.version,
            role,
            services: tenant.config.services.len(),
            timezone: tenant.config.timezone,
            offices,
        })
    }

    pub(super) async fn tenant_name(&self, id: TenantId) -> Result<String, AppError> {
        let tenants = Tenants::all(self.store.reader()).await?;
        tenants.into_iter().find(|t| t.id == id).map(|t| t.name).ok_or(AppError::NotFound("tenant"))
    }

    /// Suspends or reactivates a tenant (platform admins): while suspended its pages and API say
    /// it is temporarily unavailable; nothing is deleted.
    pub async fn set_suspended(&self, session: &StaffSession, slug: &str, suspended: bool) -> Result<(), AppError> {
        self.as_platform(session)?;
        let now = self.clock.now();
        let tenant = Tenants::set_suspended(self.store.reader(), slug, suspended.then_some(now)).await?;
        let tenant = tenant.ok_or(AppError::NotFound("tenant"))?;
        self.catalog.forget(slug);
        let action = if suspended { "tenant.suspended" } else { "tenant.reactivated" };
        let actor = Actor::of(session);
        self.audit(None, &actor, action, json!({ "tenant": slug })).await?;
        self.audit(Some(tenant), &actor, action, json!({})).await
    }
}
