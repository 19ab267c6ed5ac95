//! The rule's hooks as Sportello calls them for the town's identity-card service.

use fiscal_code::{lookup, validate};
use serde_json::{json, Value};
use sportello_plugin_sdk::{LookupInput, MemoryDatasets, ValidateInput, Verdict};

fn input(fiscal_code: Option<&str>, start: &str, config: Value, locale: &str) -> ValidateInput {
    serde_json::from_value(json!({
        "service": "carta-identita", "office": "anagrafe", "mode": "in_person",
        "slot": {"start": start, "end": start, "timezone": "Europe/Rome"},
        "answers": {}, "citizen": {"fiscal_code": fiscal_code}, "locale": locale, "config": config,
    }))
    .unwrap()
}

fn lines(verdict: &Verdict, locale: &str) -> Vec<(String, String)> {
    verdict.summary.iter().map(|l| (l.label[locale].clone(), l.value.clone())).collect()
}

fn pairs(lines: &[(&str, &str)]) -> Vec<(String, String)> {
    lines.iter().map(|(l, v)| (l.to_string(), v.to_string())).collect()
}

const DAY: &str = "2026-12-02T07:30:00+00:00";

#[test]
fn a_valid_code_is_accepted_with_its_date_of_birth() {
    let verdict = validate(&input(Some("rssmra 85t10 a562s"), DAY, json!({}), "it"), &MemoryDatasets::new());
    assert!(verdict.ok);
    assert_eq!(
        lines(&verdict, "it"),
        pairs(&[("Codice fiscale", "RSSMRA85T10A562S"), ("Data di nascita", "10/12/1985")])
    );
    let verdict = validate(&input(Some("RSSMRAURTMLARNME"), DAY, json!({}), "en"), &MemoryDatasets::new());
    assert_eq!(lines(&verdict, "en"), pairs(&[("Fiscal code", "RSSMRAURTMLARNME"), ("Date of birth", "10/12/1985")]));
}

#[test]
fn minors_get_a_note_when_the_service_asks() {
    let laura = Some("BNCLRA12M52H501J");
    let noted = validate(&input(laura, DAY, json!({"note_minors": true}), "it"), &MemoryDatasets::new());
    assert!(noted.ok);
    assert_eq!(
        lines(&noted, "it").last(),
        Some(&("Nota".to_string(), "Minorenne alla data dell'appuntamento".to_string()))
    );
    let silent = validate(&input(laura, DAY, json!({}), "it"), &MemoryDatasets::new());
    assert_eq!(silent.summary.len(), 2);
    // An adult gets no note; nor does someone turning 18 on the appointment day.
    let adult =
        validate(&input(Some("RSSMRA85T10A562S"), DAY, json!({"note_minors": true}), "it"), &MemoryDatasets::new());
    assert_eq!(adult.summary.len(), 2);
    let eighteen = validate(
        &input(Some("BNCLRA08M52H501Q"), "2026-08-12T07:30:00+00:00", json!({"note_minors": true}), "it"),
        &MemoryDatasets::new(),
    );
    assert_eq!(eighteen.summary.len(), 2, "{eighteen:?}");
}

#[test]
fn wrong_codes_are_refused_on_the_citizen_field() {
    for (code, english) in [
        ("RSSMRA85T10A562T", "check letter"),
        ("RSSMRA85T10A562", "you wrote 15"),
        ("RSSMRA85T32A562S", "date of birth"),
        ("RSSMRA8AT10A562S", "letters and digits"),
    ] {
        let verdict = validate(&input(Some(code), DAY, json!({}), "en"), &MemoryDatasets::new());
        assert!(!verdict.ok, "{code}");
        assert_eq!(verdict.errors.len(), 1);
        assert_eq!(verdict.errors[0].field, "citizen.fiscal_code");
        assert!(verdict.errors[0].message["en"].contains(english), "{code}: {verdict:?}");
    }
    let missing = validate(&input(None, DAY, json!({}), "it"), &MemoryDatasets::new());
    assert_eq!(missing.errors[0].field, "citizen.fiscal_code");
}

#[test]
fn lookup_normalises() {
    let typed: LookupInput =
        serde_json::from_value(json!({"field": "fiscal_code", "value": "rssmra85t10a56nh", "locale": "it"})).unwrap();
    let verdict = lookup(&typed, &MemoryDatasets::new());
    assert_eq!((verdict.ok, verdict.value.as_deref()), (true, Some("RSSMRA85T10A56NH")));
    let wrong: LookupInput =
        serde_json::from_value(json!({"field": "fiscal_code", "value": "RSSMRA85T10A562T", "locale": "it"})).unwrap();
    assert_eq!(lookup(&wrong, &MemoryDatasets::new()).errors[0].field, "value");
}
