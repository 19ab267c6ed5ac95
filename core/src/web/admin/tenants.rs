//! The dashboard, a tenant at a glance, and suspending a tenant.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};

use super::views::{DashboardView, OfficeRow, OverviewView, OwnTenant, TenantRow, role_key};
use super::{Fields, Page, WebData, stop};
use crate::domain::Role;
use crate::web::see_other;

#[handler]
pub async fn dashboard(web: WebData<'_>, request: &Request) -> Page {
    let visit = web.staff_visit(request).await?;
    let member = &visit.session.member;
    let all_tenants = if member.is_platform() {
        let summaries = web.app.tenant_summaries(&visit.session).await;
        let summaries = summaries.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
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
    Ok(web.staff_page(&visit, "admin-dashboard", StatusCode::OK, &DashboardView { all_tenants, own_tenants }))
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
        public_url: format!("/t/{}/", overview.slug),
        is_admin: overview.role >= Role::TenantAdmin,
        role_key: role_key(overview.role),
        name: overview.name,
        slug: overview.slug,
        version: overview.version,
        services: overview.services,
        offices: overview
            .offices
            .into_iter()
            .map(|o| OfficeRow { name: o.name, upcoming_bookings: o.upcoming_bookings })
            .collect(),
    };
    Ok(web.staff_page(&visit, "admin-tenant", StatusCode::OK, &view))
}
