//! A tenant's staff: the list, inviting someone, and each member's role, offices and account.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};
use serde::Serialize;

use super::views::{Invited, MemberRow, OfficeChoice, PendingRow, StaffView, role_key};
use super::{Page, StaffVisit, WebData, stop};
use crate::app::{AppError, InvitationLink, NewStaff, StaffChange};
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
                    url: format!("/admin/t/{slug}/staff/{}", m.account_id),
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

/// One member's page: their role and offices here, removal, and their account.
#[derive(Serialize)]
struct MemberPage {
    tenant_name: String,
    back: String,
    email: String,
    role: String,
    role_key: String,
    disabled: bool,
    offices: Vec<OfficeChoice>,
    action: String,
    removal_action: String,
    /// Only when the account works for this body alone.
    disable_action: Option<String>,
    errors: std::collections::BTreeMap<String, String>,
}

impl Web {
    /// `typed`: the role and offices sent, shown again with `errors`.
    async fn member_page(
        &self,
        visit: &StaffVisit,
        slug: &str,
        account: i32,
        typed: Option<(String, Vec<String>)>,
        errors: std::collections::BTreeMap<String, String>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let list = self.app.staff_list(&visit.session, slug).await.map_err(fail)?;
        let member =
            list.members.iter().find(|m| m.account_id == account).ok_or_else(|| fail(AppError::NotFound("staff")))?;
        let overview = self.app.tenant_overview(&visit.session, slug).await.map_err(fail)?;
        let here_only = self.app.works_here_only(&visit.session, slug, account).await.map_err(fail)?;
        let (role, chosen) = typed
            .unwrap_or_else(|| (member.role.code().to_owned(), member.offices.iter().map(Slug::to_string).collect()));
        let url = format!("/admin/t/{slug}/staff/{account}");
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        let view = MemberPage {
            tenant_name: overview.name,
            back: format!("/admin/t/{slug}/staff"),
            email: member.email.to_string(),
            role,
            role_key: role_key(member.role),
            disabled: member.disabled,
            offices: overview
                .offices
                .iter()
                .map(|o| OfficeChoice {
                    slug: o.slug.to_string(),
                    name: o.name.clone(),
                    checked: chosen.iter().any(|c| c == o.slug.as_str()),
                })
                .collect(),
            removal_action: format!("{url}/removal"),
            disable_action: here_only.then(|| format!("{url}/disabled")),
            action: url,
            errors,
        };
        Ok(self.staff_page(visit, "admin-member", status, &view))
    }

    /// Applies a change from the member's page: back to the staff list, or the page with why not.
    async fn member_changed(
        &self,
        visit: &StaffVisit,
        slug: &str,
        account: i32,
        change: StaffChange,
        typed: Option<(String, Vec<String>)>,
    ) -> Page {
        match self.app.change_staff(&visit.session, slug, account, &change).await {
            // Someone who just removed their own role here can no longer see the list.
            Ok(()) if account == visit.session.member.id && matches!(change, StaffChange::Remove) => {
                Ok(crate::web::see_other("/admin/"))
            }
            Ok(()) => Ok(crate::web::see_other(&format!("/admin/t/{slug}/staff"))),
            Err(AppError::Invalid(errors)) => {
                let errors = self.field_errors(visit.locale, &errors);
                self.member_page(visit, slug, account, typed, errors).await
            }
            Err(error) => Err(stop(self.admin_failure(visit, &error))),
        }
    }
}

/// The account in a member page's path; a malformed one is simply not found.
fn account_of(web: &Web, visit: &StaffVisit, raw: &str) -> Page<i32> {
    raw.parse().map_err(|_| stop(web.admin_failure(visit, &AppError::NotFound("staff"))))
}

#[handler]
pub async fn member_page(web: WebData<'_>, request: &Request, Path((tenant, account)): Path<(String, String)>) -> Page {
    let visit = web.staff_visit(request).await?;
    let account = account_of(&web, &visit, &account)?;
    web.member_page(&visit, &tenant, account, None, Default::default()).await
}

#[handler]
pub async fn change_member(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, account)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let single: super::Fields = fields.iter().cloned().collect();
    let visit = web.staff_form(request, &single).await?;
    let account = account_of(&web, &visit, &account)?;
    let role = single.get("role").cloned().unwrap_or_default();
    let offices: Vec<String> = fields.iter().filter(|(k, _)| k == "offices").map(|(_, v)| v.clone()).collect();
    let parsed = match role.as_str() {
        "tenant_admin" => Role::TenantAdmin,
        _ => Role::Operator,
    };
    let change = StaffChange::Role { role: parsed, offices: offices.clone() };
    web.member_changed(&visit, &tenant, account, change, Some((role, offices))).await
}

#[handler]
pub async fn remove_member(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, account)): Path<(String, String)>,
    Form(fields): Form<super::Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let account = account_of(&web, &visit, &account)?;
    web.member_changed(&visit, &tenant, account, StaffChange::Remove, None).await
}

#[handler]
pub async fn disable_member(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, account)): Path<(String, String)>,
    Form(fields): Form<super::Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let account = account_of(&web, &visit, &account)?;
    let disabled = fields.get("disabled").is_none_or(|v| v != "no");
    web.member_changed(&visit, &tenant, account, StaffChange::Disabled(disabled), None).await
}
