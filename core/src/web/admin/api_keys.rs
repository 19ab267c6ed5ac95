//! A tenant's API keys: the list with each key's last use, making one (its secret shown once)
//! and revoking one.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};
use serde::Serialize;

use super::views::{OfficeChoice, role_key};
use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::{ApiKeyMade, AppError, NewApiKeyRequest};
use crate::domain::{Role, Slug};
use crate::web::{Web, see_other};

#[derive(Serialize)]
struct KeyRow {
    name: String,
    role_key: String,
    offices: String,
    created: String,
    last_used: Option<String>,
    revoked: Option<String>,
    revoke_action: String,
}

#[derive(Serialize)]
struct MadeKey {
    name: String,
    secret: String,
}

#[derive(Serialize)]
struct KeysPage {
    tenant_name: String,
    back: String,
    action: String,
    keys: Vec<KeyRow>,
    made: Option<MadeKey>,
    name: String,
    role: String,
    offices: Vec<OfficeChoice>,
    errors: BTreeMap<String, String>,
}

/// What the form was sent with, to show again.
#[derive(Default)]
struct Typed {
    name: String,
    role: String,
    offices: Vec<String>,
}

impl Web {
    async fn keys_page(
        &self,
        visit: &StaffVisit,
        slug: &str,
        typed: Typed,
        errors: BTreeMap<String, String>,
        made: Option<ApiKeyMade>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let keys = self.app.api_keys(&visit.session, slug).await.map_err(fail)?;
        let overview = self.app.tenant_overview(&visit.session, slug).await.map_err(fail)?;
        let tz = overview.timezone;
        let when = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string();
        let status = match (&made, errors.is_empty()) {
            (Some(_), _) => StatusCode::CREATED,
            (None, true) => StatusCode::OK,
            (None, false) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let view = KeysPage {
            tenant_name: overview.name,
            back: format!("/admin/t/{slug}/"),
            action: format!("/admin/t/{slug}/api-keys"),
            keys: keys
                .into_iter()
                .map(|k| KeyRow {
                    revoke_action: format!("/admin/t/{slug}/api-keys/{}/revocation", k.id),
                    name: k.name,
                    role_key: role_key(k.role),
                    offices: k.offices.iter().map(Slug::as_str).collect::<Vec<_>>().join(", "),
                    created: format!("{} · {}", when(k.created_at), k.created_by),
                    last_used: k.last_used_at.map(when),
                    revoked: k.revoked_at.map(when),
                })
                .collect(),
            made: made.map(|m| MadeKey { name: m.name, secret: m.secret }),
            name: typed.name,
            role: if typed.role.is_empty() { "operator".into() } else { typed.role },
            offices: overview
                .offices
                .iter()
                .map(|o| OfficeChoice {
                    slug: o.slug.to_string(),
                    name: o.name.clone(),
                    checked: typed.offices.iter().any(|t| t == o.slug.as_str()),
                })
                .collect(),
            errors,
        };
        Ok(self.staff_page(visit, "admin-api-keys", status, &view))
    }
}

#[handler]
pub async fn keys_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.keys_page(&visit, &tenant, Typed::default(), BTreeMap::new(), None).await
}

#[handler]
pub async fn create_key(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let single: Fields = fields.iter().cloned().collect();
    let visit = web.staff_form(request, &single).await?;
    let typed = Typed {
        name: single.get("name").cloned().unwrap_or_default(),
        role: single.get("role").cloned().unwrap_or_default(),
        offices: fields.iter().filter(|(k, _)| k == "offices").map(|(_, v)| v.clone()).collect(),
    };
    let role = if typed.role == "tenant_admin" { Role::TenantAdmin } else { Role::Operator };
    let new = NewApiKeyRequest { name: typed.name.clone(), role, offices: typed.offices.clone() };
    match web.app.create_api_key(&visit.session, &tenant, &new).await {
        Ok(made) => web.keys_page(&visit, &tenant, Typed::default(), BTreeMap::new(), Some(made)).await,
        Err(AppError::Invalid(errors)) => {
            let errors = web.field_errors(visit.locale, &errors);
            web.keys_page(&visit, &tenant, typed, errors, None).await
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}

#[handler]
pub async fn revoke_key(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, key)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let fail = |e: AppError| stop(web.admin_failure(&visit, &e));
    let key = key.parse().map_err(|_| fail(AppError::NotFound("api key")))?;
    web.app.revoke_api_key(&visit.session, &tenant, key).await.map_err(fail)?;
    Ok(see_other(&format!("/admin/t/{tenant}/api-keys")))
}
