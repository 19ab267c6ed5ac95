//! The JSON the hooks read and write (docs/plugins.md, "Hooks").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A text in each language the plugin speaks: language code (`it`, `en`) → text.
pub type Text = BTreeMap<String, String>;

fn text(it: &str, en: &str) -> Text {
    [("it".to_owned(), it.to_owned()), ("en".to_owned(), en.to_owned())].into_iter().collect()
}

/// The appointment being booked, in UTC, and the office's time zone.
#[derive(Clone, Debug, Deserialize)]
pub struct Slot {
    pub start: String,
    pub end: String,
    pub timezone: String,
}

/// Input of the `validate` hook: the booking about to be confirmed.
#[derive(Clone, Debug, Deserialize)]
pub struct ValidateInput {
    pub service: String,
    pub office: String,
    pub mode: String,
    pub slot: Slot,
    /// The service's extra fields (as the pack names them) → the citizen's answers.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// Only the citizen fields the plugin's pack entry declares (`citizen_fields`).
    #[serde(default)]
    pub citizen: BTreeMap<String, Option<String>>,
    /// The citizen's language.
    pub locale: String,
    /// The service's `plugin_config` from the pack (`null` when it has none).
    #[serde(default)]
    pub config: Value,
}

impl ValidateInput {
    /// The answer to the service field `key`, if given.
    pub fn answer(&self, key: &str) -> Option<&str> {
        self.answers.get(key).map(String::as_str)
    }

    /// The citizen field `name` (e.g. `fiscal_code`), if declared and given.
    pub fn citizen(&self, name: &str) -> Option<&str> {
        self.citizen.get(name).and_then(|v| v.as_deref())
    }
}

/// Input of the `lookup` hook: one field as the citizen types it.
#[derive(Clone, Debug, Deserialize)]
pub struct LookupInput {
    pub field: String,
    pub value: String,
    pub locale: String,
    /// Of the citizen fields the plugin's pack entry declares, those the caller gave with the
    /// value (e.g. the fiscal code a notice must be addressed to).
    #[serde(default)]
    pub citizen: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub config: Value,
}

impl LookupInput {
    /// The citizen field `name`, if declared and given.
    pub fn citizen(&self, name: &str) -> Option<&str> {
        self.citizen.get(name).and_then(|v| v.as_deref())
    }
}

/// An error about one field, e.g. `answers.notice_number` or `citizen.fiscal_code`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: Text,
}

/// A line shown to the citizen on the review page and stored with the booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SummaryLine {
    pub label: Text,
    pub value: String,
}

/// What a hook answers: accepted (with a summary, and for `lookup` the normalised value) or
/// rejected with per-field errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub summary: Vec<SummaryLine>,
}

impl Verdict {
    pub fn accept() -> Self {
        Self { ok: true, value: None, errors: Vec::new(), summary: Vec::new() }
    }

    /// Rejects with one error on `field`, in Italian and English.
    pub fn reject(field: &str, it: &str, en: &str) -> Self {
        Self { ok: false, ..Self::accept() }.and_error(field, it, en)
    }

    /// Adds an error (and so rejects).
    pub fn and_error(mut self, field: &str, it: &str, en: &str) -> Self {
        self.ok = false;
        self.errors.push(FieldError { field: field.to_owned(), message: text(it, en) });
        self
    }

    /// Adds a summary line labelled in Italian and English.
    pub fn with_line(mut self, label_it: &str, label_en: &str, value: impl Into<String>) -> Self {
        self.summary.push(SummaryLine { label: text(label_it, label_en), value: value.into() });
        self
    }

    /// Sets the normalised value (`lookup`).
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_serialise_as_the_host_reads_them() {
        let accepted = Verdict::accept().with_value("123").with_line("Importo", "Amount", "€ 1,00");
        assert_eq!(
            serde_json::to_value(&accepted).unwrap(),
            serde_json::json!({"ok": true, "value": "123",
                "summary": [{"label": {"it": "Importo", "en": "Amount"}, "value": "€ 1,00"}]})
        );
        let rejected = Verdict::reject("answers.n", "No", "No!");
        assert_eq!(
            serde_json::to_value(&rejected).unwrap(),
            serde_json::json!({"ok": false, "errors": [{"field": "answers.n", "message": {"it": "No", "en": "No!"}}]})
        );
    }

    #[test]
    fn inputs_parse_from_what_the_host_sends() {
        let input: ValidateInput = serde_json::from_str(
            r#"{"service":"s","office":"o","mode":"in_person",
                "slot":{"start":"2026-12-02T07:30:00+00:00","end":"2026-12-02T08:00:00+00:00","timezone":"Europe/Rome"},
                "answers":{"notice_number":"302000000001234559"},"citizen":{"fiscal_code":null},
                "locale":"it","config":{"check_holder":true}}"#,
        )
        .unwrap();
        assert_eq!(input.answer("notice_number"), Some("302000000001234559"));
        assert_eq!(input.citizen("fiscal_code"), None);
        assert_eq!(input.config["check_holder"], true);
    }
}
