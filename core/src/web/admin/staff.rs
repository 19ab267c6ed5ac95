//! A tenant's staff, and inviting someone to it.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};

use super::views::{Invited, MemberRow, OfficeChoice, PendingRow, StaffView, role_key};
use super::{Page, StaffVisit, WebData, stop};
use crate::app::{AppError, InvitationLink, NewStaff};
use crate::domain::{Role, Slug};
use crate::web::Web;

/// What the invitation form was sent with, to show again.
#[derive(Default)]
struct Typed {
    email: String,
    role: String,
    offices: Vec<String>,
}

impl Web {
    async fn staff_view(
        &self,
        visit: &StaffVisit,
        slug: &str,
        typed: Typed,
        errors: std::collections::BTreeMap<String, String>,
        invited: Option<&InvitationLink>,
    ) -> Page<StaffView> {
        let list = self.app.staff_list(&visit.session, slug).await.map_err(|e| stop(self.admin_failure(visit, &e)))?;
        let overview =
            self.app.tenant_overview(&visit.session, slug).await.map_err(|e| stop(self.admin_failure(visit, &e)))?;
        let tz = overview.timezone;
        Ok(StaffView {
            tenant_name: overview.name,
            back: format!("/admin/t/{slug}/"),
            members: list
                .members
                .into_iter()
                .map(|m| MemberRow {
                    email: m.email.to_string(),
                    role_key: role_key(m.role),
                    offices: m.offices.iter().map(Slug::as_str).collect::<Vec<_>>().join(", "),
                    disabled: m.disabled,
                })
                .collect(),
            pending: list
                .pending
                .into_iter()
                .map(|(email, role, expires)| PendingRow {
                    email: email.to_string(),
                    role_key: role_key(role),
                    expires: expires.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
                })
                .collect(),
            offices: overview
                .offices
                .iter()
                .map(|o| OfficeChoice {
                    slug: o.slug.to_string(),
                    name: o.name.clone(),
                    checked: typed.offices.iter().any(|t| t == o.slug.as_str()),
                })
                .collect(),
            action: format!("/admin/t/{slug}/staff"),
            email: typed.email,
            role: if typed.role.is_empty() { "operator".into() } else { typed.role },
            errors,
            invited: invited.map(|link| Invited {
                email: link.email.to_string(),
                url: format!("/admin/invitation/{}", link.token),
                expires: link.expires_at.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
            }),
        })
    }
}

#[handler]
pub async fn staff_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    let view = web.staff_view(&visit, &tenant, Typed::default(), Default::default(), None).await?;
    Ok(web.staff_page(&visit, "admin-staff", StatusCode::OK, &view))
}

#[handler]
pub async fn invite(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let single: super::Fields = fields.iter().cloned().collect();
    let visit = web.staff_form(request, &single).await?;
    let typed = Typed {
        email: single.get("email").cloned().unwrap_or_default(),
        role: single.get("role").cloned().unwrap_or_default(),
        offices: fields.iter().filter(|(k, _)| k == "offices").map(|(_, v)| v.clone()).collect(),
    };
    let role = match typed.role.as_str() {
        "tenant_admin" => Role::TenantAdmin,
        _ => Role::Operator,
    };
    let new = NewStaff { email: typed.email.clone(), role, offices: typed.offices.clone() };
    match web.app.invite(&visit.session, Some(&tenant), &new).await {
        Ok(link) => {
            let view = web.staff_view(&visit, &tenant, Typed::default(), Default::default(), Some(&link)).await?;
            Ok(web.staff_page(&visit, "admin-staff", StatusCode::CREATED, &view))
        }
        Err(AppError::Invalid(errors)) => {
            let errors = web.field_errors(visit.locale, &errors);
            let view = web.staff_view(&visit, &tenant, typed, errors, None).await?;
            Ok(web.staff_page(&visit, "admin-staff", StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}
