//! API keys for integrators: a credential for one tenant's admin API with a role there, shown
//! once when made, kept only as a digest, revocable, with the time it was last used. A key acts
//! within its role like a person would, except that it cannot give lasting access to anyone
//! (staff, other keys) nor end sessions or change passwords.

use serde_json::json;

use super::audit::Actor;
use super::secrets::{digest, new_secret, well_formed};
use super::{Credential, StaffSession};
use crate::app::{AppError, Sportello};
use crate::domain::text::single_line;
use crate::domain::{Grant, Role, StaffEmail, StaffMember};
use crate::store::{ApiKeys, NewApiKey, StoredApiKey};

/// How a key starts, so that it is told from a session token (and found by secret scanners).
pub(crate) const API_KEY_PREFIX: &str = "sportello_key_";

/// A key's last use is written at most this often.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// What an admin asks for.
#[derive(Clone, Debug)]
pub struct NewApiKeyRequest {
    /// What the key is for, e.g. "protocollo".
    pub name: String,
    pub role: Role,
    /// For an operator's key: its offices.
    pub offices: Vec<String>,
}

/// A key just made: its secret is shown this once.
#[derive(Clone, Debug)]
pub struct ApiKeyMade {
    pub id: i32,
    pub name: String,
    pub secret: String,
}

impl Sportello {
    /// Makes a key for the tenant (its admins, signed in as themselves).
    pub async fn create_api_key(
        &self,
        session: &StaffSession,
        slug: &str,
        request: &NewApiKeyRequest,
    ) -> Result<ApiKeyMade, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        session.require_person()?;
        let name = single_line(&request.name, 100).ok_or_else(|| {
            AppError::field("name", "invalid_key_name", "Name the key on one line, up to 100 characters.")
        })?;
        if request.role == Role::Platform {
            return Err(AppError::field("role", "platform_in_tenant", "A platform role belongs to no tenant."));
        }
        let (_, offices) = self.grant_scope(request.role, Some(slug), &request.offices).await?;
        let secret = new_secret();
        let created_by = session.member.email.to_string();
        let new = NewApiKey {
            tenant: tenant.id,
            name: &name,
            key_digest: &digest(&secret),
            role: request.role,
            offices: &offices,
            created_by: &created_by,
            now: self.clock.now(),
        };
        let id = ApiKeys::create(self.store.reader(), &new).await?;
        let detail = json!({ "key": id, "name": name, "role": request.role.code() });
        self.audit(Some(tenant.id), &Actor::of(session), "api_key.created", detail).await?;
        Ok(ApiKeyMade { id, name, secret: format!("{API_KEY_PREFIX}{secret}") })
    }

    /// The tenant's keys, newest first (never their secrets).
    pub async fn api_keys(&self, session: &StaffSession, slug: &str) -> Result<Vec<StoredApiKey>, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        Ok(ApiKeys::of_tenant(self.store.reader(), tenant.id).await?)
    }

    /// Revokes a key: its next request is refused, on every instance.
    pub async fn revoke_api_key(&self, session: &StaffSession, slug: &str, id: i32) -> Result<(), AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        session.require_person()?;
        let (key, revoked) = ApiKeys::revoke(self.store.reader(), tenant.id, id, self.clock.now())
            .await?
            .ok_or(AppError::NotFound("api key"))?;
        if !revoked {
            return Ok(());
        }
        let detail = json!({ "key": id, "name": key.name });
        self.audit(Some(tenant.id), &Actor::of(session), "api_key.revoked", detail).await
    }

    /// The request's credential when it is an API key (without its prefix).
    pub(super) async fn api_key_session(&self, key: &str, client: Option<&str>) -> Result<StaffSession, AppError> {
        if !well_formed(key) {
            return Err(AppError::Unauthenticated);
        }
        let stored = ApiKeys::by_digest(self.store.reader(), &digest(key)).await?;
        let Some(stored) = stored.filter(|k| k.revoked_at.is_none()) else { return Err(AppError::Unauthenticated) };
        let now = self.clock.now();
        if stored.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
            ApiKeys::touch(self.store.reader(), stored.id, now).await?;
        }
        let slug = crate::store::Tenants::slug_of(self.store.reader(), stored.tenant).await?.unwrap_or_default();
        let grant = Grant::Tenant { tenant: stored.tenant, slug, role: stored.role, offices: stored.offices };
        // A key is nobody's account: id 0 matches none, the address is reserved (RFC 2606).
        let email =
            StaffEmail::parse(&format!("key-{}@api-keys.invalid", stored.id)).ok_or(AppError::Unauthenticated)?;
        Ok(StaffSession {
            member: StaffMember { id: 0, email, grants: vec![grant] },
            csrf: String::new(),
            client: client.map(str::to_owned),
            credential: Credential::ApiKey { id: stored.id, name: stored.name },
            expires_at: chrono::DateTime::<chrono::Utc>::MAX_UTC,
            // Not a person: a key is no less (and no more) than what its admin gave it.
            two_factor: false,
        })
    }
}
