//! Staff accounts, their grants and invitations.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::StoreError;
use super::entities::{staff_account as account, staff_grant as grant, staff_invitation as invitation, tenant};
use crate::domain::{Grant, Role, Slug, StaffEmail, TenantId};

/// An account as stored, with its password hash (which never leaves `app::staff`).
#[derive(Clone, Debug)]
pub struct StoredAccount {
    pub id: i32,
    pub email: StaffEmail,
    pub password_hash: String,
    pub disabled: bool,
    /// The second factor, when on: the TOTP secret (base32) and the last step used.
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
}

impl TryFrom<account::Model> for StoredAccount {
    type Error = StoreError;

    fn try_from(m: account::Model) -> Result<Self, StoreError> {
        let email = StaffEmail::parse(&m.email)
            .ok_or_else(|| StoreError::Corrupt(format!("staff account {} has an invalid address", m.id)))?;
        Ok(Self {
            id: m.id,
            email,
            password_hash: m.password_hash,
            disabled: m.disabled,
            totp_secret: m.totp_secret,
            totp_pending_secret: m.totp_pending_secret,
            totp_last_step: m.totp_last_step,
        })
    }
}

/// A member of a tenant's staff, for the staff list.
#[derive(Clone, Debug)]
pub struct TenantStaff {
    pub account_id: i32,
    pub email: StaffEmail,
    pub role: Role,
    pub offices: Vec<Slug>,
    pub disabled: bool,
}

/// An invitation as stored (its token is known only by its digest).
#[derive(Clone, Debug)]
pub struct StoredInvitation {
    pub tenant: Option<TenantId>,
    pub email: StaffEmail,
    pub role: Role,
    pub offices: Vec<Slug>,
    pub expires_at: DateTime<Utc>,
    pub accepted: bool,
}

pub(super) fn role_of(raw: &str) -> Result<Role, StoreError> {
    Role::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("unknown staff role {raw:?}")))
}

pub(super) fn offices_of(raw: &str) -> Result<Vec<Slug>, StoreError> {
    let slugs: Vec<String> =
        serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("staff offices: {e}")))?;
    slugs.iter().map(|s| Slug::parse(s).map_err(|e| StoreError::Corrupt(format!("staff office {s:?}: {e}")))).collect()
}

pub(super) fn offices_text(offices: &[Slug]) -> String {
    serde_json::to_string(&offices.iter().map(Slug::as_str).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

pub struct StaffAccounts;

impl StaffAccounts {
    pub async fn by_email(
        conn: &impl ConnectionTrait,
        email: &StaffEmail,
    ) -> Result<Option<StoredAccount>, StoreError> {
        account::Entity::find()
            .filter(account::Column::Email.eq(email.as_str()))
            .one(conn)
            .await?
            .map(StoredAccount::try_from)
            .transpose()
    }

    pub async fn by_id(conn: &impl ConnectionTrait, id: i32) -> Result<Option<StoredAccount>, StoreError> {
        account::Entity::find_by_id(id).one(conn).await?.map(StoredAccount::try_from).transpose()
    }

    /// Fails with a unique violation when the address has an account already.
    pub async fn create(
        conn: &impl ConnectionTrait,
        email: &StaffEmail,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i32, StoreError> {
        let saved = account::ActiveModel {
            email: Set(email.as_str().to_owned()),
            password_hash: Set(password_hash.to_owned()),
            disabled: Set(false),
            created_at: Set(now),
            password_changed_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(saved.id)
    }

    pub async fn set_password(
        conn: &impl ConnectionTrait,
        id: i32,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        account::Entity::update_many()
            .col_expr(account::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(account::Column::PasswordChangedAt, Expr::value(now))
            .filter(account::Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Keeps a secret shown for enrolment until a code confirms it.
    pub async fn set_totp_pending(conn: &impl ConnectionTrait, id: i32, secret: &str) -> Result<(), StoreError> {
        account::Entity::update_many()
            .col_expr(account::Column::TotpPendingSecret, Expr::value(secret))
            .filter(account::Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Turns the second factor on with `secret` (`None`: off), its code of `step` spent.
    pub async fn set_totp(
        conn: &impl ConnectionTrait,
        id: i32,
        secret: Option<&str>,
        step: Option<i64>,
    ) -> Result<(), StoreError> {
        account::Entity::update_many()
            .col_expr(account::Column::TotpSecret, Expr::value(secret.map(str::to_owned)))
            .col_expr(account::Column::TotpPendingSecret, Expr::value(Option::<String>::None))
            .col_expr(account::Column::TotpLastStep, Expr::value(step))
            .filter(account::Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Spends the code of time step `step`, if no code of it or a later step was spent: of two
    /// requests with the same code, only one gets `true`.
    pub async fn spend_totp_step(conn: &impl ConnectionTrait, id: i32, step: i64) -> Result<bool, StoreError> {
        let spent = account::Entity::update_many()
            .col_expr(account::Column::TotpLastStep, Expr::value(step))
            .filter(account::Column::Id.eq(id))
            .filter(
                sea_orm::Condition::any()
                    .add(account::Column::TotpLastStep.is_null())
                    .add(account::Column::TotpLastStep.lt(step)),
            )
            .exec(conn)
            .await?;
        Ok(spent.rows_affected == 1)
    }

    pub async fn set_disabled(conn: &impl ConnectionTrait, id: i32, disabled: bool) -> Result<(), StoreError> {
        account::Entity::update_many()
            .col_expr(account::Column::Disabled, Expr::value(disabled))
            .filter(account::Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Every role the account holds, with each tenant's slug.
    pub async fn grants(conn: &impl ConnectionTrait, account_id: i32) -> Result<Vec<Grant>, StoreError> {
        let rows = grant::Entity::find()
            .filter(grant::Column::AccountId.eq(account_id))
            .order_by_asc(grant::Column::Id)
            .all(conn)
            .await?;
        let tenant_ids: Vec<i32> = rows.iter().filter_map(|g| g.tenant_id).collect();
        let tenants = tenant::Entity::find().filter(tenant::Column::Id.is_in(tenant_ids)).all(conn).await?;
        let mut grants = Vec::with_capacity(rows.len());
        for row in rows {
            let role = role_of(&row.role)?;
            match row.tenant_id {
                None if role == Role::Platform => grants.push(Grant::Platform),
                Some(id) if role != Role::Platform => {
                    let slug = tenants.iter().find(|t| t.id == id).map(|t| t.slug.clone()).unwrap_or_default();
                    let offices = offices_of(&row.offices)?;
                    grants.push(Grant::Tenant { tenant: TenantId::from_stored(id), slug, role, offices });
                }
                _ => return Err(StoreError::Corrupt(format!("staff grant {} mixes platform and tenant", row.id))),
            }
        }
        Ok(grants)
    }

    /// Gives `role` in `tenant` (None: the platform), replacing the account's role there.
    pub async fn grant(
        conn: &impl ConnectionTrait,
        account_id: i32,
        tenant: Option<TenantId>,
        role: Role,
        offices: &[Slug],
    ) -> Result<(), StoreError> {
        Self::revoke(conn, account_id, tenant).await?;
        grant::ActiveModel {
            account_id: Set(account_id),
            tenant_id: Set(tenant.map(TenantId::get)),
            role: Set(role.code().to_owned()),
            offices: Set(offices_text(offices)),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    /// Takes away the account's role in `tenant` (None: its platform role).
    pub async fn revoke(
        conn: &impl ConnectionTrait,
        account_id: i32,
        tenant: Option<TenantId>,
    ) -> Result<(), StoreError> {
        let scope = match tenant {
            Some(t) => grant::Column::TenantId.eq(t.get()),
            None => grant::Column::TenantId.is_null(),
        };
        grant::Entity::delete_many().filter(grant::Column::AccountId.eq(account_id)).filter(scope).exec(conn).await?;
        Ok(())
    }

    /// The tenant's staff, by address.
    pub async fn of_tenant(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<TenantStaff>, StoreError> {
        let grants = grant::Entity::find().filter(grant::Column::TenantId.eq(tenant.get())).all(conn).await?;
        let ids: Vec<i32> = grants.iter().map(|g| g.account_id).collect();
        let accounts = account::Entity::find()
            .filter(account::Column::Id.is_in(ids))
            .order_by_asc(account::Column::Email)
            .all(conn)
            .await?;
        let mut staff = Vec::with_capacity(accounts.len());
        for a in accounts {
            let Some(g) = grants.iter().find(|g| g.account_id == a.id) else { continue };
            let (role, offices) = (role_of(&g.role)?, offices_of(&g.offices)?);
            let stored = StoredAccount::try_from(a)?;
            staff.push(TenantStaff {
                account_id: stored.id,
                email: stored.email,
                role,
                offices,
                disabled: stored.disabled,
            });
        }
        Ok(staff)
    }

    /// How many accounts hold a role in each tenant, by tenant id.
    pub async fn count_by_tenant(conn: &impl ConnectionTrait) -> Result<Vec<(i32, u64)>, StoreError> {
        let rows = grant::Entity::find().filter(grant::Column::TenantId.is_not_null()).all(conn).await?;
        let mut counts: std::collections::BTreeMap<i32, u64> = std::collections::BTreeMap::new();
        for id in rows.iter().filter_map(|g| g.tenant_id) {
            *counts.entry(id).or_default() += 1;
        }
        Ok(counts.into_iter().collect())
    }
}

pub struct Invitations;

impl Invitations {
    #[allow(clippy::too_many_arguments)] // one row's columns
    pub async fn create(
        conn: &impl ConnectionTrait,
        token_digest: &str,
        tenant: Option<TenantId>,
        email: &StaffEmail,
        role: Role,
        offices: &[Slug],
        invited_by: Option<i32>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        invitation::ActiveModel {
            token_digest: Set(token_digest.to_owned()),
            tenant_id: Set(tenant.map(TenantId::get)),
            email: Set(email.as_str().to_owned()),
            role: Set(role.code().to_owned()),
            offices: Set(offices_text(offices)),
            invited_by: Set(invited_by),
            created_at: Set(now),
            expires_at: Set(expires_at),
            accepted_at: Set(None),
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    pub async fn find(conn: &impl ConnectionTrait, token_digest: &str) -> Result<Option<StoredInvitation>, StoreError> {
        let Some(m) = invitation::Entity::find_by_id(token_digest.to_owned()).one(conn).await? else { return Ok(None) };
        let email = StaffEmail::parse(&m.email)
            .ok_or_else(|| StoreError::Corrupt("invitation with an invalid address".into()))?;
        Ok(Some(StoredInvitation {
            tenant: m.tenant_id.map(TenantId::from_stored),
            email,
            role: role_of(&m.role)?,
            offices: offices_of(&m.offices)?,
            expires_at: m.expires_at,
            accepted: m.accepted_at.is_some(),
        }))
    }

    /// Marks the invitation used; `false` when it already was (a concurrent acceptance won).
    pub async fn accept(
        conn: &impl ConnectionTrait,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = invitation::Entity::update_many()
            .col_expr(invitation::Column::AcceptedAt, Expr::value(Some(now)))
            .filter(invitation::Column::TokenDigest.eq(token_digest))
            .filter(invitation::Column::AcceptedAt.is_null())
            .exec(conn)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Invitations not yet accepted nor expired, for the staff page: (address, role, expiry).
    /// Withdraws the open invitations `account` made in `tenant` (they lost the right to give them).
    pub async fn withdraw_made_by(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        account: i32,
    ) -> Result<u64, StoreError> {
        let withdrawn = invitation::Entity::delete_many()
            .filter(invitation::Column::TenantId.eq(tenant.get()))
            .filter(invitation::Column::InvitedBy.eq(account))
            .filter(invitation::Column::AcceptedAt.is_null())
            .exec(conn)
            .await?;
        Ok(withdrawn.rows_affected)
    }

    pub async fn pending(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(StaffEmail, Role, DateTime<Utc>)>, StoreError> {
        let rows = invitation::Entity::find()
            .filter(invitation::Column::TenantId.eq(tenant.get()))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .order_by_asc(invitation::Column::CreatedAt)
            .all(conn)
            .await?;
        rows.into_iter()
            .map(|m| {
                let email = StaffEmail::parse(&m.email)
                    .ok_or_else(|| StoreError::Corrupt("invitation with an invalid address".into()))?;
                Ok((email, role_of(&m.role)?, m.expires_at))
            })
            .collect()
    }
}
