//! The tenant's configuration: its services and offices (each edited in its own form), its whole
//! text for everything else, and its history with a way back to any version.

use poem::http::StatusCode;
use poem::web::{Form, Path, Query};
use poem::{Request, handler};

use super::edits::{EditState, saved_page, version_field};
use super::views::{CitizenFieldChoice, ConfigurationPage, FileRow, PartRow, VersionRow};
use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::AppError;
use crate::domain::CitizenField;
use crate::packs::PluginChoice;
use crate::web::Web;

/// What the page shows besides the history.
#[derive(Default)]
pub(super) struct Draft {
    /// The text typed, kept on errors; `None` shows the stored one.
    pub(super) text: Option<String>,
    /// `None`: edited from the version in force.
    pub(super) state: Option<EditState>,
    /// The version just saved, to say so.
    pub(super) saved: Option<i64>,
    /// The restore that was refused, to be asked again with the bookings' fate.
    pub(super) restore_action: Option<String>,
    /// The refusal was an import's: its bookings' fate is chosen with the upload.
    pub(super) importing: bool,
    /// The save changed nothing.
    pub(super) unchanged: bool,
}

impl Web {
    pub(super) async fn configuration_page(
        &self,
        visit: &StaffVisit,
        slug: &str,
        status: StatusCode,
        draft: Draft,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let current = self.app.configuration(&visit.session, slug).await.map_err(fail)?;
        let history = self.app.configuration_history(&visit.session, slug).await.map_err(fail)?;
        let overview = self.app.tenant_overview(&visit.session, slug).await.map_err(fail)?;
        // A text that no longer parses by parts is still shown and edited whole.
        let parts = match self.app.parts(&visit.session, slug).await {
            Ok(parts) => Some(parts),
            Err(AppError::Invalid(_)) => None,
            Err(error) => return Err(fail(error)),
        };
        let tz = overview.timezone;
        let base = format!("/admin/t/{slug}");
        let saved_changes = draft
            .saved
            .filter(|_| !draft.unchanged)
            .and_then(|saved| history.iter().find(|v| v.version == saved))
            .map(|v| v.changes.clone())
            .unwrap_or_default();
        let state = draft.state.unwrap_or_else(|| EditState { version: current.version, ..EditState::default() });
        let (services, offices, datasets, plugins) =
            parts.map(|p| (p.services, p.offices, p.datasets, p.plugins)).unwrap_or_default();
        let view = ConfigurationPage {
            tenant_name: overview.name,
            back: format!("{base}/"),
            action: format!("{base}/configuration"),
            settings: format!("{base}/settings"),
            new_service: format!("{base}/new-service"),
            new_office: format!("{base}/new-office"),
            services: services
                .iter()
                .map(|s| PartRow {
                    name: s
                        .name
                        .get(visit.locale.code())
                        .or_else(|| s.name.values().next())
                        .cloned()
                        .unwrap_or_default(),
                    slug: s.slug.clone(),
                    url: format!("{base}/services/{}", s.slug),
                    active: s.active,
                })
                .collect(),
            offices: offices
                .iter()
                .map(|o| PartRow {
                    name: o.name.clone(),
                    slug: o.slug.clone(),
                    url: format!("{base}/offices/{}", o.slug),
                    active: true,
                })
                .collect(),
            current_version: current.version,
            text: draft.text.unwrap_or(current.manifest),
            state,
            restore_action: draft.restore_action,
            importing: draft.importing,
            datasets: datasets
                .into_iter()
                .map(|(name, file)| FileRow {
                    removal_action: format!("{base}/datasets/{name}/removal"),
                    name,
                    file,
                    sees: Vec::new(),
                    used_by: Vec::new(),
                })
                .collect(),
            plugins: plugins
                .into_iter()
                .map(|p| FileRow {
                    removal_action: format!("{base}/plugins/{}/removal", p.id),
                    sees: p.citizen_fields.iter().map(|f| format!("admin-citizen-field-{}", f.code())).collect(),
                    used_by: services
                        .iter()
                        .filter(|s| matches!(&s.plugin, PluginChoice::With { id, .. } if id == p.id.as_str()))
                        .map(|s| s.slug.clone())
                        .collect(),
                    name: p.id.to_string(),
                    file: p.file,
                })
                .collect(),
            citizen_fields: CitizenField::ALL
                .iter()
                .map(|f| CitizenFieldChoice { code: f.code(), label_key: format!("admin-citizen-field-{}", f.code()) })
                .collect(),
            datasets_action: format!("{base}/datasets"),
            plugins_action: format!("{base}/plugins"),
            export: format!("{base}/pack"),
            saved_version: draft.saved,
            saved_changes,
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

    /// The page after a failed save, with the typed text kept.
    async fn refused(&self, visit: &StaffVisit, slug: &str, draft: Draft, state: EditState, error: AppError) -> Page {
        let (status, state) = self.refused_edit(visit, error, state, |key| Some(key.to_owned()))?;
        self.configuration_page(visit, slug, status, Draft { state: Some(state), ..draft }).await
    }
}

#[handler]
pub async fn configuration_page(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Query(query): Query<Fields>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    // The version a save just made (after its redirect); anything else is ignored.
    let saved = query.get("saved").and_then(|v| v.parse().ok());
    let unchanged = query.contains_key("unchanged");
    web.configuration_page(&visit, &tenant, StatusCode::OK, Draft { saved, unchanged, ..Draft::default() }).await
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
    let mut state = EditState::sent(&fields);
    let draft = Draft { text: Some(text.clone()), ..Draft::default() };
    let saved = match web.strand_choice(&visit, &fields, &mut state) {
        Ok(policy) => web.app.save_configuration(&visit.session, &tenant, version_field(&fields), &text, &policy).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => web.refused(&visit, &tenant, draft, state, error).await,
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
    let mut state = EditState::sent(&fields);
    let restore_action = Some(format!("/admin/t/{tenant}/versions/{restored}/restore"));
    let draft = Draft { restore_action, ..Draft::default() };
    let restoring = match web.strand_choice(&visit, &fields, &mut state) {
        Ok(policy) => {
            web.app.restore_configuration(&visit.session, &tenant, restored, version_field(&fields), &policy).await
        }
        Err(error) => Err(error),
    };
    match restoring {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => web.refused(&visit, &tenant, draft, state, error).await,
    }
}

/// The configuration in force as a pack archive, to download.
#[handler]
pub async fn export_pack(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    let pack = web.app.export_pack(&visit.session, &tenant).await.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    Ok(poem::Response::builder()
        .content_type("application/gzip")
        .header("Content-Disposition", format!("attachment; filename=\"{}\"", pack.file_name))
        .header("Cache-Control", "no-store")
        .body(pack.bytes))
}

/// A pack archive uploaded as the next version; refused whole, with the reason beside the upload.
#[handler]
pub async fn import_pack(web: WebData<'_>, request: &Request, Path(tenant): Path<String>, body: poem::Body) -> Page {
    let (visit, fields, archive) = web.upload_form(request, &tenant, body, "archive").await?;
    let mut state = EditState::sent(&fields);
    let imported = match web.strand_choice(&visit, &fields, &mut state) {
        Ok(_) if archive.is_empty() => Err(AppError::field("archive", "archive_missing", "Choose a pack archive.")),
        Ok(policy) => web.app.import_pack(&visit.session, &tenant, version_field(&fields), &archive, &policy).await,
        Err(error) => Err(error),
    };
    match imported {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => {
            let (status, state) = web.refused_edit(&visit, error, state, |key| {
                Some(if key == "pack" { "archive".to_owned() } else { key.to_owned() })
            })?;
            let draft = Draft { state: Some(state), importing: true, ..Draft::default() };
            web.configuration_page(&visit, &tenant, status, draft).await
        }
    }
}
