//! Creating accounts: the first ones from the console, the rest by invitation, so that no
//! password is ever chosen by anyone but its owner or travels in a message.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::audit::Actor;
use super::secrets::{digest, new_secret, well_formed};
use super::sessions::LoggedIn;
use super::{StaffSession, passwords};
use crate::app::{AppError, Sportello};
use crate::domain::{Grant, NewPassword, Role, Slug, StaffEmail, TenantId};
use crate::store::{Invitations, Sessions, StaffAccounts, TenantStaff};

/// An invitation link stays valid this long.
const INVITATION_LIFETIME: TimeDelta = TimeDelta::days(7);

/// A new staff member as an admin describes them.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub email: String,
    pub role: Role,
    /// For operators: the offices whose agenda they work.
    pub offices: Vec<String>,
}

/// An invitation just made: the secret link is shown to the inviting admin once.
#[derive(Clone, Debug)]
pub struct InvitationLink {
    pub token: String,
    pub email: StaffEmail,
    pub expires_at: DateTime<Utc>,
}

/// What an invitation offers, for the page that accepts it.
#[derive(Clone, Debug)]
pub struct InvitationView {
    pub email: StaffEmail,
    pub role: Role,
    /// The tenant's display name; None for a platform invitation.
    pub tenant: Option<String>,
}

/// A tenant's staff and the invitations still open.
#[derive(Clone, Debug)]
pub struct StaffList {
    pub members: Vec<TenantStaff>,
    pub pending: Vec<(StaffEmail, Role, DateTime<Utc>)>,
}

/// A password someone chose for `email`, or the field error that says why not.
fn chosen_password(raw: &str, email: &StaffEmail) -> Result<NewPassword, AppError> {
    NewPassword::parse(raw, email).map_err(|e| AppError::field("password", e.code(), e.to_string()))
}

impl Sportello {
    /// Creates an account with a role, from the console (`sportello admin create`). An address
    /// that has an account already gets the role added, its password unchanged.
    pub async fn create_account(
        &self,
        email: &str,
        role: Role,
        tenant: Option<&str>,
        offices: &[String],
        password: &str,
    ) -> Result<bool, AppError> {
        let email = StaffEmail::parse(email)
            .ok_or_else(|| AppError::field("email", "invalid_email", "Use an address like name@example.org."))?;
        let scope = self.grant_scope(role, tenant, offices).await?;
        let hash = passwords::hash(&chosen_password(password, &email)?).await?;
        let now = self.clock.now();
        let tx = self.store.begin_write().await?;
        let (id, created) = match StaffAccounts::by_email(tx.conn(), &email).await? {
            Some(existing) => (existing.id, false),
            None => (StaffAccounts::create(tx.conn(), &email, &hash, now).await?, true),
        };
        StaffAccounts::grant(tx.conn(), id, scope.0, role, &scope.1).await?;
        tx.commit().await?;
        let detail = json!({ "account": email.as_str(), "role": role.code(), "created": created });
        self.audit(scope.0, &Actor::console(), "staff.granted", detail).await?;
        Ok(created)
    }

    /// Demo mode: the account exists with exactly this password and role (a new password on
    /// every start, printed once on the console), and its old sessions end.
    pub async fn reset_demo_account(
        &self,
        email: &str,
        role: Role,
        tenant: Option<&str>,
        offices: &[String],
        password: &str,
    ) -> Result<(), AppError> {
        let created = self.create_account(email, role, tenant, offices, password).await?;
        if !created && let Some(email) = StaffEmail::parse(email) {
            let hash = passwords::hash(&chosen_password(password, &email)?).await?;
            let tx = self.store.begin_write().await?;
            if let Some(account) = StaffAccounts::by_email(tx.conn(), &email).await? {
                StaffAccounts::set_password(tx.conn(), account.id, &hash, self.clock.now()).await?;
                Sessions::delete_for_account(tx.conn(), account.id, None).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Where a grant of `role` applies, with its offices checked against the tenant's.
    pub(super) async fn grant_scope(
        &self,
        role: Role,
        tenant: Option<&str>,
        offices: &[String],
    ) -> Result<(Option<TenantId>, Vec<Slug>), AppError> {
        match (role, tenant) {
            (Role::Platform, None) => Ok((None, Vec::new())),
            (Role::Platform, Some(_)) => {
                Err(AppError::field("role", "platform_in_tenant", "A platform role belongs to no tenant."))
            }
            (_, None) => Err(AppError::field("tenant", "tenant_required", "Name the tenant this role is in.")),
            (_, Some(slug)) => {
                let snapshot = self.tenant_snapshot(slug).await?;
                let mut chosen = Vec::new();
                for office in offices.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
                    let slug = Slug::parse(office).ok().filter(|s| snapshot.config.office(s.as_str()).is_some());
                    let slug = slug.ok_or_else(|| {
                        AppError::field(
                            "offices",
                            "unknown_office",
                            format!("{office:?} is not an office of this tenant."),
                        )
                    })?;
                    if !chosen.contains(&slug) {
                        chosen.push(slug);
                    }
                }
                if role == Role::Operator && chosen.is_empty() {
                    return Err(AppError::field(
                        "offices",
                        "offices_required",
                        "Choose the offices this operator works for.",
                    ));
                }
                if role != Role::Operator {
                    chosen.clear();
                }
                Ok((Some(snapshot.id), chosen))
            }
        }
    }

    /// Invites someone to `tenant` (None: to the platform, by a platform admin). Tenant admins
    /// invite admins and operators of their own tenant; only platform admins invite platform admins.
    pub async fn invite(
        &self,
        session: &StaffSession,
        tenant: Option<&str>,
        new: &NewStaff,
    ) -> Result<InvitationLink, AppError> {
        match tenant {
            Some(slug) => {
                self.tenant_for(session, slug, Role::TenantAdmin).await?;
            }
            None => self.as_platform(session)?,
        }
        session.require_person()?;
        if new.role == Role::Platform {
            self.as_platform(session)?;
        }
        let email = StaffEmail::parse(&new.email)
            .ok_or_else(|| AppError::field("email", "invalid_email", "Use an address like name@example.org."))?;
        let (scope, offices) = self.grant_scope(new.role, tenant, &new.offices).await?;
        let token = new_secret();
        let now = self.clock.now();
        let expires_at = now + INVITATION_LIFETIME;
        let tx = self.store.begin_write().await?;
        Invitations::create(
            tx.conn(),
            &digest(&token),
            scope,
            &email,
            new.role,
            &offices,
            Some(session.member.id),
            now,
            expires_at,
        )
        .await?;
        tx.commit().await?;
        let detail = json!({ "email": email.as_str(), "role": new.role.code(), "offices": offices.iter().map(Slug::as_str).collect::<Vec<_>>() });
        self.audit(scope, &Actor::of(session), "staff.invited", detail).await?;
        Ok(InvitationLink { token, email, expires_at })
    }

    /// What the invitation behind `token` offers, if it is still open.
    pub async fn invitation(&self, token: &str) -> Result<InvitationView, AppError> {
        let invitation = self.open_invitation(token).await?;
        let tenant = match invitation.tenant {
            Some(id) => Some(self.tenant_name(id).await?),
            None => None,
        };
        // Whether the address has an account is not said: whoever holds the link (the inviting
        // admin too) would learn it for any address. The form takes either password.
        Ok(InvitationView { email: invitation.email, role: invitation.role, tenant })
    }

    async fn open_invitation(&self, token: &str) -> Result<crate::store::StoredInvitation, AppError> {
        if !well_formed(token) {
            return Err(AppError::InvitationInvalid);
        }
        let found = Invitations::find(self.store.reader(), &digest(token)).await?;
        found.filter(|i| !i.accepted && i.expires_at > self.clock.now()).ok_or(AppError::InvitationInvalid)
    }

    /// Accepts an invitation: a new account sets its password here; an existing account proves
    /// itself with its password and gains the role. Either way it is signed in. A link works once.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        client: Option<&str>,
    ) -> Result<LoggedIn, AppError> {
        let invitation = self.open_invitation(token).await?;
        let existing = StaffAccounts::by_email(self.store.reader(), &invitation.email).await?;
        let new_hash = match &existing {
            Some(account) => {
                if !self.password_proves(account, password, client).await? {
                    return Err(AppError::field(
                        "password",
                        "wrong_password",
                        "This is not the password of this account.",
                    ));
                }
                None
            }
            None => Some(passwords::hash(&chosen_password(password, &invitation.email)?).await?),
        };
        let now = self.clock.now();
        let tx = self.store.begin_write().await?;
        if !Invitations::accept(tx.conn(), &digest(token), now).await? {
            return Err(AppError::InvitationInvalid);
        }
        let id = match (&existing, new_hash) {
            (Some(account), _) => account.id,
            (None, Some(hash)) => StaffAccounts::create(tx.conn(), &invitation.email, &hash, now).await?,
            (None, None) => return Err(AppError::InvitationInvalid),
        };
        // An invitation adds a role; it never lowers one held there already (an admin invited
        // as an operator stays an admin, so no body loses its last admin this way).
        let held = StaffAccounts::grants(tx.conn(), id).await?;
        let lowers = invitation.role == Role::Operator
            && held.iter().any(|g| {
                matches!(g, Grant::Tenant { tenant, role: Role::TenantAdmin, .. } if Some(*tenant) == invitation.tenant)
            });
        if !lowers {
            StaffAccounts::grant(tx.conn(), id, invitation.tenant, invitation.role, &invitation.offices).await?;
        }
        tx.commit().await?;
        let member = self.member(id, invitation.email.clone()).await?;
        let actor = super::audit::Actor::member(&member, client);
        let detail = json!({ "role": invitation.role.code(), "new_account": existing.is_none() });
        self.audit(invitation.tenant, &actor, "staff.joined", detail).await?;
        self.open_session_for(member, client).await
    }

    /// A tenant's staff and open invitations (tenant admins).
    pub async fn staff_list(&self, session: &StaffSession, slug: &str) -> Result<StaffList, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let members = StaffAccounts::of_tenant(self.store.reader(), tenant.id).await?;
        let pending = Invitations::pending(self.store.reader(), tenant.id, self.clock.now()).await?;
        Ok(StaffList { members, pending })
    }
}
