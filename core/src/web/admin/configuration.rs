//! The tenant's configuration: its whole text, edited and saved as a new version, and its history
//! with a way back to any version. (Forms for services, offices and hours build on this.)

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};

use super::views::{ConfigurationPage, StrandedRow, VersionRow};
use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::{AppError, StrandPolicy, StrandedBooking};
use crate::web::{Web, see_other};

/// What the page shows besides the history: the text being edited and what went wrong with it.
#[derive(Default)]
struct Draft {
    /// The text typed, kept on errors; `None` shows the stored one.
    text: Option<String>,
    /// The version the text was edited from.
    version: Option<i64>,
    errors: BTreeMap<String, String>,
    /// Someone saved meanwhile: what they changed.
    conflict: Vec<String>,
    saved: Option<(i64, Vec<String>)>,
    /// The upcoming bookings the text would strand: the admin chooses what becomes of them.
    stranded: Vec<StrandedBooking>,
    cancel_reason: String,
    /// The restore that was refused, to be asked again with the bookings' fate.
    restore_action: Option<String>,
}

impl Web {
    async fn configuration_page(&self, visit: &StaffVisit, slug: &str, status: StatusCode, draft: Draft) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let current = self.app.configuration(&visit.session, slug).await.map_err(fail)?;
        let history = self.app.configuration_history(&visit.session, slug).await.map_err(fail)?;
        let overview = self.app.tenant_overview(&visit.session, slug).await.map_err(fail)?;
        let tz = overview.timezone;
        let base = format!("/admin/t/{slug}");
        let view = ConfigurationPage {
            tenant_name: overview.name,
            back: format!("{base}/"),
            action: format!("{base}/configuration"),
            version: draft.version.unwrap_or(current.version),
            current_version: current.version,
            text: draft.text.unwrap_or(current.manifest),
            errors: draft.errors,
            conflict: draft.conflict,
            stranded: draft
                .stranded
                .iter()
                .map(|b| StrandedRow {
                    code: b.code.clone(),
                    when: b.start.with_timezone(&b.timezone).format("%d/%m/%Y %H:%M").to_string(),
                    service: b.service.clone(),
                    office: b.office.clone(),
                    reason_key: format!("admin-strand-{}", b.reason.code().replace('_', "-")),
                })
                .collect(),
            stranded_codes: draft.stranded.iter().map(|b| b.code.as_str()).collect::<Vec<_>>().join(","),
            cancel_reason: draft.cancel_reason,
            restore_action: draft.restore_action,
            saved_version: draft.saved.as_ref().map(|(v, _)| *v),
            saved_changes: draft.saved.map(|(_, c)| c).unwrap_or_default(),
            history: history
                .into_iter()
                .map(|v| VersionRow {
                    restore_action: (v.version != current.version)
                        .then(|| format!("{base}/versions/{}/restore", v.version)),
                    version: v.version,
                    saved_at: v.saved_at.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
                    saved_by: v.saved_by,
                    changes: v.changes.join("; "),
                })
                .collect(),
        };
        Ok(self.staff_page(visit, "admin-configuration", status, &view))
    }

    /// The page after a failed save: errors by key, or the conflict, with the typed text kept.
    async fn refused(&self, visit: &StaffVisit, slug: &str, draft: Draft, error: AppError) -> Page {
        match error {
            AppError::Invalid(errors) => {
                let errors = self.field_errors(visit.locale, &errors);
                let draft = Draft { errors, ..draft };
                self.configuration_page(visit, slug, StatusCode::UNPROCESSABLE_ENTITY, draft).await
            }
            AppError::StrandsBookings(stranded) => {
                let draft = Draft { stranded, ..draft };
                self.configuration_page(visit, slug, StatusCode::CONFLICT, draft).await
            }
            AppError::StaleVersion { current, changes } => {
                let draft = Draft { conflict: changes, version: Some(current), ..draft };
                self.configuration_page(visit, slug, StatusCode::CONFLICT, draft).await
            }
            other => Err(stop(self.admin_failure(visit, &other))),
        }
    }
}

impl Web {
    /// "Cancel" without a reason: the save is tried without cancelling, so that the page lists the
    /// bookings again, with the missing reason named beside the choice.
    fn reason_asked(
        &self,
        visit: &StaffVisit,
        policy: Result<StrandPolicy, AppError>,
        mut draft: Draft,
    ) -> (Result<StrandPolicy, AppError>, Draft) {
        match policy {
            Ok(StrandPolicy::Cancel { reason, .. }) if reason.trim().is_empty() => {
                let text = self.render.text(visit.locale, "admin-error-cancel-reason-required", &[]);
                draft.errors.insert("cancel_reason".into(), text);
                (Ok(StrandPolicy::Refuse), draft)
            }
            other => (other, draft),
        }
    }
}

fn strand_policy(fields: &Fields) -> Result<StrandPolicy, AppError> {
    let listed: Option<Vec<String>> = fields.get("stranded_codes").map(|c| c.split(',').map(str::to_owned).collect());
    StrandPolicy::parse(
        fields.get("stranded").map(String::as_str),
        fields.get("cancel_reason").map(String::as_str),
        listed.as_deref(),
    )
}

fn version_field(fields: &Fields) -> Option<i64> {
    fields.get("version").and_then(|v| v.trim().parse().ok())
}

#[handler]
pub async fn configuration_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.configuration_page(&visit, &tenant, StatusCode::OK, Draft::default()).await
}

#[handler]
pub async fn save_configuration(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let text = fields.get("pack").cloned().unwrap_or_default();
    let version = version_field(&fields);
    let cancel_reason = fields.get("cancel_reason").cloned().unwrap_or_default();
    let draft = Draft { text: Some(text.clone()), version, cancel_reason, ..Draft::default() };
    let (policy, draft) = web.reason_asked(&visit, strand_policy(&fields), draft);
    let saved = match policy {
        Ok(policy) => web.app.save_configuration(&visit.session, &tenant, version, &text, &policy).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(report) => {
            let changes = report.changes.iter().map(ToString::to_string).collect();
            let saved = Draft { saved: Some((report.version, changes)), ..Draft::default() };
            web.configuration_page(&visit, &tenant, StatusCode::OK, saved).await
        }
        Err(error) => web.refused(&visit, &tenant, draft, error).await,
    }
}

#[handler]
pub async fn restore_version(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, version)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let restored = version.parse().map_err(|_| stop(web.admin_failure(&visit, &AppError::NotFound("version"))))?;
    let cancel_reason = fields.get("cancel_reason").cloned().unwrap_or_default();
    let restore_action = Some(format!("/admin/t/{tenant}/versions/{restored}/restore"));
    let draft = Draft { restore_action, cancel_reason, ..Draft::default() };
    let (policy, draft) = web.reason_asked(&visit, strand_policy(&fields), draft);
    let restoring = match policy {
        Ok(policy) => {
            web.app.restore_configuration(&visit.session, &tenant, restored, version_field(&fields), &policy).await
        }
        Err(error) => Err(error),
    };
    match restoring {
        Ok(_) => Ok(see_other(&format!("/admin/t/{tenant}/configuration"))),
        Err(error) => web.refused(&visit, &tenant, draft, error).await,
    }
}
