//! Step 4: the details form, the review, and the confirmation. The hold is named in the URL;
//! only the browser that placed it shows its secret (a cookie).

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, Response, handler};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::views::{
    CitizenField, DetailsView, ErrorLink, ErrorView, ExtraField, HiddenValue, ReasonChoice, ReviewView, ShownValue,
};
use super::{Fields, Page, Visit, WebData, mode_key, step, stop, summary_lines, time};
use crate::app::{AppError, ConfirmRequest};
use crate::domain::booking::SummaryLine;
use crate::domain::{DetailsForm, FieldErrors, FieldKind, Mode};
use crate::holds::Hold;
use crate::web::{Web, hold_cookie};

impl Web {
    /// The hold of a details page, if this browser placed it, or the page that says it is gone.
    async fn held(&self, visit: &Visit, request: &Request, id: &str) -> Page<Hold> {
        let gone =
            || stop(self.error(visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", Some(visit.home())));
        let id = Uuid::parse_str(id).map_err(|_| gone())?;
        let token = hold_cookie::read(request, id).ok_or_else(gone)?;
        match self.app.owned_hold(&visit.tenant, id, &token).await {
            Ok(hold) => Ok(hold),
            Err(AppError::NotFound(_) | AppError::HoldUnknown) => Err(gone()),
            Err(error) => Err(stop(self.failure(visit, &error, Some(visit.home())))),
        }
    }

    /// Step 4: the details form, filled with `values` and annotated with `errors`.
    fn details_page(&self, visit: &Visit, hold: &Hold, values: &Fields, errors: Option<&FieldErrors>) -> Response {
        let config = &visit.tenant.config;
        let Some(service) = config.service(hold.service.as_str()) else {
            return self.error(visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", None);
        };
        let tz = config.office(hold.office.as_str()).map_or(config.timezone, |o| o.timezone);
        let value = |key: &str| values.get(key).cloned().unwrap_or_default();
        // The text of a field's error: a tenant rule words its own (already in the page's
        // language); every other error has a message of ours.
        let error_for = |field: &str| -> Option<String> {
            errors.and_then(|e| e.0.iter().find(|f| f.field == field)).map(|f| {
                if f.code == "rule" {
                    f.message.clone()
                } else {
                    self.render.text(visit.locale, &format!("error-{}", f.code.replace('_', "-")), &[])
                }
            })
        };
        // With a `lookup` rule, the script checks the service's fields and the fiscal code as they are
        // typed (the server checks them again on submit either way).
        let lookup = visit.tenant.has_lookup(service);
        let field =
            |name: &'static str, path: &str, label_key: &'static str, kind: &'static str, autocomplete| CitizenField {
                name,
                id: format!("f-{}", name.replace('.', "-")),
                label_key,
                kind,
                required: true,
                value: value(name),
                error_text: error_for(path),
                autocomplete,
                lookup_field: None,
            };
        let mut fields = vec![
            field("first_name", "citizen.first_name", "field-first-name", "text", "given-name"),
            field("last_name", "citizen.last_name", "field-last-name", "text", "family-name"),
            field("email", "citizen.email", "field-email", "email", "email"),
            field("phone", "citizen.phone", "field-phone", "tel", "tel"),
        ];
        if service.fiscal_code_required {
            let fiscal_code = field("fiscal_code", "citizen.fiscal_code", "field-fiscal-code", "text", "off");
            fields.push(CitizenField { lookup_field: lookup.then_some("fiscal_code"), ..fiscal_code });
        }
        let contact_key = match hold.mode {
            Mode::InPerson | Mode::Jitsi => None,
            Mode::WhatsApp => Some(("field-contact-whatsapp", "tel")),
            Mode::Skype => Some(("field-contact-skype", "text")),
            Mode::Teams => Some(("field-contact-teams", "email")),
        };
        if let Some((label, kind)) = contact_key {
            fields.push(field("contact", "contact", label, kind, "off"));
        }
        let extra: Vec<ExtraField> = service
            .fields
            .iter()
            .map(|f| {
                let name = format!("answers.{}", f.key);
                ExtraField {
                    id: format!("f-answers-{}", f.key),
                    label: f.label.get(visit.locale).to_owned(),
                    help: f.help.as_ref().map(|h| h.get(visit.locale).to_owned()),
                    required: f.required,
                    value: value(&name),
                    inputmode: if matches!(f.kind, FieldKind::Digits { .. }) { "numeric" } else { "text" },
                    error_text: error_for(&name),
                    lookup_field: lookup.then(|| f.key.clone()),
                    name,
                }
            })
            .collect();
        let reasons = service
            .reasons
            .iter()
            .map(|r| ReasonChoice {
                key: r.key.clone(),
                label: r.label.get(visit.locale).to_owned(),
                selected: value("reason") == r.key,
            })
            .collect();
        // The summary names each field with its own label, in the order of the form.
        let own = fields.iter().filter_map(|f| {
            let error_text = f.error_text.clone()?;
            Some(ErrorLink { href: format!("#{}", f.id), label_key: Some(f.label_key), label: None, error_text })
        });
        let asked = extra.iter().filter_map(|f| {
            let error_text = f.error_text.clone()?;
            Some(ErrorLink { href: format!("#{}", f.id), label_key: None, label: Some(f.label.clone()), error_text })
        });
        let rest = [
            ("reason", "f-reason", "field-reason"),
            ("details", "f-details", "field-details"),
            ("privacy_accepted", "f-privacy", "privacy-title"),
        ]
        .into_iter()
        .filter_map(|(field, id, label_key)| {
            let error_text = error_for(field)?;
            Some(ErrorLink { href: format!("#{id}"), label_key: Some(label_key), label: None, error_text })
        });
        let summary = own.chain(asked).chain(rest).collect();
        let view = DetailsView {
            step: step(4),
            service_name: service.name.get(visit.locale).to_owned(),
            when: format!(
                "{} {}",
                self.date(visit.locale, hold.start.with_timezone(&tz).date_naive()),
                time(hold.start, tz)
            ),
            held_until: time(hold.expires_at, tz),
            expires_at: hold.expires_at.to_rfc3339(),
            fields,
            extra,
            reasons,
            reason_error: error_for("reason"),
            details: value("details"),
            details_error: error_for("details"),
            privacy_checked: values.contains_key("privacy_accepted"),
            privacy_error: error_for("privacy_accepted"),
            errors: summary,
            action: format!("/t/{}/details/{}", config.slug, hold.id),
            lookup_url: lookup.then(|| format!("/api/v1/t/{}/services/{}/lookup", config.slug, service.slug)),
            back: format!("/t/{}/s/{}/o/{}/m/{}", config.slug, hold.service, hold.office, hold.mode.code()),
        };
        let status = if errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        self.page(&self.frame(visit), "details", status, &view)
    }

    fn review_page(&self, visit: &Visit, hold: &Hold, values: &Fields, summary: &[SummaryLine]) -> Response {
        let config = &visit.tenant.config;
        let tz = config.office(hold.office.as_str()).map_or(config.timezone, |o| o.timezone);
        let office = config.office(hold.office.as_str());
        let mut hidden: Vec<HiddenValue> =
            values.iter().map(|(name, value)| HiddenValue { name: name.clone(), value: value.clone() }).collect();
        hidden.sort_by(|a, b| a.name.cmp(&b.name));
        let service = config.service(hold.service.as_str());
        let order = ["first_name", "last_name", "email", "phone", "fiscal_code", "contact", "reason", "details"];
        let mut shown: Vec<(usize, ShownValue)> = values
            .iter()
            .filter(|(k, v)| !v.trim().is_empty() && k.as_str() != "privacy_accepted" && k.as_str() != "edit")
            .map(|(k, v)| {
                let position = order.iter().position(|o| o == k).unwrap_or(order.len());
                // Extra answers and reasons are named by the service, in the page's language.
                let label = k
                    .strip_prefix("answers.")
                    .and_then(|key| service?.fields.iter().find(|f| f.key == key))
                    .map(|f| f.label.get(visit.locale).to_owned());
                let value = match k.as_str() {
                    "reason" => service
                        .and_then(|s| s.reasons.iter().find(|r| r.key == *v))
                        .map_or(v.clone(), |r| r.label.get(visit.locale).to_owned()),
                    _ => v.clone(),
                };
                (position, ShownValue { label, label_key: format!("review-{}", k.replace('_', "-")), value })
            })
            .collect();
        shown.sort_by_key(|(position, _)| *position);
        let day = self.date(visit.locale, hold.start.with_timezone(&tz).date_naive());
        let view = ReviewView {
            step: step(4),
            service_name: service.map(|s| s.name.get(visit.locale).to_owned()),
            office_name: office.map(|o| o.name.clone()),
            address: office.map(|o| o.address.clone()),
            mode_key: mode_key(hold.mode),
            when: format!("{day} {}–{}", time(hold.start, tz), time(hold.end, tz)),
            held_until: time(hold.expires_at, tz),
            shown: shown.into_iter().map(|(_, v)| v).collect(),
            rule_summary: summary_lines(visit.locale, summary),
            hidden,
            confirm_action: format!("/t/{}/confirm/{}", config.slug, hold.id),
            edit_action: format!("/t/{}/details/{}", config.slug, hold.id),
        };
        self.show(visit, "review", &view)
    }
}

fn details_form(values: &Fields, visit: &Visit) -> DetailsForm {
    let optional = |key: &str| values.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    DetailsForm {
        first_name: values.get("first_name").cloned().unwrap_or_default(),
        last_name: values.get("last_name").cloned().unwrap_or_default(),
        email: values.get("email").cloned().unwrap_or_default(),
        phone: values.get("phone").cloned().unwrap_or_default(),
        fiscal_code: optional("fiscal_code"),
        contact: optional("contact"),
        answers: values
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("answers.").map(|key| (key.to_owned(), v.clone())))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect::<BTreeMap<_, _>>(),
        reason: optional("reason"),
        details: optional("details"),
        privacy_accepted: values.contains_key("privacy_accepted"),
        // A booking speaks the language of the pages it was made on.
        locale: Some(visit.locale.code().to_owned()),
    }
}

/// Step 4: the details form.
#[handler]
pub async fn details_step(web: WebData<'_>, request: &Request, Path((tenant, hold)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let hold = web.held(&visit, request, &hold).await?;
    Ok(web.details_page(&visit, &hold, &Fields::new(), None))
}

/// Step 4's form: check the details, then show them for review (or the form again, annotated).
#[handler]
pub async fn review_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hold)): Path<(String, String)>,
    Form(values): Form<Fields>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let hold = web.held(&visit, request, &hold).await?;
    if values.contains_key("edit") {
        return Ok(web.details_page(&visit, &hold, &values, None));
    }
    Ok(match web.app.check_details(&visit.tenant, &hold, &details_form(&values, &visit)).await {
        Ok((_, summary)) => web.review_page(&visit, &hold, &values, &summary),
        Err(AppError::Invalid(errors)) => web.details_page(&visit, &hold, &values, Some(&errors)),
        Err(error) => web.failure(&visit, &error, None),
    })
}

/// The review's form: book. A repeated submission books once (the hold is the idempotency key),
/// so the hold is looked up only when the form must be shown again.
#[handler]
pub async fn confirm_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hold_id)): Path<(String, String)>,
    Form(values): Form<Fields>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let Some((id, token)) = Uuid::parse_str(&hold_id).ok().and_then(|id| Some((id, hold_cookie::read(request, id)?)))
    else {
        return Ok(web.error(&visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", Some(visit.home())));
    };
    let fingerprint = serde_json::to_string(&values.iter().collect::<BTreeMap<_, _>>()).unwrap_or_default();
    let idempotency = Some((format!("web-{id}"), format!("{:x}", Sha256::digest(fingerprint.as_bytes()))));
    let form = details_form(&values, &visit);
    let confirm =
        ConfirmRequest { hold_id: id, hold_token: token.clone(), form, idempotency, client: web.client(request) };
    Ok(match web.app.confirm(&tenant, confirm).await {
        Ok(confirmed) => {
            let view = web.booking_view(&visit, &confirmed.booking);
            web.show(&visit, "confirmed", &super::views::BookingView { just_booked: true, ..view })
        }
        Err(AppError::Invalid(errors)) => {
            let hold = web.held(&visit, request, &hold_id).await?;
            web.details_page(&visit, &hold, &values, Some(&errors))
        }
        Err(AppError::SlotTaken | AppError::HoldUnknown) => {
            // Say so, and offer the next free time of the same service, office and mode.
            let hold = web.app.owned_hold(&visit.tenant, id, &token).await.ok();
            let next = match &hold {
                Some(h) => web.next_free(&visit, h).await,
                None => None,
            };
            let back = hold
                .as_ref()
                .map(|h| format!("/t/{tenant}/s/{}/o/{}/m/{}", h.service, h.office, h.mode.code()))
                .or(Some(visit.home()));
            let view = ErrorView {
                title_key: "hold-expired-title",
                body_key: "hold-expired-body",
                back,
                next,
                ..ErrorView::default()
            };
            web.page(&web.frame(&visit), "error", StatusCode::CONFLICT, &view)
        }
        // Sent again, with the same details or edited ones: say which booking the hold became.
        Err(AppError::IdempotencyMismatch) => match web.app.owned_hold(&visit.tenant, id, &token).await {
            Err(used @ AppError::HoldUsed(_)) => web.failure(&visit, &used, None),
            _ => web.failure(&visit, &AppError::HoldUsed(None), None),
        },
        Err(error) => web.failure(&visit, &error, None),
    })
}
