//! The operator's agenda of a busy office: 300 bookings in one day.
//!
//! `cargo run --release -p sportello-bench --bin desk [-- --postgres postgres://postgres@127.0.0.1:5432]`
//! Prints, as JSON, p50/p95/p99 of the agenda page (`/admin/t/bench/desk/sede`, rendered) and of
//! the agenda in the admin API, each a whole HTTP round trip over loopback, with the audit entry
//! each opening writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::time::{Duration, Instant};

use sportello::app::{AvailabilityRequest, ConfirmRequest, HoldRequest};
use sportello::domain::{Channel, DetailsForm, OfferKey, Role};
use sportello_bench::percentiles;
use sportello_tests::TestServer;
use sportello_tests::packs::{Office, Pack, Service};

const BOOKINGS: usize = 300;
const ITERATIONS: usize = 300;

/// Open 08:00–20:00 every day with 7 desks: 336 places of 15 minutes a day.
fn pack() -> Pack {
    Pack::new("bench", "Benchmark")
        .unlimited()
        .service(Service::new("visita", "Visita").duration(15))
        .office(Office::new("sede", "Sede", "Via Roma 1", &["visita"]).every_day("08:00", "20:00", 7).no_holidays())
        .setting("grid_minutes = 15")
}

#[tokio::main]
async fn main() {
    let backend = sportello_bench::backend_from_args().await;
    let backend_name = backend.name;
    let server = TestServer::start(backend).await;
    server.app.apply_pack(&pack().write()).await.expect("bench pack");
    let offer = OfferKey::parse("visita", "sede", "in_person").expect("offer");
    let today = server.app.availability("bench", AvailabilityRequest { offer: &offer, from: None, to: None });
    let today = today.await.expect("availability");
    let day = &today.days[0];
    let places = day.slots.iter().flat_map(|s| std::iter::repeat_n(s.start, s.remaining as usize));
    for (n, start) in places.take(BOOKINGS).enumerate() {
        let request = HoldRequest { offer: &offer, start, id: None, token: None, client: None };
        let placed = server.app.place_hold("bench", request).await.expect("hold");
        let form = DetailsForm {
            first_name: "Cittadina".into(),
            last_name: format!("Numero {n}"),
            email: format!("c{n}@example.it"),
            phone: format!("+39 333 {n:07}"),
            privacy_accepted: true,
            ..DetailsForm::default()
        };
        let request = ConfirmRequest {
            hold_id: placed.hold.id,
            hold_token: placed.token,
            form,
            idempotency: None,
            client: None,
            channel: Channel::Api,
        };
        server.app.confirm("bench", request).await.expect("confirm");
    }
    let operator = server.staff("operatore@bench.example.it", Role::Operator, Some("bench"), &["sede"]).await;

    let page_url = format!("{}/admin/t/bench/desk/sede?date={}", server.base, day.date);
    let mut page: Vec<Duration> = Vec::with_capacity(ITERATIONS);
    let mut page_bytes = 0;
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let response = server.http.get(&page_url).header("cookie", operator.cookie()).send().await.expect("GET");
        assert_eq!(response.status().as_u16(), 200);
        let body = response.text().await.expect("body");
        page.push(started.elapsed());
        assert_eq!(body.matches("<tr class=\"status-confirmed\">").count(), BOOKINGS);
        page_bytes = body.len();
    }
    let api_url = format!("{}/api/v1/admin/t/bench/bookings?office=sede&date={}", server.base, day.date);
    let mut api: Vec<Duration> = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let response = server.http.get(&api_url).header("authorization", operator.bearer()).send().await.expect("GET");
        let body: serde_json::Value = response.json().await.expect("JSON");
        api.push(started.elapsed());
        assert_eq!(body.as_array().map(Vec::len), Some(BOOKINGS));
    }
    let report = serde_json::json!({
        "benchmark": "desk agenda",
        "backend": backend_name,
        "bookings_in_the_day": BOOKINGS,
        "page": percentiles(&mut page),
        "page_bytes": page_bytes,
        "api": percentiles(&mut api),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
