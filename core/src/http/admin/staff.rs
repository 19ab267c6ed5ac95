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
