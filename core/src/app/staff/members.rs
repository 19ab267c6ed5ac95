//! A tenant's admins managing its staff: another role or other offices, removal from the body,
//! and disabling an account that works for this body alone. A body always keeps an
//! administrator: changes to one tenant's staff are made one after the other, so that two admins
//! demoting each other at once cannot leave it without one.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use crate::app::{AppError, Sportello};
use crate::domain::{Grant, Role};
use crate::store::{ApiKeys, Invitations, Sessions, StaffAccounts, Tenants};

/// What an admin does to a member of the staff.
#[derive(Clone, Debug)]
pub enum StaffChange {
    /// Another role here (operators with their offices).
    Role { role: Role, offices: Vec<String> },
    /// No role here any more.
    Remove,
    /// The account may (not) sign in at all: only for accounts that work for this body alone.
    Disabled(bool),
}

impl Sportello {
    /// Applies `change` to the member `account` of the tenant's staff.
    pub async fn change_staff(
        &self,
        session: &StaffSession,
        slug: &str,
        account: i32,
        change: &StaffChange,
    ) -> Result<(), AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        session.require_person()?;
        let granted = match change {
            StaffChange::Role { role: Role::Platform, .. } => {
                return Err(AppError::field("role", "platform_in_tenant", "A platform role belongs to no tenant."));
            }
            StaffChange::Role { role, offices } => Some((*role, self.grant_scope(*role, Some(slug), offices).await?.1)),
            StaffChange::Remove | StaffChange::Disabled(_) => None,
        };
        let tx = self.store.begin_write().await?;
        Tenants::lock(tx.conn(), tenant.id).await?;
        let staff = StaffAccounts::of_tenant(tx.conn(), tenant.id).await?;
        let member = staff.iter().find(|m| m.account_id == account).ok_or(AppError::NotFound("staff"))?;
        let stays_admin = match change {
            StaffChange::Role { role, .. } => *role == Role::TenantAdmin,
            StaffChange::Remove | StaffChange::Disabled(true) => false,
            StaffChange::Disabled(false) => member.role == Role::TenantAdmin,
        };
        let other_admins =
            staff.iter().filter(|m| m.account_id != account && m.role == Role::TenantAdmin && !m.disabled).count();
        if other_admins == 0 && !stays_admin {
            return Err(AppError::field("role", "last_admin", "The body must keep at least one administrator."));
        }
        let action = match (change, granted) {
            (StaffChange::Role { .. }, Some((role, offices))) => {
                StaffAccounts::grant(tx.conn(), account, Some(tenant.id), role, &offices).await?;
                "staff.role_changed"
            }
            (StaffChange::Disabled(disabled), _) => {
                let grants = StaffAccounts::grants(tx.conn(), account).await?;
                let here_only = grants.iter().all(|g| matches!(g, Grant::Tenant { tenant: t, .. } if *t == tenant.id));
                if !here_only {
                    // Disabling would lock them out of other bodies too: only the platform may.
                    return Err(AppError::Forbidden);
                }
                StaffAccounts::set_disabled(tx.conn(), account, *disabled).await?;
                if *disabled {
                    // Its sessions end now: enabling it again must not bring them back.
                    Sessions::delete_for_account(tx.conn(), account, None).await?;
                }
                if *disabled { "staff.disabled" } else { "staff.enabled" }
            }
            _ => {
                StaffAccounts::revoke(tx.conn(), account, Some(tenant.id)).await?;
                "staff.removed"
            }
        };
        let loses_admin = member.role == Role::TenantAdmin && !stays_admin;
        let (keys, invitations) = if loses_admin {
            // What they gave as an admin does not outlast their being one.
            let now = self.clock.now();
            let email = member.email.to_string();
            (
                ApiKeys::revoke_made_by(tx.conn(), tenant.id, &email, now).await?,
                Invitations::withdraw_made_by(tx.conn(), tenant.id, account).await?,
            )
        } else {
            (0, 0)
        };
        tx.commit().await?;
        let mut detail = match change {
            StaffChange::Role { role, offices } => json!({
                "email": member.email.to_string(),
                "from": member.role.code(),
                "role": role.code(),
                "offices": offices,
            }),
            _ => json!({ "email": member.email.to_string(), "role": member.role.code() }),
        };
        if let (true, Some(fields)) = (loses_admin, detail.as_object_mut()) {
            fields.insert("api_keys_revoked".into(), json!(keys));
            fields.insert("invitations_withdrawn".into(), json!(invitations));
        }
        self.audit(Some(tenant.id), &Actor::of(session), action, detail).await
    }

    /// Whether the member `account` works for this body alone (so its admins may disable it).
    pub async fn works_here_only(&self, session: &StaffSession, slug: &str, account: i32) -> Result<bool, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let grants = StaffAccounts::grants(self.store.reader(), account).await?;
        Ok(!grants.is_empty() && grants.iter().all(|g| matches!(g, Grant::Tenant { tenant: t, .. } if *t == tenant.id)))
    }
}
