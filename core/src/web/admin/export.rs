//! An office's bookings of a date range as a CSV download (audited by the use case).

use chrono::NaiveDate;
use poem::web::{Path, Query};
use poem::{Request, handler};
use serde::Deserialize;

use super::{Page, WebData, stop};
use crate::app::AppError;

#[derive(Deserialize, Default)]
pub struct RangeParams {
    from: Option<String>,
    to: Option<String>,
}

/// A day as the form's date input sends it; today when left out.
fn day(raw: Option<&str>, field: &str, today: NaiveDate) -> Result<NaiveDate, AppError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(today),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| AppError::field(field, "invalid_date", "Use a date such as 2026-12-01.")),
    }
}

#[handler]
pub async fn export_bookings(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Query(params): Query<RangeParams>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    let fail = |e: AppError| stop(web.admin_failure(&visit, &e));
    // Who may export is settled before the dates are judged.
    let (_, found) = web.app.desk_office(&visit.session, &tenant, &office).await.map_err(fail)?;
    let today = web.app.now().with_timezone(&found.timezone).date_naive();
    let from = day(params.from.as_deref(), "from", today).map_err(fail)?;
    let to = day(params.to.as_deref(), "to", from).map_err(fail)?;
    let export = web.app.export_bookings(&visit.session, &tenant, &office, (from, to)).await.map_err(fail)?;
    Ok(poem::Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header("Content-Disposition", format!("attachment; filename=\"{}\"", export.file_name))
        .header("Cache-Control", "no-store")
        .body(export.csv))
}
