//! The rule's hooks against the consortium's demo dataset, as Sportello calls them.

use pagopa_notice::{lookup, validate};
use serde_json::{json, Value};
use sportello_plugin_sdk::{Datasets, LookupInput, MemoryDatasets, Row, ValidateInput, Verdict};

const DEMO_NOTICE: &str = "302000000001234559";
const HOLDER: &str = "RSSMRA85T10A562S";

/// The demo dataset the cbtoscananord pack ships (plain CSV: no quoted commas in it).
fn demo_datasets() -> MemoryDatasets {
    let text = include_str!("../../../tenants/cbtoscananord/datasets/avvisi.csv");
    assert!(!text.contains('"'), "the reader below does not handle quotes");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut datasets = MemoryDatasets::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let row: Row = header.iter().copied().zip(cells.iter().copied()).collect();
        datasets.insert("avvisi", cells[0], row);
    }
    datasets
}

fn validate_input(notice: Option<&str>, fiscal_code: Option<&str>, config: Value, locale: &str) -> ValidateInput {
    let answers = notice.map_or_else(|| json!({}), |n| json!({ "notice_number": n }));
    serde_json::from_value(json!({
        "service": "avvisi-pagamento", "office": "sede-viareggio", "mode": "in_person",
        "slot": {"start": "2026-12-02T07:30:00+00:00", "end": "2026-12-02T08:00:00+00:00", "timezone": "Europe/Rome"},
        "answers": answers, "citizen": {"fiscal_code": fiscal_code}, "locale": locale, "config": config,
    }))
    .unwrap()
}

fn summary(verdict: &Verdict, locale: &str) -> Vec<(String, String)> {
    verdict.summary.iter().map(|line| (line.label[locale].clone(), line.value.clone())).collect()
}

fn error_fields(verdict: &Verdict) -> Vec<&str> {
    verdict.errors.iter().map(|e| e.field.as_str()).collect()
}

fn pairs(lines: &[(&str, &str)]) -> Vec<(String, String)> {
    lines.iter().map(|(l, v)| (l.to_string(), v.to_string())).collect()
}

#[test]
fn the_demo_notice_of_its_holder_is_accepted_with_a_summary() {
    let verdict = validate(
        &validate_input(Some(DEMO_NOTICE), Some(HOLDER), json!({"check_holder": true}), "it"),
        &demo_datasets(),
    );
    assert!(verdict.ok, "{verdict:?}");
    assert_eq!(
        summary(&verdict, "it"),
        pairs(&[
            ("Avviso", "Contributo irriguo 2026"),
            ("Importo", "€ 123,45"),
            ("Scadenza", "31/12/2026"),
            ("Stato", "Da pagare")
        ])
    );
    // In English, with the holder written in lower case with spaces.
    let verdict = validate(
        &validate_input(Some(DEMO_NOTICE), Some("rssmra 85t10 a562s"), json!({"check_holder": true}), "en"),
        &demo_datasets(),
    );
    assert_eq!(
        summary(&verdict, "en"),
        pairs(&[
            ("Notice", "Irrigation fee 2026"),
            ("Amount", "€123.45"),
            ("Due date", "31 December 2026"),
            ("Status", "Unpaid")
        ])
    );
}

#[test]
fn a_paid_notice_is_accepted_and_says_so() {
    let verdict = validate(
        &validate_input(Some("302000000001234660"), Some(HOLDER), json!({"check_holder": true}), "it"),
        &demo_datasets(),
    );
    assert!(verdict.ok);
    assert_eq!(summary(&verdict, "it")[3], ("Stato".to_string(), "Pagato".to_string()));
}

#[test]
fn malformed_numbers_are_refused_on_the_field() {
    let datasets = demo_datasets();
    for (number, english) in [
        ("302000000001234558", "the last two are check digits"),
        ("30200000000123455", "you wrote 17"),
        ("30200000000123455X", "only digits"),
        ("902000000001234559", "starts with 0, 1, 2 or 3"),
    ] {
        let verdict = validate(&validate_input(Some(number), Some(HOLDER), json!({}), "en"), &datasets);
        assert!(!verdict.ok, "{number}");
        assert_eq!(error_fields(&verdict), ["answers.notice_number"], "{number}");
        assert!(verdict.errors[0].message["en"].contains(english), "{number}: {verdict:?}");
        assert!(!verdict.errors[0].message["it"].is_empty());
    }
}

#[test]
fn a_valid_but_unknown_notice_is_refused() {
    // Right check digits (3020000000099999 mod 93 = 14), not in the dataset.
    let verdict =
        validate(&validate_input(Some("302000000009999914"), Some(HOLDER), json!({}), "it"), &demo_datasets());
    assert_eq!(error_fields(&verdict), ["answers.notice_number"]);
    assert!(verdict.errors[0].message["it"].contains("Non troviamo"));
}

#[test]
fn the_holder_is_checked_only_when_the_service_asks() {
    let someone_else = "VRDLCU92E45G702R";
    let checked = validate(
        &validate_input(Some(DEMO_NOTICE), Some(someone_else), json!({"check_holder": true}), "en"),
        &demo_datasets(),
    );
    assert_eq!(error_fields(&checked), ["answers.notice_number"]);
    assert!(checked.errors[0].message["en"].contains("not addressed to the fiscal code"));
    // The answer never tells whose notice it is.
    assert!(!serde_json::to_string(&checked).unwrap().contains(HOLDER));
    let missing =
        validate(&validate_input(Some(DEMO_NOTICE), None, json!({"check_holder": true}), "en"), &demo_datasets());
    assert_eq!(error_fields(&missing), ["citizen.fiscal_code"]);
    let unchecked = validate(&validate_input(Some(DEMO_NOTICE), Some(someone_else), json!({}), "en"), &demo_datasets());
    assert!(unchecked.ok);
}

#[test]
fn a_missing_answer_is_refused() {
    let verdict = validate(&validate_input(None, Some(HOLDER), json!({}), "it"), &demo_datasets());
    assert_eq!(error_fields(&verdict), ["answers.notice_number"]);
}

#[test]
fn a_broken_dataset_row_is_not_taken_for_a_notice() {
    let mut datasets = MemoryDatasets::new();
    let row: Row =
        [("notice_number", DEMO_NOTICE), ("holder_fiscal_code", HOLDER), ("amount", "12,50")].into_iter().collect();
    datasets.insert("avvisi", DEMO_NOTICE, row);
    let verdict = validate(&validate_input(Some(DEMO_NOTICE), Some(HOLDER), json!({}), "en"), &datasets);
    assert!(!verdict.ok);
    assert!(verdict.errors[0].message["en"].contains("call the office"));
}

#[test]
fn the_field_and_dataset_names_come_from_the_configuration() {
    let mut datasets = MemoryDatasets::new();
    let row = demo_datasets().row("avvisi", DEMO_NOTICE).unwrap();
    datasets.insert("notices", DEMO_NOTICE, row);
    let mut input = validate_input(None, Some(HOLDER), json!({"field": "iuv", "dataset": "notices"}), "it");
    input.answers.insert("iuv".into(), DEMO_NOTICE.into());
    assert!(validate(&input, &datasets).ok);
}

fn lookup_input(value: &str, fiscal_code: Option<&str>, config: Value) -> LookupInput {
    serde_json::from_value(json!({
        "field": "notice_number", "value": value, "locale": "it", "config": config,
        "citizen": fiscal_code.map_or_else(|| json!({}), |code| json!({"fiscal_code": code})),
    }))
    .unwrap()
}

#[test]
fn lookup_normalises_and_describes_without_the_holder() {
    let verdict = lookup(&lookup_input("3020 0000 0001 2345 59", None, json!({})), &demo_datasets());
    assert!(verdict.ok);
    assert_eq!(verdict.value.as_deref(), Some(DEMO_NOTICE));
    assert_eq!(summary(&verdict, "it")[1], ("Importo".to_string(), "€ 123,45".to_string()));
    assert!(!serde_json::to_string(&verdict).unwrap().contains(HOLDER));

    let wrong: LookupInput =
        serde_json::from_value(json!({"field": "notice_number", "value": "302000000001234558", "locale": "en"}))
            .unwrap();
    let verdict = lookup(&wrong, &demo_datasets());
    assert_eq!(error_fields(&verdict), ["value"], "errors name the field of the lookup request");
    let other_field: LookupInput =
        serde_json::from_value(json!({"field": "phone", "value": "1", "locale": "en"})).unwrap();
    assert_eq!(error_fields(&lookup(&other_field, &demo_datasets())), ["field"]);
}

#[test]
fn when_the_holder_is_checked_a_lookup_describes_the_notice_only_to_its_holder() {
    let checked = || json!({"check_holder": true});
    let anonymous = lookup(&lookup_input(DEMO_NOTICE, None, checked()), &demo_datasets());
    assert!(anonymous.ok, "a known number is said to be well formed");
    assert_eq!(anonymous.value.as_deref(), Some(DEMO_NOTICE));
    assert!(anonymous.summary.is_empty(), "but not what it is: {anonymous:?}");

    let stranger = lookup(&lookup_input(DEMO_NOTICE, Some("BNCGNN80A01H501T"), checked()), &demo_datasets());
    assert!(!stranger.ok);
    assert_eq!(error_fields(&stranger), ["value"]);
    assert!(stranger.summary.is_empty());

    let holder = lookup(&lookup_input(DEMO_NOTICE, Some("rssmra85t10a562s"), checked()), &demo_datasets());
    assert!(holder.ok, "{holder:?}");
    assert_eq!(summary(&holder, "it")[1], ("Importo".to_string(), "€ 123,45".to_string()));
}
