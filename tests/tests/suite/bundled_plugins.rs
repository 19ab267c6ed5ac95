//! The plugins bundled in `plugins/`, compiled to the modules committed next to the demo tenants
//! (scripts/build-plugins), through the booking API: the consortium's pagoPA notice rule, the
//! town's fiscal-code rule, and the C example of docs/plugins.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use serde_json::{Value, json};

use sportello_tests::packs::{Office, Pack, Service};
use sportello_tests::{Backend, TestServer, citizen_booking, demo_packs_dir, on_both_backends};

/// Wednesday 2 December 2026 from 08:30 in Rome, every 30 minutes: open at both demo tenants'
/// main offices. A refused booking keeps its hold, so each attempt takes a slot of its own.
const SLOTS: [&str; 4] =
    ["2026-12-02T07:30:00Z", "2026-12-02T08:00:00Z", "2026-12-02T08:30:00Z", "2026-12-02T09:00:00Z"];
const DEMO_NOTICE: &str = "302000000001234559";
const HOLDER: &str = "RSSMRA85T10A562S";

async fn with_demo_tenants(backend: Backend) -> TestServer {
    let s = TestServer::start(backend).await;
    s.app.apply_all_packs(&demo_packs_dir()).await.expect("apply the demo packs");
    s
}

/// Holds the slot and books it with `body`, as a citizen of their own (the demo tenants limit
/// holds per client and bookings per person); returns (status, body).
async fn book(s: &TestServer, tenant: &str, service: &str, office: &str, slot: usize, mut body: Value) -> (u16, Value) {
    let email = body["citizen"]["email"].as_str().unwrap_or_default().to_owned();
    let client = format!("10.0.0.{}", email.bytes().map(u32::from).sum::<u32>() % 250);
    let post = |url: String, body: Value| {
        let request = s.http.post(url).header("X-Forwarded-For", client.clone()).json(&body);
        async move {
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let hold = json!({"service": service, "office": office, "mode": "in_person", "start": SLOTS[slot]});
    let (status, hold) = post(s.url(tenant, "/holds"), hold).await;
    assert_eq!(status, 201, "{hold}");
    body["hold_id"] = hold["hold_id"].clone();
    body["hold_token"] = hold["hold_token"].clone();
    body["citizen"]["phone"] = json!(format!("+39 333 {:07}", email.bytes().map(u32::from).sum::<u32>()));
    post(s.url(tenant, "/bookings"), body).await
}

fn notice_booking(email: &str, notice: &str, fiscal_code: &str, locale: &str) -> Value {
    let mut body = citizen_booking(&Value::Null, email);
    body["citizen"]["fiscal_code"] = json!(fiscal_code);
    body["answers"] = json!({ "notice_number": notice });
    body["reason"] = json!("chiarimenti");
    body["locale"] = json!(locale);
    body
}

fn rule_errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["code"] == "rule")
        .map(|e| {
            (e["field"].as_str().unwrap_or_default().to_owned(), e["message"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

async fn payment_notices_are_checked_before_booking(backend: Backend) {
    let s = with_demo_tenants(backend).await;
    let book_notice = |slot: usize, notice: &'static str, fiscal_code: &'static str| {
        let s = &s;
        let body = notice_booking(&format!("citizen{slot}@example.it"), notice, fiscal_code, "en");
        async move { book(s, "cbtoscananord", "avvisi-pagamento", "sede-viareggio", slot, body).await }
    };

    let (status, problem) = book_notice(0, "302000000001234558", HOLDER).await;
    assert_eq!(status, 422, "{problem}");
    let errors = rule_errors(&problem);
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0].0, "answers.notice_number");
    assert!(errors[0].1.contains("check digits"), "{problem}");

    // Right check digits, but not one of the consortium's notices.
    let (status, problem) = book_notice(1, "302000000009999914", HOLDER).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(rule_errors(&problem)[0].0, "answers.notice_number");
    assert!(rule_errors(&problem)[0].1.contains("cannot find this notice"), "{problem}");

    // A real notice, but someone else's.
    let (status, problem) = book_notice(2, DEMO_NOTICE, "VRDLCU92E45G702R").await;
    assert_eq!(status, 422, "{problem}");
    assert!(rule_errors(&problem)[0].1.contains("not addressed to the fiscal code"), "{problem}");
    assert!(!problem.to_string().contains(HOLDER), "the holder is never revealed");

    // The demo notice with its holder's fiscal code, typed with spaces as printed on the notice.
    let (status, booking) = book_notice(3, "3020 0000 0001 2345 59", HOLDER).await;
    assert_eq!(status, 201, "{booking}");
    let summary = json!([
        {"label": "Notice", "value": "Irrigation fee 2026"},
        {"label": "Amount", "value": "€123.45"},
        {"label": "Due date", "value": "31 December 2026"},
        {"label": "Status", "value": "Unpaid"},
    ]);
    assert_eq!(booking["summary"], summary);
    let code = booking["code"].as_str().unwrap();
    let (status, fetched) = s.booking("cbtoscananord", code, "citizen3@example.it").await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched["summary"], summary, "the summary is stored with the booking");
    assert_eq!(fetched["answers"]["notice_number"], DEMO_NOTICE);
}

async fn a_notice_is_looked_up_as_it_is_typed(backend: Backend) {
    let s = with_demo_tenants(backend).await;
    let url = s.url("cbtoscananord", "/services/avvisi-pagamento/lookup");
    // The service checks the holder: without the holder's fiscal code, only "well formed, known".
    let (status, found) =
        s.post(&url, &json!({"field": "notice_number", "value": "3020 0000 0001 2345 59", "locale": "it"})).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["value"], DEMO_NOTICE);
    assert_eq!(found["summary"], json!([]), "what the notice is shows only to its holder");
    let with_code = |code: &str| json!({"field": "notice_number", "value": DEMO_NOTICE, "locale": "it", "citizen": {"fiscal_code": code}});
    let (status, found) = s.post(&url, &with_code("rssmra85t10a562s")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["summary"][1], json!({"label": "Importo", "value": "€ 123,45"}));
    assert!(!found.to_string().contains(HOLDER));
    let (status, problem) = s.post(&url, &with_code("BNCGNN80A01H501T")).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(rule_errors(&problem)[0].0, "value");
    assert!(!problem.to_string().contains("123,45"), "nothing of the notice to a stranger: {problem}");
    let (status, problem) = s.post(&url, &with_code("RSSMRA85T10A562X")).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("citizen.fiscal_code")), "{problem}");
    // The rule sees only the fiscal code: other personal data is refused, not passed on.
    let email = json!({"field": "notice_number", "value": DEMO_NOTICE, "citizen": {"email": "a@example.it"}});
    let (status, problem) = s.post(&url, &email).await;
    assert_eq!((status, &problem["errors"][0]["code"]), (422, &json!("not_used")), "{problem}");
    let (status, problem) =
        s.post(&url, &json!({"field": "notice_number", "value": "302000000001234558", "locale": "it"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(rule_errors(&problem)[0].0, "value");

    // Lookups are rate-limited per client (20 a minute in the pack): guessing notices is slowed down.
    let guess = |client: &'static str| {
        let body = json!({"field": "notice_number", "value": DEMO_NOTICE});
        let request = s.http.post(&url).header("X-Forwarded-For", client).json(&body);
        async move { request.send().await.expect("POST") }
    };
    for _ in 0..20 {
        assert_eq!(guess("10.9.9.9").await.status().as_u16(), 200);
    }
    let refused = guess("10.9.9.9").await;
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(guess("10.9.9.10").await.status().as_u16(), 200, "other clients go on");
}

async fn identity_cards_check_the_fiscal_code(backend: Backend) {
    let s = with_demo_tenants(backend).await;
    let with_code = |email: &str, fiscal_code: &str| {
        let mut body = citizen_booking(&Value::Null, email);
        body["citizen"]["fiscal_code"] = json!(fiscal_code);
        body
    };
    let (status, adult) =
        book(&s, "comune-esempio", "carta-identita", "anagrafe", 0, with_code("e@example.it", "rssmra85t10a56nh"))
            .await;
    assert_eq!(status, 201, "{adult}");
    assert_eq!(
        adult["summary"],
        json!([{"label": "Codice fiscale", "value": "RSSMRA85T10A56NH"}, {"label": "Data di nascita", "value": "10/12/1985"}])
    );
    let (status, minor) =
        book(&s, "comune-esempio", "carta-identita", "anagrafe", 1, with_code("f@example.it", "BNCLRA12M52H501J"))
            .await;
    assert_eq!(status, 201, "{minor}");
    assert_eq!(minor["summary"][2], json!({"label": "Nota", "value": "Minorenne alla data dell'appuntamento"}));
}

on_both_backends!(
    payment_notices_are_checked_before_booking,
    a_notice_is_looked_up_as_it_is_typed,
    identity_cards_check_the_fiscal_code
);

/// `esempio-c`: the rule written in C, on a service with a notice number.
fn c_example() -> Pack {
    Pack::new("esempio-c", "Ente con regola in C")
        .plugin("regola-c", &[])
        .service(Service::new("avvisi", "Avvisi").with("plugin = \"regola-c\"").digits_field(
            "notice_number",
            "Numero avviso",
            (1, 40),
            false,
        ))
        .office(Office::new("sede", "Sede", "Via Roma 1", &["avvisi"]).no_holidays().open(
            &["wed"],
            "08:00",
            "12:00",
            10,
        ))
}

/// The C example of docs/plugins.md, compiled by clang without any SDK, runs under the same ABI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_example_plugin_runs() {
    let s = TestServer::start(Backend::sqlite()).await;
    let module = std::fs::read(demo_packs_dir().join("../plugins/examples/c/rule.wasm")).expect("the C example");
    s.app.apply_pack(&c_example().write_with(&[("plugins/regola-c.wasm", module)])).await.expect("apply");
    let mut without = citizen_booking(&Value::Null, "g@example.it");
    without["locale"] = json!("en");
    let (status, problem) = book(&s, "esempio-c", "avvisi", "sede", 0, without).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(rule_errors(&problem), [("answers.notice_number".to_owned(), "Enter the notice number.".to_owned())]);
    let mut with = citizen_booking(&Value::Null, "h@example.it");
    with["answers"] = json!({"notice_number": "123"});
    let (status, booking) = book(&s, "esempio-c", "avvisi", "sede", 1, with).await;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(booking["summary"], json!([{"label": "Controllo", "value": "C"}]));
}
