//! Tenant rules: the `validate` hook of a service's plugin, run before a booking is confirmed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::rule_metrics::RuleOutcome;
use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::booking::SummaryLine;
use crate::domain::slots::Slot;
use crate::domain::text::single_line;
use crate::domain::{
    BookingDetails, CitizenField, Email, FieldErrors, FiscalCode, Locale, Localized, Mode, Office, Phone, Service,
};
use crate::plugin_host::{Hook, PluginError, PluginLimits};

/// What the `validate` hook answers (docs/plugins.md).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Verdict {
    ok: bool,
    /// `lookup` only: the value, normalised.
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    errors: Vec<RuleError>,
    #[serde(default)]
    summary: Vec<RuleSummary>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleError {
    field: String,
    message: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSummary {
    label: BTreeMap<String, String>,
    value: String,
}

fn localized(texts: &BTreeMap<String, String>) -> Option<Localized> {
    Localized::new(texts.iter().filter_map(|(code, text)| Some((Locale::parse(code)?, text.clone()))).collect())
}

/// The hook's input: the booking, and of the citizen only what the plugin declared it needs.
pub(super) fn validate_input(
    service: &Service,
    office: &Office,
    mode: Mode,
    slot: &Slot,
    details: &BookingDetails,
    citizen_fields: &[CitizenField],
    config_json: &str,
) -> Value {
    let citizen = &details.citizen;
    let mut shared = serde_json::Map::new();
    for field in citizen_fields {
        let value = match field {
            CitizenField::FirstName => Some(citizen.first_name().to_owned()),
            CitizenField::LastName => Some(citizen.last_name().to_owned()),
            CitizenField::Email => citizen.email().map(ToString::to_string),
            CitizenField::Phone => citizen.phone().map(ToString::to_string),
            CitizenField::FiscalCode => citizen.fiscal_code().map(ToString::to_string),
        };
        shared.insert(field.code().to_owned(), value.map_or(Value::Null, Value::String));
    }
    json!({
        "service": service.slug.as_str(),
        "office": office.slug.as_str(),
        "mode": mode.code(),
        "slot": {"start": slot.start.to_rfc3339(), "end": slot.end.to_rfc3339(), "timezone": office.timezone.name()},
        "answers": details.answers,
        "citizen": shared,
        "locale": details.locale.code(),
        "config": serde_json::from_str::<Value>(config_json).unwrap_or(Value::Null),
    })
}

/// One field to check with a service's `lookup` rule, as a caller sends it.
#[derive(Clone, Copy)]
pub struct LookupQuery<'a> {
    pub service: &'a str,
    pub field: &'a str,
    pub value: &'a str,
    pub locale: Option<&'a str>,
    /// Citizen fields the rule may compare the value with (e.g. the fiscal code a notice must be
    /// addressed to), by code; only those the rule declared it sees.
    pub citizen: &'a BTreeMap<String, String>,
}

/// The citizen fields of a lookup, each parsed as the details form parses it; a field the
/// service's rule does not see is refused rather than silently dropped.
fn lookup_citizen(
    tenant: &TenantSnapshot,
    service: &Service,
    given: &BTreeMap<String, String>,
) -> Result<serde_json::Map<String, Value>, AppError> {
    let declared = tenant.config.rule_sees(service);
    let mut errors = FieldErrors::default();
    let mut shared = serde_json::Map::new();
    for (code, raw) in given {
        let path = format!("citizen.{code}");
        let Some(field) = declared.iter().find(|f| f.code() == code) else {
            errors.push(path, "not_used", "This service's rule does not use this field.");
            continue;
        };
        let (parsed, code_of_error, message) = match field {
            CitizenField::FirstName | CitizenField::LastName => {
                (single_line(raw, 100), "invalid_name", "Enter a name of up to 100 characters.")
            }
            CitizenField::Email => {
                (Email::parse(raw).map(|e| e.to_string()), "invalid_email", "Enter an e-mail address.")
            }
            CitizenField::Phone => (Phone::parse(raw).map(|p| p.to_string()), "invalid_phone", "Enter a phone number."),
            CitizenField::FiscalCode => (
                FiscalCode::parse(raw).map(|f| f.to_string()),
                "invalid_fiscal_code",
                "Enter a valid 16-character fiscal code.",
            ),
        };
        match parsed {
            Some(value) => {
                shared.insert(code.clone(), Value::String(value));
            }
            None => errors.push(path, code_of_error, message),
        }
    }
    errors.into_result(|| Some(shared)).map_err(AppError::Invalid)
}

/// What the `lookup` hook found for one field.
pub struct LookupResult {
    /// The value, normalised by the rule (e.g. a notice number without spaces).
    pub value: Option<String>,
    pub summary: Vec<SummaryLine>,
    /// The language the answer is for: the one asked, or the tenant's default.
    pub locale: Locale,
}

fn field_errors(verdict: &Verdict, locale: Locale) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for error in &verdict.errors {
        let message =
            localized(&error.message).map_or_else(|| "Not accepted.".to_owned(), |m| m.get(locale).to_owned());
        errors.push(error.field.clone(), "rule", message);
    }
    if errors.is_empty() {
        errors.push("answers", "rule", "Not accepted by this service's rule.");
    }
    errors
}

fn summary(verdict: &Verdict) -> Vec<SummaryLine> {
    verdict
        .summary
        .iter()
        .filter_map(|s| Some(SummaryLine { label: localized(&s.label)?, value: s.value.clone() }))
        .collect()
}

impl Sportello {
    /// Runs `hook` of the service's plugin on `input`. `Ok(None)` when the service has no plugin
    /// or the plugin does not implement the hook; a broken rule becomes `RuleUnavailable`.
    async fn run_rule(
        &self,
        tenant: &Arc<TenantSnapshot>,
        service: &Service,
        hook: Hook,
        input: Value,
    ) -> Result<Option<Verdict>, AppError> {
        let Some(binding) = &service.plugin else { return Ok(None) };
        let count = |outcome| self.rule_metrics.count(tenant.config.slug.as_str(), binding.id.as_str(), hook, outcome);
        let spec = tenant.config.plugins.iter().find(|p| p.id == binding.id);
        let (Some(spec), Some(plugin)) = (spec, tenant.plugins.get(binding.id.as_str())) else {
            tracing::error!(tenant = %tenant.config.slug, plugin = %binding.id, "service rule is not loaded");
            count(RuleOutcome::NotLoaded);
            return Err(AppError::RuleUnavailable);
        };
        if !plugin.implements(hook) {
            return Ok(None);
        }
        let limits =
            PluginLimits { fuel: spec.fuel.unwrap_or(PluginLimits::default().fuel), ..PluginLimits::default() };
        let (host, plugin, datasets) = (self.plugins.clone(), plugin.clone(), tenant.datasets.clone());
        let input = input.to_string();
        let Some(lane) = self.rule_lanes.enter(tenant.id).await else {
            tracing::warn!(tenant = %tenant.config.slug, plugin = %binding.id, "service rule busy");
            count(RuleOutcome::Busy);
            return Err(AppError::RuleUnavailable);
        };
        // Plugin calls are bounded CPU work: keep them off the threads that serve requests, one at a
        // time per tenant (the lane is held until the call ends).
        let output = tokio::task::spawn_blocking(move || {
            let _lane = lane;
            host.call(&plugin, hook, input.as_bytes(), &limits, &datasets)
        })
        .await
        .map_err(|e| PluginError::Host(e.to_string()))
        .and_then(|result| result)
        .and_then(|bytes| serde_json::from_slice::<Verdict>(&bytes).map_err(|e| PluginError::BadOutput(e.to_string())));
        match output {
            Ok(verdict) => {
                count(if verdict.ok { RuleOutcome::Accepted } else { RuleOutcome::Refused });
                Ok(Some(verdict))
            }
            Err(error) => {
                tracing::error!(tenant = %tenant.config.slug, plugin = %binding.id, %error, "service rule failed");
                count(RuleOutcome::of(&error));
                Err(AppError::RuleUnavailable)
            }
        }
    }

    /// Runs the service's `validate` rule, if it has one: field errors become `Invalid`;
    /// otherwise the summary the rule reported.
    pub(super) async fn check_rules(
        &self,
        tenant: &Arc<TenantSnapshot>,
        service: &Service,
        office: &Office,
        mode: Mode,
        slot: &Slot,
        details: &BookingDetails,
    ) -> Result<Vec<SummaryLine>, AppError> {
        let Some(binding) = &service.plugin else { return Ok(Vec::new()) };
        let fields = tenant.config.rule_sees(service);
        let input = validate_input(service, office, mode, slot, details, fields, &binding.config_json);
        match self.run_rule(tenant, service, Hook::Validate, input).await? {
            None => Ok(Vec::new()),
            Some(verdict) if verdict.ok => Ok(summary(&verdict)),
            Some(verdict) => Err(AppError::Invalid(field_errors(&verdict, details.locale))),
        }
    }

    /// Checks one field as the citizen types it, with the service's `lookup` rule; `client`'s
    /// lookups are rate-limited like its holds.
    pub async fn lookup(
        &self,
        tenant_slug: &str,
        query: &LookupQuery<'_>,
        client: Option<&str>,
    ) -> Result<LookupResult, AppError> {
        let LookupQuery { service: service_slug, field, value, locale, citizen } = *query;
        let tenant = self.tenant(tenant_slug).await?;
        let service = tenant.config.service(service_slug).ok_or(AppError::NotFound("service"))?;
        if !tenant.has_lookup(service) {
            return Err(AppError::NotFound("lookup rule"));
        }
        // A value longer than its field allows is refused before any rule spends fuel on it.
        let limit = service
            .input_limit(field)
            .ok_or_else(|| AppError::field("field", "unknown_field", "This service does not ask for this field."))?;
        if value.chars().count() > limit {
            return Err(AppError::field("value", "too_long", format!("Use at most {limit} characters.")));
        }
        if value.chars().any(char::is_control) {
            return Err(AppError::field("value", "control_character", "Remove the invisible control characters."));
        }
        let shared = lookup_citizen(&tenant, service, citizen)?;
        if let Some(client) = client {
            let per_minute = tenant.config.limits.lookups_per_minute;
            self.throttle(&tenant, "lookups", client, per_minute, self.clock.now()).await?;
        }
        let locale = locale.and_then(Locale::parse).unwrap_or_else(|| tenant.config.default_locale());
        let config = service
            .plugin
            .as_ref()
            .map_or(Value::Null, |b| serde_json::from_str(&b.config_json).unwrap_or(Value::Null));
        let input =
            json!({"field": field, "value": value, "citizen": shared, "locale": locale.code(), "config": config});
        match self.run_rule(&tenant, service, Hook::Lookup, input).await? {
            None => Err(AppError::NotFound("lookup rule")),
            Some(verdict) if verdict.ok => {
                Ok(LookupResult { value: verdict.value.clone(), summary: summary(&verdict), locale })
            }
            Some(verdict) => Err(AppError::Invalid(field_errors(&verdict, locale))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::packs::parse_config;

    #[test]
    fn a_plugin_sees_only_the_citizen_fields_it_declared() {
        let config = parse_config(include_str!("../../../tenants/comune-esempio/tenant.toml")).unwrap();
        let (service, office) = (&config.services[0], &config.offices[0]);
        let start: DateTime<Utc> = "2026-12-02T08:30:00Z".parse().unwrap();
        let slot = Slot { local_date: start.date_naive(), start, end: start, desks: 1 };
        let form = crate::domain::DetailsForm {
            first_name: "Mario".into(),
            last_name: "Rossi".into(),
            email: "mario@example.it".into(),
            phone: "333 1234567".into(),
            fiscal_code: Some("RSSMRA85T10A562S".into()),
            privacy_accepted: true,
            ..Default::default()
        };
        let details = form.parse(service, Mode::InPerson, Locale::It).unwrap();
        let input = validate_input(
            service,
            office,
            Mode::InPerson,
            &slot,
            &details,
            &[CitizenField::FiscalCode],
            r#"{"check_holder":true}"#,
        );
        assert_eq!(input["citizen"], json!({"fiscal_code": "RSSMRA85T10A562S"}));
        assert!(!input.to_string().contains("Mario") && !input.to_string().contains("mario@example.it"));
        assert_eq!(input["config"]["check_holder"], true);
        assert_eq!(input["answers"], json!(BTreeMap::<String, String>::new()));
        assert_eq!(input["slot"]["timezone"], "Europe/Rome");
    }
}
