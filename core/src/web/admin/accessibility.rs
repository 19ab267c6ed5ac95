//! The body's accessibility statement (AgID's model): a form its admins fill in, published at
//! `/t/{tenant}/accessibility` and linked from every citizen page's footer.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};
use serde::Serialize;

use super::edits::{EditState, saved_page, version_field};
use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::AppError;
use crate::packs::AccessibilityDraft;
use crate::web::Web;

/// The form's fields as typed; an empty conformance withdraws the statement.
#[derive(Serialize, Default)]
struct StatementForm {
    conformance: String,
    method: String,
    prepared_on: String,
    reviewed_on: String,
    feedback_email: String,
    non_accessible_it: String,
    non_accessible_en: String,
}

impl StatementForm {
    fn of(draft: Option<&AccessibilityDraft>) -> Self {
        let Some(d) = draft else { return Self { method: "self".into(), ..Self::default() } };
        let text = |code: &str| d.non_accessible.get(code).cloned().unwrap_or_default();
        Self {
            conformance: d.conformance.clone(),
            method: d.method.clone(),
            prepared_on: d.prepared_on.clone(),
            reviewed_on: d.reviewed_on.clone().unwrap_or_default(),
            feedback_email: d.feedback_email.clone(),
            non_accessible_it: text("it"),
            non_accessible_en: text("en"),
        }
    }

    fn sent(fields: &Fields) -> Self {
        let one = |name: &str| fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            conformance: one("conformance"),
            method: one("method"),
            prepared_on: one("prepared_on"),
            reviewed_on: one("reviewed_on"),
            feedback_email: one("feedback_email"),
            non_accessible_it: one("non_accessible_it"),
            non_accessible_en: one("non_accessible_en"),
        }
    }

    /// `None` withdraws the statement; the values are judged with the whole configuration.
    fn draft(&self) -> Option<AccessibilityDraft> {
        if self.conformance.is_empty() {
            return None;
        }
        Some(AccessibilityDraft {
            conformance: self.conformance.clone(),
            non_accessible: [("it", &self.non_accessible_it), ("en", &self.non_accessible_en)]
                .into_iter()
                .filter(|(_, words)| !words.is_empty())
                .map(|(code, words)| (code.to_owned(), words.clone()))
                .collect(),
            prepared_on: self.prepared_on.clone(),
            reviewed_on: Some(self.reviewed_on.clone()).filter(|d| !d.is_empty()),
            method: self.method.clone(),
            feedback_email: self.feedback_email.clone(),
        })
    }
}

/// A configuration key (`accessibility.prepared_on`, `accessibility.non_accessible.en`) as the
/// form field it comes from.
fn field_of(key: &str) -> Option<String> {
    let field = key.strip_prefix("accessibility.")?;
    Some(match field.strip_prefix("non_accessible.") {
        Some(code) => format!("non_accessible_{code}"),
        None => field.to_owned(),
    })
}

#[derive(Serialize)]
struct StatementPage {
    tenant_name: String,
    back: String,
    action: String,
    /// Where citizens read it.
    public_url: String,
    #[serde(flatten)]
    form: StatementForm,
    #[serde(flatten)]
    state: EditState,
}

impl Web {
    async fn statement_page(
        &self,
        visit: &StaffVisit,
        tenant: &str,
        status: StatusCode,
        form: Option<StatementForm>,
        state: Option<EditState>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let view = self.app.accessibility_statement(&visit.session, tenant).await.map_err(fail)?;
        let tenant_name = self.app.tenant(tenant).await.map_err(fail)?.config.name.clone();
        let base = format!("/admin/t/{tenant}");
        let page = StatementPage {
            tenant_name,
            back: format!("{base}/configuration"),
            action: format!("{base}/accessibility"),
            public_url: format!("/t/{tenant}/accessibility"),
            form: form.unwrap_or_else(|| StatementForm::of(view.statement.as_ref())),
            state: state.unwrap_or_else(|| EditState { version: view.version, ..EditState::default() }),
        };
        Ok(self.staff_page(visit, "admin-accessibility", status, &page))
    }
}

#[handler]
pub async fn accessibility_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.statement_page(&visit, &tenant, StatusCode::OK, None, None).await
}

#[handler]
pub async fn save_accessibility(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let form = StatementForm::sent(&fields);
    let state = EditState::sent(&fields);
    let draft = form.draft();
    match web.app.save_accessibility_statement(&visit.session, &tenant, version_field(&fields), draft.as_ref()).await {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => {
            let (status, state) = web.refused_edit(&visit, error, state, field_of)?;
            web.statement_page(&visit, &tenant, status, Some(form), Some(state)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn configuration_keys_name_their_form_fields() {
        assert_eq!(field_of("accessibility.prepared_on").as_deref(), Some("prepared_on"));
        assert_eq!(field_of("accessibility.non_accessible.en").as_deref(), Some("non_accessible_en"));
        assert_eq!(field_of("branding.primary_color"), None);
    }
}
