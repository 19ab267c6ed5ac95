//! Tenant rules as WebAssembly plugins, through the booking API (modules written in WAT).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::time::{Duration, Instant};

use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use sportello_tests::packs::{Office, Pack, Service};
use sportello_tests::{Backend, TestServer, citizen_booking, on_both_backends};

/// A plugin whose `validate` prints `answer`; `body` runs first (e.g. a loop).
pub(super) fn rule(answer: &str, body: &str) -> Vec<u8> {
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

/// `regole`: one service per rule, and a rule that looks a field up as it is typed.
fn rules_pack() -> Pack {
    let services = ["ok", "no", "lento", "rotto", "cerca"];
    Pack::new("regole", "Ente con regole")
        .unlimited()
        .plugin("accetta", &["citizen_fields = [\"fiscal_code\"]"])
        .plugin("rifiuta", &[])
        // The most a pack may give, so that a spin lasts until the 50 ms deadline.
        .plugin("gira", &["fuel = 50000000"])
        .plugin("sbaglia", &[])
        .plugin("cerca", &[])
        .service(
            Service::new("ok", "Accettato")
                .with("plugin = \"accetta\"")
                .with("plugin_config = { check_holder = true }"),
        )
        .service(Service::new("no", "Rifiutato").with("plugin = \"rifiuta\"").digits_field(
            "notice_number",
            "Numero avviso",
            (1, 40),
            false,
        ))
        .service(Service::new("lento", "Regola che non finisce").with("plugin = \"gira\""))
        .service(Service::new("cerca", "Con ricerca").with("plugin = \"cerca\"").digits_field(
            "notice_number",
            "Numero avviso",
            (18, 18),
            false,
        ))
        .service(Service::new("rotto", "Regola rotta").with("plugin = \"sbaglia\""))
        .office(Office::new("sede", "Sede", "Via Roma 1", &services).no_holidays().open(
            &["tue", "wed"],
            "08:00",
            "12:00",
            100,
        ))
}

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
    s.app.apply_pack(&rules_pack().write_with(&plugins())).await.expect("apply pack with plugins");
    s
}

const SLOT: &str = "2026-12-02T08:00:00+01:00";

async fn book(s: &TestServer, service: &str, mut body: serde_json::Value) -> (u16, serde_json::Value) {
    let (status, hold) = s.hold("regole", service, "sede", "in_person", SLOT).await;
    assert_eq!(status, 201, "{hold}");
    body["hold_id"] = hold["hold_id"].clone();
    body["hold_token"] = hold["hold_token"].clone();
    s.post(&s.url("regole", "/bookings"), &body).await
}

async fn rules_decide_before_booking(backend: Backend) {
    let s = with_rules(backend).await;
    let mut accepted = citizen_booking(&Value::Null, "rule@example.it");
    accepted["citizen"]["fiscal_code"] = json!("RSSMRA85T10A562S");
    let (status, booking) = book(&s, "ok", accepted).await;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(booking["summary"], json!([{"label": "Importo", "value": "€ 123,45"}]));
    let (_, fetched) = s.booking("regole", booking["code"].as_str().unwrap(), "rule@example.it").await;
    assert_eq!(fetched["summary"][0]["value"], "€ 123,45", "the summary is stored with the booking");

    let mut refused = citizen_booking(&Value::Null, "refused@example.it");
    refused["answers"] = json!({"notice_number": "123456"});
    refused["locale"] = json!("en");
    let (status, problem) = book(&s, "no", refused).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"],
        json!([{"field": "answers.notice_number", "code": "rule", "message": "Unknown notice"}])
    );
}

/// Run once, on SQLite: the isolation does not depend on the database, and three variants spinning
/// 64 threads each at the same time would measure the 2-core machine rather than Sportello.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broken_rules_answer_503_and_spare_other_tenants() {
    let s = with_rules(Backend::sqlite()).await;
    let (status, problem) = book(&s, "rotto", citizen_booking(&Value::Null, "x@example.it")).await;
    assert_eq!((status, problem["type"].as_str()), (503, Some("/problems/rule-unavailable")), "{problem}");

    // 64 confirmations spin in the rule at once. Rules run off the request threads and one at a time
    // per tenant, so the spinning tenant holds at most one core (without that, its rules saturated
    // both cores and the other tenant waited up to 0.4 s; run on the request threads, 0.9 s). Meanwhile, for as long as
    // any of them spins, another tenant keeps booking: counted, not timed, so that a busy machine
    // running other tests at once does not decide the outcome.
    let other = grande().write();
    s.app.apply_pack(&other).await.expect("apply the other tenant");
    let spinning_done = AtomicBool::new(false);
    let spinning = async {
        let spun = futures::future::join_all(
            (0..64).map(|i| book(&s, "lento", citizen_booking(&Value::Null, &format!("spin{i}@example.it")))),
        )
        .await;
        spinning_done.store(true, Ordering::SeqCst);
        spun
    };
    let others = async {
        // Each hold + booking is timed back to back, so that a stall anywhere is seen.
        let (mut slowest, mut booked, mut last) = (Duration::ZERO, 0, Instant::now());
        while !spinning_done.load(Ordering::SeqCst) {
            let (_, hold) = s.hold("grande", "visita", "sede", "in_person", SLOT).await;
            let (status, _) = s.book("grande", &hold, &format!("other{booked}@example.it")).await;
            assert_eq!(status, 201);
            slowest = slowest.max(last.elapsed());
            last = Instant::now();
            booked += 1;
        }
        (slowest, booked)
    };
    let (spun, (slowest, booked)) = tokio::join!(spinning, others);
    for (status, problem) in spun {
        assert_eq!((status, problem["type"].as_str()), (503, Some("/problems/rule-unavailable")));
    }
    assert!(booked >= 3, "the other tenant kept booking while the rules spun: {booked}, slowest {slowest:?}");

    // Every spin is counted: stopped by its budget (fuel or the deadline, whichever a loop of this
    // machine reaches first), or not run because the tenant's lane stayed busy.
    let metrics = metrics(&s).await;
    let spins = |outcome: &str| counted(&metrics, "gira", outcome);
    assert!(spins("timeout") + spins("out_of_fuel") >= 1, "{metrics}");
    assert_eq!(spins("timeout") + spins("out_of_fuel") + spins("busy"), 64, "{metrics}");
    assert_eq!(counted(&metrics, "sbaglia", "bad_output"), 1, "{metrics}");
}

async fn metrics(s: &TestServer) -> String {
    let response = s.http.get(format!("{}/metrics", s.base)).send().await.expect("GET /metrics");
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.expect("body")
}

/// The value of `sportello_rule_calls_total` for tenant `regole`'s `plugin` and `outcome` (0 if absent).
fn counted(metrics: &str, plugin: &str, outcome: &str) -> u64 {
    let series = format!(
        "sportello_rule_calls_total{{tenant=\"regole\",plugin=\"{plugin}\",hook=\"validate\",outcome=\"{outcome}\"}} "
    );
    metrics.lines().find_map(|line| line.strip_prefix(&series)).map_or(0, |n| n.parse().expect("a count"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_outcomes_are_counted_in_metrics() {
    let s = with_rules(Backend::sqlite()).await;
    let mut accepted = citizen_booking(&Value::Null, "counted@example.it");
    accepted["citizen"]["fiscal_code"] = json!("RSSMRA85T10A562S");
    assert_eq!(book(&s, "ok", accepted).await.0, 201);
    let mut refused = citizen_booking(&Value::Null, "refused@example.it");
    refused["answers"] = json!({"notice_number": "123456"});
    assert_eq!(book(&s, "no", refused.clone()).await.0, 422);
    assert_eq!(book(&s, "no", refused).await.0, 422);
    assert_eq!(book(&s, "rotto", citizen_booking(&Value::Null, "broken@example.it")).await.0, 503);
    let metrics = metrics(&s).await;
    assert_eq!(
        [
            counted(&metrics, "accetta", "accepted"),
            counted(&metrics, "rifiuta", "refused"),
            counted(&metrics, "sbaglia", "bad_output")
        ],
        [1, 2, 1],
        "{metrics}"
    );
    assert!(metrics.contains("sportello_plugin_compilations_total "), "{metrics}");
    for personal in ["counted@example.it", "RSSMRA85T10A562S", "Bianchi", "123456"] {
        assert!(!metrics.contains(personal), "no personal data in metrics");
    }
}

/// A tenant with room for every booking the test makes.
/// `grande`: another tenant with room for everyone.
fn grande() -> Pack {
    Pack::new("grande", "Ente grande").unlimited().service(Service::new("visita", "Visita")).office(
        Office::new("sede", "Sede", "Via Roma 9", &["visita"]).no_holidays().open(&["wed"], "08:00", "12:00", 500),
    )
}

async fn bad_modules_are_refused_at_apply(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut files = plugins();
    files[0].1 =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "sportello_validate")))"#).unwrap();
    let error = s.app.apply_pack(&rules_pack().write_with(&files)).await.unwrap_err().to_string();
    assert!(error.contains("plugins[0].file") && error.contains("not a Sportello plugin"), "{error}");
    let (status, _) = s.get(&s.url("regole", "")).await;
    assert_eq!(status, 404, "nothing was created");
}

on_both_backends!(rules_decide_before_booking, bad_modules_are_refused_at_apply);

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

    // Values the field could never hold are refused before any rule spends fuel on them.
    let rule_calls = |s: &TestServer| s.app.metrics().rule_calls.iter().map(|c| c.calls).sum::<u64>();
    let before = rule_calls(&s);
    for (field, value, refused) in [
        ("notice_number", "3".repeat(33_000), "value"),
        ("notice_number", "3020\u{0}0000".to_owned(), "value"),
        ("not_a_field", "1".to_owned(), "field"),
    ] {
        let body = json!({"field": field, "value": value});
        let (status, problem) = s.post(&s.url("regole", "/services/cerca/lookup"), &body).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some(refused)), "{problem}");
    }
    assert_eq!(rule_calls(&s), before, "no rule ran for a refused value");
}

on_both_backends!(lookup_checks_a_field_as_it_is_typed);

/// On the pages, a rule's refusal shows its own words next to the field, in the page's language.
async fn rule_messages_on_the_pages(backend: Backend) {
    let s = with_rules(backend).await;
    // A browser keeps cookies: the hold's secret is one.
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let hold = [("service", "no"), ("office", "sede"), ("mode", "in_person"), ("start", SLOT)];
    let details = browser.post(format!("{}/t/regole/hold", s.base)).form(&hold).send().await.unwrap();
    let details_url = details.url().to_string();
    assert!(details_url.contains("/details/"), "{details_url}");
    let form = [
        ("first_name", "Lucia"),
        ("last_name", "Verdi"),
        ("email", "lucia@example.it"),
        ("phone", "333 222 1111"),
        ("answers.notice_number", "123456"),
        ("privacy_accepted", "yes"),
    ];
    for (lang, message) in [("it", "Avviso sconosciuto"), ("en", "Unknown notice")] {
        let page = browser.post(format!("{details_url}?lang={lang}")).form(&form).send().await.unwrap();
        assert_eq!(page.status(), 422);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!(r#"<p class="field-error" id="f-answers-notice_number-error">{message}</p>"#)),
            "{html}"
        );
        assert!(html.contains(&format!(": {message}</a>")), "in the summary too: {html}");
        assert!(html.contains(r#"value="123456""#), "what was typed is kept");
    }
}

on_both_backends!(rule_messages_on_the_pages);
