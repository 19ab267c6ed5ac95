//! A tenant's datasets and plugins on its configuration page: uploaded (added or replaced) and
//! removed. Each is the next configuration version; a refusal is said beside the upload.

use poem::web::{Form, Path};
use poem::{Request, handler};

use super::configuration::Draft;
use super::edits::{EditState, saved_page, version_field};
use super::{Fields, Page, StaffVisit, WebData};
use crate::app::{AppError, ApplyReport, PluginUpload};
use crate::domain::CitizenField;
use crate::web::Web;

/// Which file an upload brings.
#[derive(Clone, Copy)]
enum Upload {
    Dataset,
    Plugin,
}

impl Web {
    /// The configuration page after a dataset or plugin change: saved, or refused with why.
    async fn after_file_change(
        &self,
        visit: &StaffVisit,
        tenant: &str,
        fields: &Fields,
        changed: Result<ApplyReport, AppError>,
    ) -> Page {
        match changed {
            Ok(report) => Ok(saved_page(visit, tenant, &report)),
            Err(error) => {
                let state = EditState::sent(fields);
                let (status, state) = self.refused_edit(visit, error, state, |key| Some(key.to_owned()))?;
                self.configuration_page(visit, tenant, status, Draft { state: Some(state), ..Draft::default() }).await
            }
        }
    }
}

async fn upload(web: &Web, request: &Request, tenant: &str, body: poem::Body, kind: Upload) -> Page {
    let (visit, fields, file) = web.upload_form(request, tenant, body, "file").await?;
    let name = fields.get("name").map(String::as_str).unwrap_or_default();
    let version = version_field(&fields);
    let uploaded = match kind {
        _ if file.is_empty() => Err(AppError::field("file", "file_missing", "Choose a file.")),
        Upload::Dataset => web.app.upload_dataset(&visit.session, tenant, version, name, file).await,
        Upload::Plugin => {
            // The form that adds a plugin says what it sees (each detail a box of its own);
            // the one that replaces a module leaves that as it is.
            let citizen_fields = fields.contains_key("adding").then(|| {
                CitizenField::ALL
                    .iter()
                    .map(|f| f.code())
                    .filter(|code| fields.contains_key(&format!("sees_{code}")))
                    .map(str::to_owned)
                    .collect()
            });
            let upload = PluginUpload { id: name.to_owned(), module: file, citizen_fields };
            web.app.upload_plugin(&visit.session, tenant, version, upload).await
        }
    };
    web.after_file_change(&visit, tenant, &fields, uploaded).await
}

/// A dataset uploaded (replaced or added), checked line by line.
#[handler]
pub async fn upload_dataset(web: WebData<'_>, request: &Request, Path(tenant): Path<String>, body: poem::Body) -> Page {
    upload(&web, request, &tenant, body, Upload::Dataset).await
}

/// A plugin added, or its module replaced; compiled before it is taken.
#[handler]
pub async fn upload_plugin(web: WebData<'_>, request: &Request, Path(tenant): Path<String>, body: poem::Body) -> Page {
    upload(&web, request, &tenant, body, Upload::Plugin).await
}

#[handler]
pub async fn remove_dataset(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, name)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let removed = web.app.remove_dataset(&visit.session, &tenant, version_field(&fields), &name).await;
    web.after_file_change(&visit, &tenant, &fields, removed).await
}

#[handler]
pub async fn remove_plugin(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, plugin)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let removed = web.app.remove_plugin(&visit.session, &tenant, version_field(&fields), &plugin).await;
    web.after_file_change(&visit, &tenant, &fields, removed).await
}
