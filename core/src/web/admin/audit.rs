//! Reading the audit log: a tenant's (its admins) or the platform's (platform admins).

use poem::http::StatusCode;
use poem::web::{Path, Query};
use poem::{Request, handler};

use super::views::{AuditRow, AuditView, encode};
use super::{Page, StaffVisit, WebData, stop};
use crate::app::{AuditFilter, AuditPage};
use crate::web::Web;

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    action: Option<String>,
    before: Option<i64>,
}

impl Web {
    async fn audit_page(&self, visit: &StaffVisit, tenant: Option<&str>, query: AuditQuery) -> Page {
        let action: String = query.action.unwrap_or_default().trim().chars().take(48).collect();
        let filter = AuditFilter { action: Some(action.clone()), before: query.before };
        let page = self.app.audit_log(&visit.session, tenant, &filter).await;
        let AuditPage { entries, timezone: tz } = page.map_err(|e| stop(self.admin_failure(visit, &e)))?;
        let base = match tenant {
            Some(slug) => format!("/admin/t/{slug}/audit"),
            None => "/admin/audit".to_owned(),
        };
        let next_page = (entries.len() == 50)
            .then(|| entries.last().map(|e| format!("{base}?action={}&before={}", encode(&action), e.id)))
            .flatten();
        let heading = match tenant {
            Some(slug) => slug.to_owned(),
            None => "Sportello".to_owned(),
        };
        let view = AuditView {
            heading,
            back: tenant.map(|slug| format!("/admin/t/{slug}/")),
            action,
            shown: entries.len(),
            filter_action: base,
            entries: entries
                .into_iter()
                .map(|e| AuditRow {
                    at: e.at.with_timezone(&tz).format("%d/%m/%Y %H:%M:%S").to_string(),
                    actor: e.actor,
                    client: e.client_address.unwrap_or_default(),
                    action: e.action,
                    detail: if e.detail.as_object().is_some_and(|o| o.is_empty()) {
                        String::new()
                    } else {
                        e.detail.to_string()
                    },
                })
                .collect(),
            next_page,
        };
        Ok(self.staff_page(visit, "admin-audit", StatusCode::OK, &view))
    }
}

#[handler]
pub async fn tenant_log(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    query: Query<AuditQuery>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    web.audit_page(&visit, Some(&tenant), query.0).await
}

#[handler]
pub async fn platform_log(web: WebData<'_>, request: &Request, query: Query<AuditQuery>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.audit_page(&visit, None, query.0).await
}
