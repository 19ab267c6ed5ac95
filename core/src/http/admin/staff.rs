//! A tenant's staff as resources of the admin API: the list, invitations, and each member's
//! role, offices, removal and account.

use poem_openapi::Object;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;

use super::dto::{InvitationCreated, InvitationRequest, PendingInvitationView, StaffListView};
use super::{AdminApi, AdminTag, ApiResult, Done, Invited, StaffToken, parse_role};
use crate::app::StaffChange;

pub struct StaffApi {
    pub admin: AdminApi,
}

/// A member's role in the tenant.
#[derive(Object)]
pub struct RoleChange {
    /// `tenant_admin` or `operator`.
    pub role: String,
    /// For operators: the slugs of their offices.
    #[oai(default)]
    pub offices: Vec<String>,
}

impl StaffApi {
    async fn change(
        &self,
        request: &poem::Request,
        auth: &StaffToken,
        tenant: &str,
        account: i32,
        change: StaffChange,
    ) -> ApiResult<Done> {
        let session = self.admin.session(auth, request).await?;
        self.admin.app.change_staff(&session, tenant, account, &change).await?;
        Ok(Done::NoContent)
    }

    /// The role a request names, once the caller is known to administer the tenant.
    async fn role_change(
        &self,
        request: &poem::Request,
        auth: &StaffToken,
        tenant: &str,
        body: &RoleChange,
    ) -> Result<StaffChange, crate::app::AppError> {
        let session = self.admin.session(auth, request).await?;
        self.admin.app.tenant_for(&session, tenant, crate::domain::Role::TenantAdmin).await?;
        Ok(StaffChange::Role { role: parse_role(&body.role)?, offices: body.offices.clone() })
    }
}

#[poem_openapi::OpenApi(prefix_path = "/admin")]
impl StaffApi {
    /// The tenant's staff and open invitations.
    #[oai(path = "/t/:tenant/staff", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn staff(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Json<StaffListView>> {
        let session = self.admin.session(&auth, request).await?;
        let list = self.admin.app.staff_list(&session, &tenant).await?;
        Ok(Json(StaffListView {
            members: list.members.into_iter().map(Into::into).collect(),
            pending_invitations: list
                .pending
                .into_iter()
                .map(|(email, role, expires_at)| PendingInvitationView {
                    email: email.to_string(),
                    role: role.code().into(),
                    expires_at: expires_at.to_rfc3339(),
                })
                .collect(),
        }))
    }

    /// Invites someone to the tenant's staff; the link is shown once, here.
    #[oai(path = "/t/:tenant/staff/invitations", method = "post", tag = "AdminTag::TenantAdmin")]
    async fn invite(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        body: Json<InvitationRequest>,
    ) -> ApiResult<Invited> {
        let session = self.admin.session(&auth, request).await?;
        let link = self.admin.app.invite(&session, Some(&tenant), &AdminApi::new_staff(&body)?).await?;
        Ok(Invited::Created(Json(InvitationCreated::from(&link))))
    }

    /// Gives a member another role (operators with their offices). The body always keeps an
    /// administrator: demoting the last one is refused (422, `last_admin`).
    #[oai(path = "/t/:tenant/staff/:account", method = "put", tag = "AdminTag::TenantAdmin")]
    async fn put_member(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        account: Path<i32>,
        body: Json<RoleChange>,
    ) -> ApiResult<Done> {
        let change = self.role_change(request, &auth, &tenant, &body).await?;
        self.change(request, &auth, &tenant, account.0, change).await
    }

    /// Removes a member from the body's staff (the account and its roles elsewhere stay).
    #[oai(path = "/t/:tenant/staff/:account", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn remove_member(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        account: Path<i32>,
    ) -> ApiResult<Done> {
        self.change(request, &auth, &tenant, account.0, StaffChange::Remove).await
    }

    /// Disables the account of a member who works for this body alone: they can no longer sign
    /// in, and their sessions end. (An account with roles elsewhere: 403, only the platform may.)
    #[oai(path = "/t/:tenant/staff/:account/disabled", method = "put", tag = "AdminTag::TenantAdmin")]
    async fn disable_member(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        account: Path<i32>,
    ) -> ApiResult<Done> {
        self.change(request, &auth, &tenant, account.0, StaffChange::Disabled(true)).await
    }

    /// Enables a disabled account again.
    #[oai(path = "/t/:tenant/staff/:account/disabled", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn enable_member(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        account: Path<i32>,
    ) -> ApiResult<Done> {
        self.change(request, &auth, &tenant, account.0, StaffChange::Disabled(false)).await
    }
}

/// An API key as listed: never its secret.
#[derive(Object)]
pub struct ApiKeyView {
    pub id: i32,
    pub name: String,
    /// `tenant_admin` or `operator`.
    pub role: String,
    pub offices: Vec<String>,
    /// The address of the admin who made it.
    pub created_by: String,
    pub created_at: String,
    /// To the minute; none if never used.
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<crate::store::StoredApiKey> for ApiKeyView {
    fn from(k: crate::store::StoredApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role.code().into(),
            offices: k.offices.iter().map(ToString::to_string).collect(),
            created_by: k.created_by,
            created_at: k.created_at.to_rfc3339(),
            last_used_at: k.last_used_at.map(|t| t.to_rfc3339()),
            revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Object)]
pub struct ApiKeyRequest {
    /// What the key is for, e.g. the system that uses it.
    pub name: String,
    /// `tenant_admin` or `operator`.
    pub role: String,
    #[oai(default)]
    pub offices: Vec<String>,
}

/// A key just made. `key` is shown this once: send it as `Authorization: Bearer <key>`.
#[derive(Object)]
pub struct ApiKeyCreated {
    pub id: i32,
    pub name: String,
    pub key: String,
}

#[derive(poem_openapi::ApiResponse)]
pub enum KeyMade {
    #[oai(status = 201)]
    Created(Json<ApiKeyCreated>),
}

pub struct ApiKeysApi {
    pub admin: AdminApi,
}

#[poem_openapi::OpenApi(prefix_path = "/admin")]
impl ApiKeysApi {
    /// The tenant's API keys, newest first, with when each was last used.
    #[oai(path = "/t/:tenant/api-keys", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn keys(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Json<Vec<ApiKeyView>>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.api_keys(&session, &tenant).await?.into_iter().map(Into::into).collect()))
    }

    /// Makes an API key for an integrator, with a role in this tenant (an operator's with its
    /// offices). Only a person signed in can make one, not another key.
    #[oai(path = "/t/:tenant/api-keys", method = "post", tag = "AdminTag::TenantAdmin")]
    async fn create_key(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        body: Json<ApiKeyRequest>,
    ) -> ApiResult<KeyMade> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.tenant_for(&session, &tenant, crate::domain::Role::TenantAdmin).await?;
        let new = crate::app::NewApiKeyRequest {
            name: body.name.clone(),
            role: parse_role(&body.role)?,
            offices: body.offices.clone(),
        };
        let made = self.admin.app.create_api_key(&session, &tenant, &new).await?;
        Ok(KeyMade::Created(Json(ApiKeyCreated { id: made.id, name: made.name, key: made.secret })))
    }

    /// Revokes a key: its next request is refused on every instance.
    #[oai(path = "/t/:tenant/api-keys/:key", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn revoke_key(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        key: Path<i32>,
    ) -> ApiResult<Done> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.revoke_api_key(&session, &tenant, key.0).await?;
        Ok(Done::NoContent)
    }
}
