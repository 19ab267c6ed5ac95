//! What every configuration form shares: the version it was edited from, and what a refused save
//! shows (the fields' errors, the other admin's changes, the bookings it would strand with the
//! choice of what becomes of them).

use std::collections::BTreeMap;

use poem::http::StatusCode;
use serde::Serialize;

use super::views::StrandedRow;
use super::{Fields, Page, StaffVisit, stop};
use crate::app::{AppError, ApplyReport, StrandPolicy, StrandedBooking};
use crate::web::Web;

/// A configuration form's state besides its own fields.
#[derive(Serialize, Default)]
pub struct EditState {
    /// The version the form was edited from (sent back with it).
    pub version: i64,
    /// By field name.
    pub errors: BTreeMap<String, String>,
    /// Problems with no field of the form: elsewhere in the configuration, named by their key.
    pub general: Vec<String>,
    /// Someone saved meanwhile: what they changed.
    pub conflict: Vec<String>,
    /// The upcoming bookings the change would strand.
    pub stranded: Vec<StrandedRow>,
    /// The codes listed, sent back with the choice: it applies to them and no others.
    pub stranded_codes: String,
    pub cancel_reason: String,
}

impl EditState {
    /// What a form sent besides its fields: its version and the reason typed.
    pub fn sent(fields: &Fields) -> Self {
        Self {
            version: version_field(fields).unwrap_or_default(),
            cancel_reason: fields.get("cancel_reason").cloned().unwrap_or_default(),
            ..Self::default()
        }
    }
}

/// After a save: the configuration page saying which version is now in force (in the language
/// the visitor asked for in the link, if they did).
pub fn saved_page(visit: &StaffVisit, tenant: &str, report: &ApplyReport) -> poem::Response {
    let mut location = format!("/admin/t/{tenant}/configuration?saved={}", report.version);
    if report.changes.is_empty() {
        // Nothing was saved: the version in force keeps its own changes, which are not these.
        location.push_str("&unchanged=1");
    }
    if visit.remember {
        location.push_str(&format!("&lang={}", visit.locale.code()));
    }
    crate::web::see_other(&location)
}

pub fn version_field(fields: &Fields) -> Option<i64> {
    fields.get("version").and_then(|v| v.trim().parse().ok())
}

/// The admin's choice for stranded bookings, as the form sent it.
fn strand_policy(fields: &Fields) -> Result<StrandPolicy, AppError> {
    let listed: Option<Vec<String>> = fields.get("stranded_codes").map(|c| c.split(',').map(str::to_owned).collect());
    StrandPolicy::parse(
        fields.get("stranded").map(String::as_str),
        fields.get("cancel_reason").map(String::as_str),
        listed.as_deref(),
    )
}

pub fn stranded_rows(stranded: &[StrandedBooking]) -> Vec<StrandedRow> {
    stranded
        .iter()
        .map(|b| StrandedRow {
            code: b.code.clone(),
            when: b.start.with_timezone(&b.timezone).format("%d/%m/%Y %H:%M").to_string(),
            service: b.service.clone(),
            office: b.office.clone(),
            reason_key: format!("admin-strand-{}", b.reason.code().replace('_', "-")),
        })
        .collect()
}

impl Web {
    /// The choice a form made for stranded bookings. "Cancel" without a reason saves without
    /// cancelling, so that the bookings are listed again with the missing reason named.
    pub(super) fn strand_choice(
        &self,
        visit: &StaffVisit,
        fields: &Fields,
        state: &mut EditState,
    ) -> Result<StrandPolicy, AppError> {
        match strand_policy(fields)? {
            StrandPolicy::Cancel { reason, .. } if reason.trim().is_empty() => {
                let text = self.render.text(visit.locale, "admin-error-cancel-reason-required", &[]);
                state.errors.insert("cancel_reason".into(), text);
                Ok(StrandPolicy::Refuse)
            }
            policy => Ok(policy),
        }
    }

    /// A refused save as the form shows it again: errors by field (`field_of` names the form
    /// field of a configuration key, if the form has one), the conflict, or the stranded
    /// bookings. Any other failure stops with the error page.
    pub(super) fn refused_edit(
        &self,
        visit: &StaffVisit,
        error: AppError,
        mut state: EditState,
        field_of: impl Fn(&str) -> Option<String>,
    ) -> Page<(StatusCode, EditState)> {
        match error {
            AppError::Invalid(errors) => {
                for (key, message) in self.field_errors(visit.locale, &errors) {
                    match field_of(&key) {
                        Some(field) => {
                            state.errors.entry(field).or_insert(message);
                        }
                        None => state.general.push(format!("{key}: {message}")),
                    }
                }
                Ok((StatusCode::UNPROCESSABLE_ENTITY, state))
            }
            AppError::StrandsBookings(stranded) => {
                state.stranded_codes = stranded.iter().map(|b| b.code.as_str()).collect::<Vec<_>>().join(",");
                state.stranded = stranded_rows(&stranded);
                Ok((StatusCode::CONFLICT, state))
            }
            AppError::StaleVersion { current, changes } => {
                state.conflict = changes;
                state.version = current;
                Ok((StatusCode::CONFLICT, state))
            }
            other => Err(stop(self.admin_failure(visit, &other))),
        }
    }
}
