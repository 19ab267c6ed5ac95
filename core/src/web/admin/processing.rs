//! The record of processing (GDPR art. 30) of a body, as a page for its admins and its DPO, and
//! as the JSON it is generated as.

use poem::http::StatusCode;
use poem::web::Path;
use poem::{Request, Response, handler};
use serde::Serialize;

use super::{Page, WebData, stop};
use crate::app::{AppError, ProcessingRecord};

#[derive(Serialize)]
struct ServiceRow {
    name: String,
    active: bool,
    /// Translation keys of what it collects.
    collected: Vec<String>,
    answers: Vec<String>,
    plugin: Option<String>,
    plugin_sees: Vec<String>,
}

#[derive(Serialize)]
struct ProcessingPage {
    back: String,
    json_url: String,
    service_rows: Vec<ServiceRow>,
    #[serde(flatten)]
    record: ProcessingRecord,
}

/// `contact.whatsapp` → `admin-processing-field-contact-whatsapp`.
fn field_key(code: &str) -> String {
    format!("admin-processing-field-{}", code.replace('.', "-"))
}

#[handler]
pub async fn processing_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    let record = web.app.record_of_processing(&visit.session, &tenant).await;
    let record = record.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    let services = record
        .services
        .iter()
        .map(|s| ServiceRow {
            name: s.name.clone(),
            active: s.active,
            collected: s.collected.iter().map(|c| field_key(c)).collect(),
            answers: s.answers.iter().map(|(_, label)| label.clone()).collect(),
            plugin: s.plugin.as_ref().map(|p| p.plugin.clone()),
            plugin_sees: s.plugin.iter().flat_map(|p| p.citizen_fields.iter().map(|f| field_key(f))).collect(),
        })
        .collect();
    let view = ProcessingPage {
        back: format!("/admin/t/{tenant}/"),
        json_url: format!("/admin/t/{tenant}/processing.json"),
        service_rows: services,
        record,
    };
    Ok(web.staff_page(&visit, "admin-processing", StatusCode::OK, &view))
}

#[handler]
pub async fn processing_json(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    let fail = |e: AppError| stop(web.admin_failure(&visit, &e));
    let record = web.app.record_of_processing(&visit.session, &tenant).await.map_err(fail)?;
    let json = serde_json::to_vec_pretty(&record).map_err(|e| fail(AppError::Internal(format!("record: {e}"))))?;
    Ok(Response::builder()
        .content_type("application/json")
        .header("Content-Disposition", format!("attachment; filename=\"{tenant}-record-of-processing.json\""))
        .body(json))
}
