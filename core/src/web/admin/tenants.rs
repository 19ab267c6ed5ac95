//! The dashboard, a tenant at a glance, and suspending a tenant.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};

use super::views::{
    CreatedTenant, DashboardView, NewTenantForm, OfficeRow, OverviewView, OwnTenant, TenantRow, role_key,
};
use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::{AppError, NewTenant};
use crate::domain::Role;
use crate::web::Web;
use crate::web::see_other;

impl Web {
    async fn dashboard_page(&self, visit: &StaffVisit, status: StatusCode, form: NewTenantForm) -> Page {
        let member = &visit.session.member;
        let all_tenants = if member.is_platform() {
            let summaries = self.app.tenant_summaries(&visit.session).await;
            let summaries = summaries.map_err(|e| stop(self.admin_failure(visit, &e)))?;
            summaries
                .into_iter()
                .map(|t| TenantRow {
                    url: format!("/admin/t/{}/", t.slug),
                    suspension_action: format!("/admin/tenants/{}/suspension", t.slug),
                    public_url: format!("/t/{}/", t.slug),
                    slug: t.slug,
                    name: t.name,
                    version: t.version,
                    suspended: t.suspended,
                    staff: t.staff,
                    upcoming_bookings: t.upcoming_bookings,
                })
                .collect()
        } else {
            Vec::new()
        };
        let own_tenants = member
            .tenant_grants()
            .map(|(slug, role, _)| OwnTenant {
                slug: slug.to_owned(),
                url: format!("/admin/t/{slug}/"),
                role_key: role_key(role),
            })
            .collect();
        let view = DashboardView { all_tenants, own_tenants, new_tenant: member.is_platform().then_some(form) };
        Ok(self.staff_page(visit, "admin-dashboard", status, &view))
    }
}

#[handler]
pub async fn dashboard(web: WebData<'_>, request: &Request) -> Page {
    let visit = web.staff_visit(request).await?;
    web.dashboard_page(&visit, StatusCode::OK, NewTenantForm::blank()).await
}

#[handler]
pub async fn create_tenant(web: WebData<'_>, request: &Request, Form(fields): Form<Vec<(String, String)>>) -> Page {
    let single: Fields = fields.iter().cloned().collect();
    let visit = web.staff_form(request, &single).await?;
    let value = |name: &str| single.get(name).cloned().unwrap_or_default();
    let locales: Vec<String> = fields.iter().filter(|(k, _)| k == "locales").map(|(_, v)| v.clone()).collect();
    let new = NewTenant {
        slug: value("slug"),
        name: value("name"),
        timezone: value("timezone"),
        locales: locales.clone(),
        admin_email: value("admin_email"),
    };
    match web.app.create_tenant(&visit.session, &new).await {
        Ok(link) => {
            let created = CreatedTenant {
                name: new.name.trim().to_owned(),
                url: format!("/admin/t/{}/", new.slug.trim()),
                invitation_url: format!("/admin/invitation/{}", link.token),
                email: link.email.to_string(),
            };
            let form = NewTenantForm { created: Some(created), ..NewTenantForm::blank() };
            web.dashboard_page(&visit, StatusCode::CREATED, form).await
        }
        Err(AppError::Invalid(errors)) => {
            let form = NewTenantForm {
                slug: new.slug,
                name: new.name,
                timezone: new.timezone,
                italian: locales.iter().any(|l| l == "it"),
                english: locales.iter().any(|l| l == "en"),
                admin_email: new.admin_email,
                errors: web.field_errors(visit.locale, &errors),
                created: None,
            };
            web.dashboard_page(&visit, StatusCode::UNPROCESSABLE_ENTITY, form).await
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}

#[handler]
pub async fn set_suspension(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let suspend = fields.get("suspended").is_some_and(|v| v == "yes");
    web.app.set_suspended(&visit.session, &tenant, suspend).await.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    Ok(see_other("/admin/"))
}

#[handler]
pub async fn overview(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    let overview = web.app.tenant_overview(&visit.session, &tenant).await;
    let overview = overview.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    let base = format!("/admin/t/{}", overview.slug);
    let view = OverviewView {
        staff_url: format!("{base}/staff"),
        configuration_url: format!("{base}/configuration"),
        audit_url: format!("{base}/audit"),
        keys_url: format!("{base}/api-keys"),
        webhooks_url: format!("{base}/webhooks"),
        feeds_url: format!("{base}/feeds"),
        processing_url: format!("{base}/processing"),
        accessibility_url: format!("{base}/accessibility"),
        public_url: format!("/t/{}/", overview.slug),
        statistics_url: format!("{base}/statistics"),
        is_admin: overview.role >= Role::TenantAdmin,
        role_key: role_key(overview.role),
        name: overview.name,
        slug: overview.slug,
        version: overview.version,
        services: overview.services,
        offices: overview
            .offices
            .into_iter()
            .map(|o| OfficeRow {
                agenda_url: format!("{base}/desk/{}", o.slug),
                name: o.name,
                upcoming_bookings: o.upcoming_bookings,
            })
            .collect(),
    };
    Ok(web.staff_page(&visit, "admin-tenant", StatusCode::OK, &view))
}
