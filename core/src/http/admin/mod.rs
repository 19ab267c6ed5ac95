//! The admin API, `/api/v1/admin/…`: sessions, the platform's tenants, and each tenant's staff
//! and audit log. Each operation's tag names the least role it needs (`Session`: none); the
//! route-table test reads the tags from the OpenAPI document and checks every operation
//! without credentials, from another tenant and with a lesser role.

mod desk;
mod dto;
mod feeds;
mod parts;
mod settings;
mod staff;
mod statistics;
mod transfer;
mod webhooks;

pub use desk::DeskApi;
pub use feeds::FeedsApi;
pub use parts::PartsApi;
pub use settings::SettingsApi;
pub use staff::{ApiKeysApi, StaffApi};
pub use statistics::StatisticsApi;
pub use transfer::PacksApi;
pub use webhooks::WebhooksApi;

use poem_openapi::auth::Bearer;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, SecurityScheme, Tags};

use super::problem::ProblemResponse;
use super::public::HttpOptions;
use crate::app::{AppError, AuditFilter, NewStaff, Sportello, StaffSession, StrandPolicy};
use crate::domain::Role;
use crate::web::{client_address, staff_cookie};
use dto::{
    Acceptance, AccountView, AuditEntryView, ConfigurationBody, ConfigurationDocument, Credentials, InvitationCreated,
    InvitationRequest, PasswordChange, SavedConfiguration, SessionView, TenantCreated, TenantOverviewView,
    TenantRequest, TenantSummaryView, VersionView,
};

/// The least role an operation needs.
#[derive(Tags)]
pub enum AdminTag {
    /// Signing in, and accepting an invitation: no credentials.
    Session,
    /// Any signed-in staff member, about their own account.
    Account,
    /// Platform admins.
    Platform,
    /// A tenant's admins (and platform admins).
    TenantAdmin,
    /// Anyone with a role in the tenant, operators included.
    TenantStaff,
}

/// A session token from `POST /admin/session`, as `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
pub struct StaffToken(Bearer);

pub struct AdminApi {
    pub app: Sportello,
    pub options: HttpOptions,
}

#[derive(ApiResponse)]
pub enum SessionOpened {
    /// Signed in: the token is in the body, and in a cookie for the admin pages.
    #[oai(status = 201)]
    Created(Json<SessionView>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum SessionClosed {
    #[oai(status = 204)]
    NoContent(#[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum Done {
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
pub enum Onboarded {
    /// The body exists (with no services yet) and its first admin is invited.
    #[oai(status = 201)]
    Created(Json<TenantCreated>),
}

#[derive(ApiResponse)]
pub enum Invited {
    #[oai(status = 201)]
    Created(Json<InvitationCreated>),
}

#[derive(ApiResponse)]
pub enum Configuration {
    /// The configuration and, in `ETag`, its version: send it back in `If-Match` to save.
    #[oai(status = 200)]
    Ok(Json<ConfigurationDocument>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum Saved {
    /// Saved as a new version (or unchanged); `ETag` is the version now in force.
    #[oai(status = 200)]
    Ok(Json<SavedConfiguration>, #[oai(header = "ETag")] String),
}

type ApiResult<T> = Result<T, ProblemResponse>;

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` names: `"7"`, `W/"7"` or `7`.
fn if_match(raw: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    let value = raw.trim().trim_start_matches("W/").trim_matches('"');
    value.parse().map(Some).map_err(|_| {
        AppError::field("If-Match", "invalid_version", "Send the ETag of the configuration you edited, e.g. \"7\".")
    })
}

fn saved(report: crate::app::ApplyReport) -> Saved {
    let changes = report.changes.iter().map(ToString::to_string).collect();
    Saved::Ok(Json(SavedConfiguration { version: report.version, changes }), etag(report.version))
}

fn parse_role(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw)
        .ok_or_else(|| AppError::field("role", "unknown_role", "Use one of: platform, tenant_admin, operator."))
}

impl AdminApi {
    fn client(&self, request: &poem::Request) -> Option<String> {
        client_address(request, self.options.trust_forwarded_for)
    }

    async fn session(&self, token: &StaffToken, request: &poem::Request) -> Result<StaffSession, AppError> {
        self.app.staff_session(&token.0.token, self.client(request).as_deref()).await
    }

    fn opened(&self, logged_in: crate::app::LoggedIn) -> SessionOpened {
        let session = &logged_in.session;
        let cookie = staff_cookie::set(&logged_in.token, session.expires_at, self.app.now(), self.options.plain_http);
        let view = SessionView {
            csrf_token: session.csrf.clone(),
            expires_at: session.expires_at.to_rfc3339(),
            account: AccountView::from(session),
            token: logged_in.token,
        };
        SessionOpened::Created(Json(view), cookie)
    }

    fn audit_filter(action: Option<String>, before: Option<i64>) -> AuditFilter {
        AuditFilter { action, before }
    }

    fn new_staff(body: &InvitationRequest) -> Result<NewStaff, AppError> {
        Ok(NewStaff { email: body.email.clone(), role: parse_role(&body.role)?, offices: body.offices.clone() })
    }
}

impl AdminApi {
    /// What every change needs: who asks, the version edited, and the choice for stranded bookings.
    async fn change(
        &self,
        request: &poem::Request,
        auth: &StaffToken,
        tenant: &str,
        version: &Header<Option<String>>,
        stranded: &Query<Option<String>>,
        cancel_reason: &Query<Option<String>>,
    ) -> Result<(StaffSession, Option<i64>, StrandPolicy), AppError> {
        let session = self.session(auth, request).await?;
        // Who may act comes first: an outsider learns nothing from how their request is wrong.
        self.app.tenant_for(&session, tenant, Role::TenantAdmin).await?;
        let expected = if_match(version.0.as_deref())?;
        let policy = StrandPolicy::parse(stranded.as_deref(), cancel_reason.as_deref(), None)?;
        Ok((session, expected, policy))
    }
}

#[OpenApi(prefix_path = "/admin")]
impl AdminApi {
    /// Signs in with an e-mail address and password, and for an account with a second factor
    /// the code of its authenticator (or a recovery code) as `totp`: without it, 401
    /// `code-required`. Throttled per account and per client: after a few failures each attempt
    /// waits longer (429 with `Retry-After`).
    #[oai(path = "/session", method = "post", tag = "AdminTag::Session")]
    async fn log_in(&self, request: &poem::Request, body: Json<Credentials>) -> ApiResult<SessionOpened> {
        let client = self.client(request);
        let carried = staff_cookie::read(request, self.options.plain_http);
        let logged_in = self.app.log_in(&body.email, &body.password, client.as_deref(), carried.as_deref()).await?;
        if !logged_in.awaiting_code {
            return Ok(self.opened(logged_in));
        }
        let code = body.totp.as_deref().ok_or(AppError::CodeRequired)?;
        match self.app.complete_login(&logged_in.token, code, client.as_deref()).await {
            Ok(logged_in) => Ok(self.opened(logged_in)),
            // A wrong code is a failed login, said no more precisely than a wrong password.
            Err(AppError::Invalid(_)) => Err(AppError::LoginFailed.into()),
            Err(error) => Err(error.into()),
        }
    }

    /// The signed-in account and its roles.
    #[oai(path = "/session", method = "get", tag = "AdminTag::Account")]
    async fn me(&self, request: &poem::Request, auth: StaffToken) -> ApiResult<Json<AccountView>> {
        Ok(Json(AccountView::from(&self.session(&auth, request).await?)))
    }

    /// Signs out: the session ends on every instance at once.
    #[oai(path = "/session", method = "delete", tag = "AdminTag::Account")]
    async fn log_out(&self, request: &poem::Request, auth: StaffToken) -> ApiResult<SessionClosed> {
        let session = self.session(&auth, request).await?;
        self.app.log_out(&session).await?;
        Ok(SessionClosed::NoContent(staff_cookie::clear(self.options.plain_http)))
    }

    /// Changes the password; every other session of the account ends.
    #[oai(path = "/session/password", method = "put", tag = "AdminTag::Account")]
    async fn change_password(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        body: Json<PasswordChange>,
    ) -> ApiResult<Done> {
        let session = self.session(&auth, request).await?;
        self.app.change_password(&session, &body.current_password, &body.new_password).await?;
        Ok(Done::NoContent)
    }

    /// Accepts an invitation (the secret of its link) and signs in.
    #[oai(path = "/invitations/:token/acceptance", method = "post", tag = "AdminTag::Session")]
    async fn accept(
        &self,
        request: &poem::Request,
        token: Path<String>,
        body: Json<Acceptance>,
    ) -> ApiResult<SessionOpened> {
        let client = self.client(request);
        let logged_in = self.app.accept_invitation(&token, &body.password, client.as_deref()).await?;
        if logged_in.awaiting_code {
            // The role is added; signing in takes the account's second factor, at `/session`.
            return Err(AppError::CodeRequired.into());
        }
        Ok(self.opened(logged_in))
    }

    /// Every tenant, with its size.
    #[oai(path = "/tenants", method = "get", tag = "AdminTag::Platform")]
    async fn tenants(&self, request: &poem::Request, auth: StaffToken) -> ApiResult<Json<Vec<TenantSummaryView>>> {
        let session = self.session(&auth, request).await?;
        let summaries = self.app.tenant_summaries(&session).await?;
        Ok(Json(summaries.into_iter().map(TenantSummaryView::from).collect()))
    }

    /// Creates a public body (name, zone, languages; no services yet) and invites its first admin.
    #[oai(path = "/tenants", method = "post", tag = "AdminTag::Platform")]
    async fn create_tenant(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        body: Json<TenantRequest>,
    ) -> ApiResult<Onboarded> {
        let session = self.session(&auth, request).await?;
        let new = crate::app::NewTenant {
            slug: body.slug.clone(),
            name: body.name.clone(),
            timezone: body.timezone.clone(),
            locales: body.locales.clone(),
            admin_email: body.admin_email.clone(),
        };
        let link = self.app.create_tenant(&session, &new).await?;
        let slug = new.slug.trim().to_owned();
        Ok(Onboarded::Created(Json(TenantCreated { slug, invitation: InvitationCreated::from(&link) })))
    }

    /// Suspends a tenant: its pages and API say it is temporarily unavailable; nothing is deleted.
    #[oai(path = "/tenants/:tenant/suspension", method = "put", tag = "AdminTag::Platform")]
    async fn suspend(&self, request: &poem::Request, auth: StaffToken, tenant: Path<String>) -> ApiResult<Done> {
        let session = self.session(&auth, request).await?;
        self.app.set_suspended(&session, &tenant, true).await?;
        Ok(Done::NoContent)
    }

    /// Reactivates a suspended tenant.
    #[oai(path = "/tenants/:tenant/suspension", method = "delete", tag = "AdminTag::Platform")]
    async fn reactivate(&self, request: &poem::Request, auth: StaffToken, tenant: Path<String>) -> ApiResult<Done> {
        let session = self.session(&auth, request).await?;
        self.app.set_suspended(&session, &tenant, false).await?;
        Ok(Done::NoContent)
    }

    /// Invites a platform admin.
    #[oai(path = "/invitations", method = "post", tag = "AdminTag::Platform")]
    async fn invite_platform(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        body: Json<InvitationRequest>,
    ) -> ApiResult<Invited> {
        let session = self.session(&auth, request).await?;
        let link = self.app.invite(&session, None, &Self::new_staff(&body)?).await?;
        Ok(Invited::Created(Json(InvitationCreated::from(&link))))
    }

    /// The platform's audit log, newest first, 50 per page.
    #[oai(path = "/audit", method = "get", tag = "AdminTag::Platform")]
    async fn platform_audit(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        /// Only actions starting with this, e.g. `login`.
        action: Query<Option<String>>,
        /// The next page: entries older than this id.
        before: Query<Option<i64>>,
    ) -> ApiResult<Json<Vec<AuditEntryView>>> {
        let session = self.session(&auth, request).await?;
        let page = self.app.audit_log(&session, None, &Self::audit_filter(action.0, before.0)).await?;
        Ok(Json(page.entries.into_iter().map(AuditEntryView::from).collect()))
    }

    /// A tenant at a glance: its offices and their upcoming bookings (an operator sees their own).
    #[oai(path = "/t/:tenant", method = "get", tag = "AdminTag::TenantStaff")]
    async fn tenant(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Json<TenantOverviewView>> {
        let session = self.session(&auth, request).await?;
        Ok(Json(self.app.tenant_overview(&session, &tenant).await?.into()))
    }

    /// The tenant's audit log, newest first, 50 per page.
    #[oai(path = "/t/:tenant/audit", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn audit(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        /// Only actions starting with this, e.g. `login` or `staff.`.
        action: Query<Option<String>>,
        /// The next page: entries older than this id.
        before: Query<Option<i64>>,
    ) -> ApiResult<Json<Vec<AuditEntryView>>> {
        let session = self.session(&auth, request).await?;
        let page = self.app.audit_log(&session, Some(&tenant), &Self::audit_filter(action.0, before.0)).await?;
        Ok(Json(page.entries.into_iter().map(AuditEntryView::from).collect()))
    }

    /// The tenant's configuration (its `tenant.toml`) with its version in `ETag`.
    #[oai(path = "/t/:tenant/configuration", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn configuration(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Configuration> {
        let session = self.session(&auth, request).await?;
        let view = self.app.configuration(&session, &tenant).await?;
        let tag = etag(view.version);
        Ok(Configuration::Ok(Json(ConfigurationDocument { version: view.version, pack: view.manifest }), tag))
    }

    /// Saves the whole configuration as a new version. `If-Match` must name the version edited:
    /// if someone saved since, 412 says what they changed and nothing is overwritten. The whole
    /// configuration is validated (422 names each problem's key); plugin modules, datasets and
    /// the logo it names must be uploaded already.
    #[oai(path = "/t/:tenant/configuration", method = "put", tag = "AdminTag::TenantAdmin")]
    async fn save_configuration(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        body: Json<ConfigurationBody>,
    ) -> ApiResult<Saved> {
        let session = self.session(&auth, request).await?;
        self.app.tenant_for(&session, &tenant, Role::TenantAdmin).await?;
        let expected = if_match(version.0.as_deref())?;
        let policy = StrandPolicy::parse(
            body.stranded.as_deref(),
            body.cancel_reason.as_deref(),
            body.stranded_codes.as_deref(),
        )?;
        Ok(saved(self.app.save_configuration(&session, &tenant, expected, &body.pack, &policy).await?))
    }

    /// Every saved version, newest first: who, when, what changed.
    #[oai(path = "/t/:tenant/versions", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn versions(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Json<Vec<VersionView>>> {
        let session = self.session(&auth, request).await?;
        let history = self.app.configuration_history(&session, &tenant).await?;
        Ok(Json(history.into_iter().map(VersionView::from).collect()))
    }

    /// One saved version's configuration.
    #[oai(path = "/t/:tenant/versions/:version", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn version(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        version: Path<i64>,
    ) -> ApiResult<Json<ConfigurationDocument>> {
        let session = self.session(&auth, request).await?;
        let view = self.app.configuration_version(&session, &tenant, version.0).await?;
        Ok(Json(ConfigurationDocument { version: view.version, pack: view.manifest }))
    }

    /// Restores a saved version (files and logo included) as the next version; `If-Match` names
    /// the version in force.
    #[oai(path = "/t/:tenant/versions/:version/restore", method = "post", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn restore(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        version: Path<i64>,
        #[oai(name = "If-Match")] current: Header<Option<String>>,
        /// What to do with upcoming bookings the restored version would strand: `keep` or `cancel`.
        stranded: Query<Option<String>>,
        /// With `cancel`: why, recorded on each cancelled booking.
        cancel_reason: Query<Option<String>>,
    ) -> ApiResult<Saved> {
        let session = self.session(&auth, request).await?;
        self.app.tenant_for(&session, &tenant, Role::TenantAdmin).await?;
        let expected = if_match(current.0.as_deref())?;
        let policy = StrandPolicy::parse(stranded.as_deref(), cancel_reason.as_deref(), None)?;
        Ok(saved(self.app.restore_configuration(&session, &tenant, version.0, expected, &policy).await?))
    }
}
