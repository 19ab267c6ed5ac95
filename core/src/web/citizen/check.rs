//! The step before the calendar, for a service whose rule checks some answers first (a pagoPA
//! notice and its holder's fiscal code): nobody holds a place they could not book. What passed
//! is kept as the booking in progress's draft, so the details form starts with it; the rule
//! checks everything again at booking.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, Response, handler};

use super::views::{CheckView, CheckedView, ErrorLink, ExtraField, SummaryItem};
use super::{Fields, Page, Visit, WebData, see_other, stop};
use crate::app::{AppError, DRAFT_GRACE, LookupQuery};
use crate::domain::{CitizenField, FieldErrors, Service};
use crate::holds::HoldToken;
use crate::store::DraftFields;
use crate::web::{Web, hold_cookie};

/// The draft's mark that the service named passed its checks.
pub(super) const CHECKED: &str = "checked";
/// What the rule said of the checked answers (label and value pairs, as JSON), shown until the
/// booking is made.
pub(super) const CHECKED_SUMMARY: &str = "checked_summary";
const FISCAL_CODE: &str = "fiscal_code";

/// Whether the check step asks for the fiscal code: the service asks it and its rule sees it.
fn asks_fiscal_code(visit: &Visit, service: &Service) -> bool {
    service.fiscal_code_required && visit.tenant.config.rule_sees(service).contains(&CitizenField::FiscalCode)
}

/// The fields of the check step, as typed.
fn fields_of(service: &Service, values: &Fields) -> BTreeMap<String, String> {
    let wanted = |name: &str| {
        name == FISCAL_CODE || name.strip_prefix("answers.").is_some_and(|k| service.check_first.iter().any(|c| c == k))
    };
    values.iter().filter(|(name, _)| wanted(name)).map(|(n, v)| (n.clone(), v.trim().to_owned())).collect()
}

impl Web {
    /// The service's checked answers of this browser's booking in progress, if they passed.
    pub(super) async fn checked(&self, visit: &Visit, request: &Request, service: &str) -> Page<Option<CheckedView>> {
        let Some((_, token)) = hold_cookie::current(request) else { return Ok(None) };
        let draft = self.app.draft(&visit.tenant, &token).await.map_err(|e| stop(self.failure(visit, &e, None)))?;
        Ok(draft.filter(|d| d.get(CHECKED).map(String::as_str) == Some(service)).map(|d| CheckedView {
            summary: d
                .get(CHECKED_SUMMARY)
                .and_then(|s| serde_json::from_str::<Vec<(String, String)>>(s).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|(label, value)| SummaryItem { label, value })
                .collect(),
            change_url: format!("/t/{}/s/{service}/check", visit.slug()),
        }))
    }

    /// Stops at the check step a service that checks answers first, until they passed.
    pub(super) async fn require_checked(
        &self,
        visit: &Visit,
        request: &Request,
        service: &str,
    ) -> Page<Option<CheckedView>> {
        let checks_first = visit.tenant.config.service(service).is_some_and(|s| !s.check_first.is_empty());
        if !checks_first {
            return Ok(None);
        }
        match self.checked(visit, request, service).await? {
            Some(checked) => Ok(Some(checked)),
            None => Err(stop(see_other(&format!("/t/{}/s/{service}/check", visit.slug())))),
        }
    }

    fn show_check(&self, visit: &Visit, service: &Service, values: &Fields, errors: Option<&FieldErrors>) -> Response {
        let error_for = |path: &str| -> Option<String> {
            let error = errors?.0.iter().find(|f| f.field == path)?;
            Some(match error.code {
                "rule" => error.message.clone(),
                code => self.render.text(visit.locale, &format!("error-{}", code.replace('_', "-")), &[]),
            })
        };
        let value = |name: &str| values.get(name).cloned().unwrap_or_default();
        let mut fields: Vec<ExtraField> = service
            .fields
            .iter()
            .filter(|f| service.check_first.contains(&f.key))
            .map(|f| {
                let name = format!("answers.{}", f.key);
                ExtraField {
                    required: true,
                    value: value(&name),
                    error_text: error_for(&name),
                    ..ExtraField::of(f, visit.locale)
                }
            })
            .collect();
        if asks_fiscal_code(visit, service) {
            fields.push(ExtraField {
                name: FISCAL_CODE.to_owned(),
                id: "f-fiscal_code".to_owned(),
                label: self.render.text(visit.locale, "field-fiscal-code", &[]),
                help: Some(self.render.text(visit.locale, "check-fiscal-code-help", &[])),
                required: true,
                value: value(FISCAL_CODE),
                inputmode: "text",
                error_text: error_for("citizen.fiscal_code"),
                lookup_field: None,
            });
        }
        let summary = fields
            .iter()
            .filter_map(|f| {
                Some(ErrorLink {
                    href: format!("#{}", f.id),
                    label_key: None,
                    label: Some(f.label.clone()),
                    error_text: f.error_text.clone()?,
                })
            })
            .collect();
        let view = CheckView {
            step: super::the_check_step(),
            service_name: service.name.get(visit.locale).to_owned(),
            fields,
            errors: summary,
            action: format!("/t/{}/s/{}/check", visit.slug(), service.slug),
            back: visit.home(),
        };
        let status = if errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        self.page(&self.frame(visit), "check", status, &view)
    }

    /// Checks the typed answers with the service's rule, one by one, the fiscal code going along.
    async fn check_answers(
        &self,
        visit: &Visit,
        service: &Service,
        typed: &BTreeMap<String, String>,
        client: Option<&str>,
    ) -> Result<(BTreeMap<String, String>, Vec<(String, String)>), AppError> {
        let mut errors = FieldErrors::default();
        let mut citizen = BTreeMap::new();
        let fiscal_code = typed.get(FISCAL_CODE).filter(|v| !v.is_empty());
        if asks_fiscal_code(visit, service) {
            match fiscal_code.and_then(|raw| crate::domain::FiscalCode::parse(raw)) {
                Some(code) => {
                    citizen.insert(FISCAL_CODE.to_owned(), code.to_string());
                }
                None if fiscal_code.is_none() => errors.push("citizen.fiscal_code", "required", "Enter it."),
                None => errors.push("citizen.fiscal_code", "invalid_fiscal_code", "Enter a valid fiscal code."),
            }
        }
        let mut checked = citizen.clone();
        let mut summary = Vec::new();
        for key in &service.check_first {
            let path = format!("answers.{key}");
            let Some(value) = typed.get(&path).filter(|v| !v.is_empty()) else {
                errors.push(path, "required", "Enter it.");
                continue;
            };
            if !errors.is_empty() {
                continue;
            }
            let query = LookupQuery {
                service: service.slug.as_str(),
                field: key,
                value,
                locale: Some(visit.locale.code()),
                citizen: &citizen,
            };
            match self.app.lookup(visit.slug(), &query, client).await {
                Ok(found) => {
                    checked.insert(path, found.value.unwrap_or_else(|| value.clone()));
                    let lines = found.summary.iter().map(|l| (l.label.get(found.locale).to_owned(), l.value.clone()));
                    summary.extend(lines);
                }
                // The rule's errors name the lookup's own fields: they are about this answer.
                Err(AppError::Invalid(refused)) => {
                    for error in refused.0 {
                        let field =
                            if error.field.starts_with("citizen.") { error.field.clone() } else { path.clone() };
                        errors.push(field, error.code, error.message);
                    }
                }
                Err(error) => return Err(error),
            }
        }
        errors.into_result(|| Some((checked, summary))).map_err(AppError::Invalid)
    }
}

/// The check step: the answers the service's rule checks before the calendar.
#[handler]
pub async fn check_page(web: WebData<'_>, request: &Request, Path((tenant, service)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let Some(service) = visit.tenant.config.service(&service).filter(|s| !s.check_first.is_empty()) else {
        return Ok(see_other(&format!("/t/{tenant}/s/{service}")));
    };
    // What passed before (or was typed in the details form) fills the form again.
    let typed = match hold_cookie::current(request) {
        Some((_, token)) => {
            web.app.draft(&visit.tenant, &token).await.map_err(|e| stop(web.failure(&visit, &e, None)))?
        }
        None => None,
    };
    let values: Fields =
        typed.map(|d| fields_of(service, &d.into_iter().collect())).unwrap_or_default().into_iter().collect();
    Ok(web.show_check(&visit, service, &values, None))
}

/// The check step's form: on to the offices when the rule accepts, else the form again, annotated.
#[handler]
pub async fn check_form(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
    Form(values): Form<Fields>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let Some(service) = visit.tenant.config.service(&service).filter(|s| !s.check_first.is_empty()) else {
        return Ok(see_other(&format!("/t/{tenant}/s/{service}")));
    };
    let typed = fields_of(service, &values);
    let (checked, summary) = match web.check_answers(&visit, service, &typed, web.client(request).as_deref()).await {
        Ok(passed) => passed,
        Err(AppError::Invalid(errors)) => {
            return Ok(web.show_check(&visit, service, &typed.into_iter().collect(), Some(&errors)));
        }
        Err(error) => return Ok(web.failure(&visit, &error, Some(visit.home()))),
    };
    // The booking in progress keeps its secret (and any place it holds); a first visit gets one.
    let current = hold_cookie::current(request);
    let token = current.as_ref().map_or_else(|| HoldToken::generate(&mut rand::rng()), |(_, t)| t.clone());
    let mut draft: DraftFields = match &current {
        Some(_) => web.app.draft(&visit.tenant, &token).await.map_err(|e| stop(web.failure(&visit, &e, None)))?,
        None => None,
    }
    .unwrap_or_default();
    draft.extend(checked);
    draft.insert(CHECKED.to_owned(), service.slug.to_string());
    draft.insert(CHECKED_SUMMARY.to_owned(), serde_json::to_string(&summary).unwrap_or_default());
    let expires_at = web.app.now() + DRAFT_GRACE;
    if let Err(error) = web.app.keep_draft_until(&visit.tenant, &token, &draft, expires_at).await {
        return Ok(web.failure(&visit, &error, None));
    }
    let next = format!("/t/{tenant}/s/{}", service.slug);
    Ok(match current {
        Some(_) => see_other(&next),
        None => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", next)
            .header("Set-Cookie", hold_cookie::start(request, visit.slug(), &token, DRAFT_GRACE))
            .finish(),
    })
}
