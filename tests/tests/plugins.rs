//! Tenant rules as WebAssembly plugins, through the booking API (modules written in WAT).

use std::time::{Duration, Instant};

use serde_json::json;
use sportello_tests::packs::write_pack_with;
use sportello_tests::{Backend, TestServer, citizen_booking, on_both_backends};

/// A plugin whose `validate` prints `answer`; `body` runs first (e.g. a loop).
fn rule(answer: &str, body: &str) -> Vec<u8> {
    hook_rule("sportello_validate", answer, body)
}

/// A plugin whose hook `export` prints `answer`.
fn hook_rule(export: &str, answer: &str, body: &str) -> Vec<u8> {
    let bytes: String = answer.bytes().map(|b| format!("\\{b:02x}")).collect();
    wat::parse_str(format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "{bytes}")
          (func (export "sportello_abi_1"))
          (func (export "{export}")
            {body}
            (i32.store (i32.const 0) (i32.const 1024))
            (i32.store (i32.const 4) (i32.const {len}))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
        len = answer.len()
    ))
    .unwrap()
}

const RULES: &str = r##"
slug = "regole"
name = "Ente con regole"
privacy_notice_version = "1"
[branding]
primary_color = "#224466"
[limits]
holds_per_client = 0
holds_per_minute = 0
bookings_per_minute = 0
[[plugins]]
id = "accetta"
file = "plugins/accetta.wasm"
citizen_fields = ["fiscal_code"]
[[plugins]]
id = "rifiuta"
file = "plugins/rifiuta.wasm"
[[plugins]]
id = "gira"
file = "plugins/gira.wasm"
[[plugins]]
id = "sbaglia"
file = "plugins/sbaglia.wasm"
[[plugins]]
id = "cerca"
file = "plugins/cerca.wasm"
[[services]]
slug = "ok"
name = { it = "Accettato" }
description = { it = "Regola che accetta" }
duration_minutes = 30
modes = ["in_person"]
plugin = "accetta"
plugin_config = { check_holder = true }
[[services]]
slug = "no"
name = { it = "Rifiutato" }
description = { it = "Regola che rifiuta" }
duration_minutes = 30
modes = ["in_person"]
plugin = "rifiuta"
[[services.fields]]
key = "notice_number"
label = { it = "Numero avviso" }
kind = "digits"
[[services]]
slug = "lento"
name = { it = "Regola che non finisce" }
description = { it = "Gira all'infinito" }
duration_minutes = 30
modes = ["in_person"]
plugin = "gira"
[[services]]
slug = "cerca"
name = { it = "Con ricerca" }
description = { it = "Controlla mentre scrivi" }
duration_minutes = 30
modes = ["in_person"]
plugin = "cerca"
[[services]]
slug = "rotto"
name = { it = "Regola rotta" }
description = { it = "Risponde male" }
duration_minutes = 30
modes = ["in_person"]
plugin = "sbaglia"
[[offices]]
slug = "sede"
name = "Sede"
address = "Via Roma 1"
modes = ["in_person"]
services = ["ok", "no", "lento", "rotto", "cerca"]
national_holidays = false
[offices.hours]
tue = [{ from = "08:00", to = "12:00", desks = 50 }]
wed = [{ from = "08:00", to = "12:00", desks = 50 }]
"##;

fn plugins() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "plugins/accetta.wasm",
            rule(r#"{"ok":true,"summary":[{"label":{"it":"Importo","en":"Amount"},"value":"€ 123,45"}]}"#, ""),
        ),
        (
            "plugins/rifiuta.wasm",
            rule(
                r#"{"ok":false,"errors":[{"field":"answers.notice_number","message":{"it":"Avviso sconosciuto","en":"Unknown notice"}}]}"#,
                "",
            ),
        ),
        ("plugins/gira.wasm", rule("{}", "(loop $forever (br $forever))")),
        ("plugins/sbaglia.wasm", rule("this is not JSON", "")),
        (
            "plugins/cerca.wasm",
            hook_rule(
                "sportello_lookup",
                r#"{"ok":true,"value":"302000000001234559","summary":[{"label":{"it":"Scadenza","en":"Due"},"value":"31/12/2026"}]}"#,
                "",
            ),
        ),
    ]
}

async fn with_rules(backend: Backend) -> TestServer {
    let s = TestServer::start(backend).await;
    s.app.apply_pack(&write_pack_with("regole", RULES, &plugins())).await.expect("apply pack with plugins");
    s
}

const SLOT: &str = "2026-12-02T08:00:00+01:00";

async fn book(s: &TestServer, service: &str, mut body: serde_json::Value) -> (u16, serde_json::Value) {
    let (status, hold) = s.hold("regole", service, "sede", "in_person", SLOT).await;
    assert_eq!(status, 201, "{hold}");
    body["hold_id"] = hold["hold_id"].clone();
    s.post(&s.url("regole", "/bookings"), &body).await
}

async fn rules_decide_before_booking(backend: Backend) {
    let s = with_rules(backend).await;
    let mut accepted = citizen_booking("", "rule@example.it");
    accepted["citizen"]["fiscal_code"] = json!("RSSMRA85T10A562S");
    let (status, booking) = book(&s, "ok", accepted).await;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(booking["summary"], json!([{"label": "Importo", "value": "€ 123,45"}]));
    let (_, fetched) = s
        .get(&s.url("regole", &format!("/bookings/{}?email=rule@example.it", booking["code"].as_str().unwrap())))
        .await;
    assert_eq!(fetched["summary"][0]["value"], "€ 123,45", "the summary is stored with the booking");

    let mut refused = citizen_booking("", "refused@example.it");
    refused["answers"] = json!({"notice_number": "123456"});
    refused["locale"] = json!("en");
    let (status, problem) = book(&s, "no", refused).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"],
        json!([{"field": "answers.notice_number", "code": "rule", "message": "Unknown notice"}])
    );
}

async fn broken_rules_answer_503_and_spare_other_tenants(backend: Backend) {
    let s = with_rules(backend).await;
    let (status, problem) = book(&s, "rotto", citizen_booking("", "x@example.it")).await;
    assert_eq!((status, problem["type"].as_str()), (503, Some("/problems/rule-unavailable")), "{problem}");

    // Four confirmations spin in the rule at once while another tenant books.
    let spinning = (0..4).map(|i| book(&s, "lento", citizen_booking("", &format!("spin{i}@example.it"))));
    let others = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut slowest = Duration::ZERO;
        // Eight half-hour slots between 08:00 and 12:00.
        for i in 0..8 {
            let start = format!("2026-12-02T{:02}:{:02}:00+01:00", 8 + i / 2, (i % 2) * 30);
            let (_, hold) = s.hold("prova", "visita", "sede", "in_person", &start).await;
            let started = Instant::now();
            let (status, _) = s.book("prova", hold["hold_id"].as_str().unwrap(), &format!("other{i}@example.it")).await;
            slowest = slowest.max(started.elapsed());
            assert_eq!(status, 201);
        }
        slowest
    };
    let (spun, slowest) = tokio::join!(futures::future::join_all(spinning), others);
    for (status, problem) in spun {
        assert_eq!((status, problem["type"].as_str()), (503, Some("/problems/rule-unavailable")));
    }
    assert!(slowest < Duration::from_millis(250), "another tenant's slowest booking took {slowest:?}");
}

async fn bad_modules_are_refused_at_apply(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut files = plugins();
    files[0].1 =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "sportello_validate")))"#).unwrap();
    let error = s.app.apply_pack(&write_pack_with("regole", RULES, &files)).await.unwrap_err().to_string();
    assert!(error.contains("plugins[0].file") && error.contains("not a Sportello plugin"), "{error}");
    let (status, _) = s.get(&s.url("regole", "")).await;
    assert_eq!(status, 404, "nothing was created");
}

on_both_backends!(
    rules_decide_before_booking,
    broken_rules_answer_503_and_spare_other_tenants,
    bad_modules_are_refused_at_apply
);

async fn lookup_checks_a_field_as_it_is_typed(backend: Backend) {
    let s = with_rules(backend).await;
    let body = json!({"field": "notice_number", "value": "3020 0000 0001 2345 59", "locale": "en"});
    let (status, found) = s.post(&s.url("regole", "/services/cerca/lookup"), &body).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found, json!({"value": "302000000001234559", "summary": [{"label": "Due", "value": "31/12/2026"}]}));
    let (status, _) = s.post(&s.url("regole", "/services/ok/lookup"), &body).await;
    assert_eq!(status, 404, "the rule of `ok` has no lookup");
    let (status, _) = s.post(&s.url("regole", "/services/nessuno/lookup"), &body).await;
    assert_eq!(status, 404);
}

on_both_backends!(lookup_checks_a_field_as_it_is_typed);
