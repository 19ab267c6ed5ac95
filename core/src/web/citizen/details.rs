//! Step 4: the details form, the review, and the confirmation. The hold is named in the URL;
//! only the browser that placed it shows its secret (a cookie).

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, Response, handler};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::check::{CHECKED, CHECKED_SUMMARY};
use super::views::{
    CitizenField, DetailsView, EmailHint, ErrorLink, ErrorView, ExtraField, ReasonChoice, ReviewView, ShownValue, Tick,
};
use super::{Fields, Page, Visit, WebData, mode_key, see_other, step, stop, summary_lines, time};
use crate::app::{AppError, ConfirmRequest};
use crate::domain::booking::SummaryLine;
use crate::domain::{Channel, DetailsForm, Email, FieldErrors, Mode};
use crate::holds::{Hold, HoldToken};
use crate::store::DraftFields;
use crate::web::{Web, hold_cookie};

impl Web {
    /// The hold of a details page, if this browser placed it, or the page that says it is gone.
    pub(super) async fn held(&self, visit: &Visit, request: &Request, id: &str) -> Page<Hold> {
        let gone =
            || stop(self.error(visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", Some(visit.home())));
        let id = Uuid::parse_str(id).map_err(|_| gone())?;
        let token = hold_cookie::read(request, id).ok_or_else(gone)?;
        match self.app.owned_hold(&visit.tenant, id, &token).await {
            Ok(hold) => Ok(hold),
            Err(AppError::NotFound(_) | AppError::HoldUnknown) => Err(gone()),
            // Back, or reload, after booking: the receipt.
            Err(AppError::HoldUsed(_)) => Err(stop(see_other(&receipt_url(visit, id)))),
            Err(error) => Err(stop(self.failure(visit, &error, Some(visit.home())))),
        }
    }

    /// Step 4: the details form, filled with `values` and annotated with `errors`.
    fn details_page(&self, visit: &Visit, hold: &Hold, values: &Fields, errors: Option<&FieldErrors>) -> Response {
        let config = &visit.tenant.config;
        let Some(service) = config.service(hold.service.as_str()) else {
            return self.error(visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", None);
        };
        let tz = config.timezone_of(hold.office.as_str());
        let value = |key: &str| values.get(key).cloned().unwrap_or_default();
        // The text of a field's error: a tenant rule words its own (already in the page's
        // language); every other error has a message of ours.
        let error_for = |field: &str| -> Option<String> {
            errors.and_then(|e| e.0.iter().find(|f| f.field == field)).map(|f| {
                let key = match (f.code, field) {
                    ("rule", _) => return f.message.clone(),
                    // An empty address or number: say that it is needed, with an example.
                    ("required", "citizen.email") => "error-required-email".to_owned(),
                    ("required", "citizen.phone") => "error-required-phone".to_owned(),
                    (code, _) => format!("error-{}", code.replace('_', "-")),
                };
                self.render.text(visit.locale, &key, &[])
            })
        };
        // A WhatsApp call goes to the phone number unless the citizen gives another (ticked at
        // first); the call's number must then be a mobile, and its error shows on the phone.
        // (A form never sent has no phone, even with answers checked before the calendar.)
        let whatsapp_same =
            (hold.mode == Mode::WhatsApp).then(|| !values.contains_key("phone") || ticked(values, WHATSAPP_SAME));
        let contact_error = || error_for("contact");
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
                tick: None,
                hint: None,
                unless_ticked: None,
            };
        // The hint comes once the form has no errors: one thing to look at at a time.
        let email_hint = if errors.is_none() { self.email_hint(values) } else { None };
        let phone = field("phone", "citizen.phone", "field-phone", "tel", "tel");
        let mut fields = vec![
            field("first_name", "citizen.first_name", "field-first-name", "text", "given-name"),
            field("last_name", "citizen.last_name", "field-last-name", "text", "family-name"),
            CitizenField { hint: email_hint, ..field("email", "citizen.email", "field-email", "email", "email") },
            CitizenField {
                error_text: phone
                    .error_text
                    .clone()
                    .or_else(|| whatsapp_same.filter(|same| *same).and(contact_error())),
                tick: whatsapp_same.map(|checked| Tick {
                    name: WHATSAPP_SAME,
                    id: "f-whatsapp_same".to_owned(),
                    label_key: "whatsapp-same",
                    checked,
                }),
                ..phone
            },
        ];
        if service.fiscal_code_required {
            let fiscal_code = field("fiscal_code", "citizen.fiscal_code", "field-fiscal-code", "text", "off");
            fields.push(CitizenField { lookup_field: lookup.then_some("fiscal_code"), ..fiscal_code });
        }
        let contact_key = match hold.mode {
            Mode::InPerson | Mode::Jitsi => None,
            Mode::WhatsApp => Some(("field-contact-whatsapp-other", "tel")),
            Mode::Skype => Some(("field-contact-skype", "text")),
            Mode::Teams => Some(("field-contact-teams", "email")),
        };
        if let Some((label, kind)) = contact_key {
            let contact = field("contact", "contact", label, kind, "off");
            fields.push(match whatsapp_same {
                Some(same) => CitizenField {
                    required: !same,
                    error_text: if same { None } else { contact.error_text.clone() },
                    unless_ticked: Some("f-whatsapp_same"),
                    ..contact
                },
                None => contact,
            });
        }
        let extra: Vec<ExtraField> = service
            .fields
            .iter()
            .map(|f| {
                let name = format!("answers.{}", f.key);
                ExtraField {
                    value: value(&name),
                    error_text: error_for(&name),
                    lookup_field: lookup.then(|| f.key.clone()),
                    ..ExtraField::of(f, visit.locale)
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
            step: step(4, Some(service)),
            service_name: service.name.get(visit.locale).to_owned(),
            when: format!(
                "{} {}",
                self.date(visit.locale, hold.start.with_timezone(&tz).date_naive()),
                time(hold.start, tz)
            ),
            held_until: time(hold.expires_at, tz),
            expired: !hold.is_live(self.app.now()),
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
            lookup_citizen: lookup_citizen(config, service),
            back: super::calendar::day_url(config.slug.as_str(), hold, tz),
            release_action: format!("/t/{}/release/{}", config.slug, hold.id),
        };
        let status = if errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        self.page(&self.frame(visit), "details", status, &view)
    }

    fn review_page(&self, visit: &Visit, hold: &Hold, values: &Fields, summary: &[SummaryLine]) -> Response {
        let config = &visit.tenant.config;
        let tz = config.timezone_of(hold.office.as_str());
        let office = config.office(hold.office.as_str());
        let service = config.service(hold.service.as_str());
        let order = ["first_name", "last_name", "email", "phone", "fiscal_code", "contact", "reason", "details"];
        let mut shown: Vec<(usize, ShownValue)> = values
            .iter()
            .filter(|(k, v)| !v.trim().is_empty() && !NOT_REVIEWED.contains(&k.as_str()))
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
            step: step(5, service),
            service_name: service.map(|s| s.name.get(visit.locale).to_owned()),
            office_name: office.map(|o| o.name.clone()),
            address: office.map(|o| o.address.clone()),
            in_person: hold.mode == Mode::InPerson,
            mode_key: mode_key(hold.mode),
            when: format!("{day} {}–{}", time(hold.start, tz), time(hold.end, tz)),
            held_until: time(hold.expires_at, tz),
            expired: !hold.is_live(self.app.now()),
            shown: shown.into_iter().map(|(_, v)| v).collect(),
            rule_summary: summary_lines(visit.locale, summary),
            confirm_action: format!("/t/{}/confirm/{}", config.slug, hold.id),
            edit_url: format!("/t/{}/details/{}", config.slug, hold.id),
            release_action: format!("/t/{}/release/{}", config.slug, hold.id),
        };
        self.show(visit, "review", &view)
    }
}

fn details_form(values: &Fields, visit: &Visit) -> DetailsForm {
    // A booking speaks the language of the pages it was made on.
    crate::web::details_form(values.iter(), Some(visit.locale.code().to_owned()))
}

/// The fields of the details form that the service's rule sees, as names of its inputs.
fn lookup_citizen(config: &crate::domain::TenantConfig, service: &crate::domain::Service) -> String {
    let asked = |f: &&crate::domain::CitizenField| {
        **f != crate::domain::CitizenField::FiscalCode || service.fiscal_code_required
    };
    config.rule_sees(service).iter().filter(asked).map(|f| f.code()).collect::<Vec<_>>().join(" ")
}

/// The details form's own fields (besides the service's `answers.*`), the ones a draft keeps.
const DRAFT_FIELDS: [&str; 10] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "fiscal_code",
    "contact",
    "reason",
    "details",
    "privacy_accepted",
    WHATSAPP_SAME,
];

/// Draft entries that are not answers to show on the review.
const NOT_REVIEWED: [&str; 4] = ["privacy_accepted", WHATSAPP_SAME, CHECKED, CHECKED_SUMMARY];

/// The tick that sends a WhatsApp call to the phone number given.
const WHATSAPP_SAME: &str = "whatsapp_same";
/// The address the citizen kept after the "did you mean" hint, so it is not asked again.
const EMAIL_CHECKED: &str = "email_checked";
/// The hint's button: the address it suggests.
const EMAIL_FIX: &str = "email_fix";

fn ticked(values: &Fields, name: &str) -> bool {
    values.get(name).is_some_and(|v| !v.is_empty())
}

/// The form as the citizen meant it: the suggested address when they took it, and the phone
/// number as the WhatsApp contact when they ticked that.
fn as_typed(mut values: Fields, mode: Mode) -> Fields {
    if let Some(fixed) = values.remove(EMAIL_FIX) {
        values.insert("email".to_owned(), fixed);
    }
    if mode == Mode::WhatsApp && ticked(&values, WHATSAPP_SAME) {
        let phone = values.get("phone").cloned().unwrap_or_default();
        values.insert("contact".to_owned(), phone);
    }
    values
}

impl Web {
    /// "Did you mean …?" for an address whose provider looks mistyped, unless the citizen already
    /// kept it as typed.
    fn email_hint(&self, values: &Fields) -> Option<EmailHint> {
        let typed = values.get("email")?.trim();
        let meant = Email::parse(typed)?.likely_meant()?;
        (values.get(EMAIL_CHECKED).map(|v| v.trim()) != Some(typed))
            .then(|| EmailHint { suggestion: meant.to_string(), typed: typed.to_owned() })
    }
}

/// An address shown without most of it (`g…@example.it`): enough to recognise, little to leak.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}…@{domain}", local.chars().next().unwrap_or('…')),
        None => "…".to_owned(),
    }
}

fn receipt_url(visit: &Visit, hold: Uuid) -> String {
    format!("/t/{}/booked/{hold}", visit.slug())
}

/// The secret of hold `id` this browser keeps.
fn secret(request: &Request, id: &str) -> Option<(Uuid, HoldToken)> {
    let id = Uuid::parse_str(id).ok()?;
    Some((id, hold_cookie::read(request, id)?))
}

impl Web {
    /// What this browser typed for the booking in progress, or the page that says why it cannot
    /// be read.
    async fn typed(&self, visit: &Visit, token: &HoldToken) -> Page<Option<Fields>> {
        match self.app.draft(&visit.tenant, token).await {
            Ok(draft) => Ok(draft.map(|d| d.into_iter().collect())),
            Err(error) => Err(stop(self.failure(visit, &error, None))),
        }
    }
}

/// Step 4: the details form, with what was typed before (after "Modifica", or after choosing
/// another time).
#[handler]
pub async fn details_step(web: WebData<'_>, request: &Request, Path((tenant, hold)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let held = web.held(&visit, request, &hold).await?;
    let typed = match secret(request, &hold) {
        Some((_, token)) => web.typed(&visit, &token).await?,
        None => None,
    };
    Ok(web.details_page(&visit, &held, &typed.unwrap_or_default(), None))
}

/// Step 4's form: check the details, keep them, and show them for review on a page of its own (or
/// the form again, annotated).
#[handler]
pub async fn review_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hold)): Path<(String, String)>,
    Form(values): Form<Fields>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let held = web.held(&visit, request, &hold).await?;
    let Some((id, token)) = secret(request, &hold) else { return Ok(see_other(&visit.home())) };
    let values = as_typed(values, held.mode);
    Ok(match web.app.check_details(&visit.tenant, &held, &details_form(&values, &visit)).await {
        // A likely mistyped address is asked about once before the review.
        Ok(_) if web.email_hint(&values).is_some() => web.details_page(&visit, &held, &values, None),
        Ok(_) => {
            // Only the form's own fields are kept: anything else a tampered form sends is dropped.
            let service = visit.tenant.config.service(held.service.as_str());
            let asked = |name: &str| {
                DRAFT_FIELDS.contains(&name)
                    || name
                        .strip_prefix("answers.")
                        .is_some_and(|key| service.is_some_and(|s| s.fields.iter().any(|f| f.key == key)))
            };
            let mut draft: DraftFields = values.into_iter().filter(|(name, _)| asked(name)).collect();
            // What the check step accepted stays accepted (the rule checks again at booking).
            if let Some(before) = web.typed(&visit, &token).await? {
                draft
                    .extend(before.into_iter().filter(|(name, _)| [CHECKED, CHECKED_SUMMARY].contains(&name.as_str())));
            }
            match web.app.keep_draft(&visit.tenant, &held, &token, &draft).await {
                Ok(()) => see_other(&format!("/t/{tenant}/review/{id}")),
                Err(error) => web.failure(&visit, &error, None),
            }
        }
        Err(AppError::Invalid(errors)) => web.details_page(&visit, &held, &values, Some(&errors)),
        Err(error) => web.failure(&visit, &error, None),
    })
}

/// The review: what was typed, checked again, and the button that books.
#[handler]
pub async fn review_page(web: WebData<'_>, request: &Request, Path((tenant, hold)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let held = web.held(&visit, request, &hold).await?;
    let Some((_, token)) = secret(request, &hold) else { return Ok(see_other(&visit.home())) };
    let Some(values) = web.typed(&visit, &token).await? else {
        return Ok(see_other(&format!("/t/{tenant}/details/{hold}")));
    };
    Ok(match web.app.check_details(&visit.tenant, &held, &details_form(&values, &visit)).await {
        Ok((_, summary)) => web.review_page(&visit, &held, &values, &summary),
        Err(AppError::Invalid(errors)) => web.details_page(&visit, &held, &values, Some(&errors)),
        Err(error) => web.failure(&visit, &error, None),
    })
}

/// The review's button: book what was typed, then show the receipt at its own URL. A repeated
/// submission books once (the hold is the idempotency key).
#[handler]
pub async fn confirm_step(web: WebData<'_>, request: &Request, Path((tenant, hold)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let Some((id, token)) = secret(request, &hold) else {
        return Ok(web.error(&visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", Some(visit.home())));
    };
    // Nothing typed: either it was booked a moment ago (a second click), or never filled in.
    let Some(values) = web.typed(&visit, &token).await? else {
        return Ok(see_other(&format!("/t/{tenant}/details/{hold}")));
    };
    let fingerprint = serde_json::to_string(&values.iter().collect::<BTreeMap<_, _>>()).unwrap_or_default();
    let idempotency = Some((format!("web-{id}"), format!("{:x}", Sha256::digest(fingerprint.as_bytes()))));
    let form = details_form(&values, &visit);
    let client = web.client(request);
    let confirm =
        ConfirmRequest { hold_id: id, hold_token: token.clone(), form, idempotency, client, channel: Channel::Web };
    Ok(match web.app.confirm(&tenant, confirm).await {
        Ok(_) | Err(AppError::IdempotencyMismatch | AppError::HoldUsed(_)) => {
            if let Err(error) = web.app.forget_draft(&visit.tenant, &token).await {
                tracing::warn!(%error, "could not forget a booked draft; it expires on its own");
            }
            see_other(&receipt_url(&visit, id))
        }
        Err(AppError::Invalid(errors)) => {
            let held = web.held(&visit, request, &hold).await?;
            web.details_page(&visit, &held, &values, Some(&errors))
        }
        Err(AppError::SlotTaken | AppError::HoldUnknown) => {
            // Say so, and offer the next free time of the same service, office and mode.
            let held = web.app.owned_hold(&visit.tenant, id, &token).await.ok();
            let next = match &held {
                Some(h) => web.next_free(&visit, h).await,
                None => None,
            };
            let back = held
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
        Err(error) => web.failure(&visit, &error, None),
    })
}

/// The receipt of the booking this browser just made: a URL of its own without personal data, so
/// that Back and reload show it again instead of sending a form twice.
#[handler]
pub async fn receipt_page(web: WebData<'_>, request: &Request, Path((tenant, hold)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let gone = || web.error(&visit, StatusCode::GONE, "hold-gone-title", "hold-gone-body", Some(visit.home()));
    let Some((id, token)) = secret(request, &hold) else { return Ok(gone()) };
    Ok(match web.app.booking_of_hold(&visit.tenant, id, &token).await {
        Ok(Some(booking)) => {
            let view = super::views::BookingView {
                just_booked: true,
                mailed_to: booking.details.citizen.email().filter(|_| web.app.sends_mail()).map(|e| masked(e.as_str())),
                // The counter finds the booking by its code; a QR code saves typing it.
                qr_svg: crate::app::qr_svg(&booking.code.to_string(), 160).ok(),
                ..web.booking_view(&visit, &booking)
            };
            web.show(&visit, "confirmed", &view)
        }
        // Not booked yet: the review is where that happens.
        Ok(None) => see_other(&format!("/t/{tenant}/review/{id}")),
        Err(error) => web.failure(&visit, &error, None),
    })
}
