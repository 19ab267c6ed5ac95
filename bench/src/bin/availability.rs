//! Availability of 1 service × 1 office × 60 days with 30% of the slots fully booked.
//!
//! `cargo run --release -p sportello-bench --bin availability [-- --postgres postgres://postgres@127.0.0.1:5432]`
//! Prints p50/p95/p99 of the use case (database + holds + slot grid) and of the whole HTTP
//! round trip over loopback, as JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::time::{Duration, Instant};

use chrono::{DateTime, Days, Utc};
use sportello::app::{AvailabilityRequest, Clock, ConfirmRequest, HoldRequest};
use sportello::domain::{Channel, DetailsForm, OfferKey, SlotQuery};
use sportello_bench::percentiles;
use sportello_tests::TestServer;
use sportello_tests::packs::{Office, Pack, Service};

/// Weekday mornings with 3 desks, afternoons but Friday's with 2, 60 days ahead.
fn pack() -> Pack {
    Pack::new("bench", "Benchmark").service(Service::new("visita", "Visita").with("horizon_days = 60")).office(
        Office::new("sede", "Sede", "Via Roma 1", &["visita"]).open(&["fri"], "08:30", "12:30", 3).afternoons(
            &["mon", "tue", "wed", "thu"],
            ("08:30", "12:30", 3),
            ("14:30", "17:00", 2),
        ),
    )
}

const ITERATIONS: usize = 2000;

#[tokio::main]
async fn main() {
    let backend = sportello_bench::backend_from_args().await;
    let backend_name = backend.name;
    let server = TestServer::start(backend).await;
    server.app.apply_pack(&pack().write()).await.expect("bench pack");
    let now: DateTime<Utc> = server.clock.now();
    let from = now.date_naive();
    let to = from.checked_add_days(Days::new(59)).expect("date");
    let offer = OfferKey::parse("visita", "sede", "in_person").expect("offer");
    let request = || AvailabilityRequest { offer: &offer, from: Some(from), to: Some(to) };

    // Book every place of 30% of the slots.
    let all = server.app.availability("bench", request()).await.expect("availability");
    let slots: Vec<_> = all.days.iter().flat_map(|d| d.slots.iter()).collect();
    let booked: Vec<_> = slots.iter().enumerate().filter(|(i, _)| i % 10 < 3).collect();
    let mut bookings = 0;
    for &(index, slot) in &booked {
        for desk in 0..slot.remaining {
            let request = HoldRequest { offer: &offer, start: slot.start, id: None, token: None, client: None };
            let placed = server.app.place_hold("bench", request).await.expect("hold");
            let form = DetailsForm {
                first_name: "Bench".into(),
                last_name: "Mark".into(),
                email: format!("b{index}.{desk}@example.it"),
                phone: "+393330000000".into(),
                privacy_accepted: true,
                ..DetailsForm::default()
            };
            server
                .app
                .confirm(
                    "bench",
                    ConfirmRequest {
                        hold_id: placed.hold.id,
                        hold_token: placed.token,
                        form,
                        idempotency: None,
                        client: None,
                        channel: Channel::Api,
                    },
                )
                .await
                .expect("confirm");
            bookings += 1;
        }
    }
    let free_slots: usize = server
        .app
        .availability("bench", request())
        .await
        .expect("availability")
        .days
        .iter()
        .map(|d| d.slots.len())
        .sum();

    let mut use_case = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let availability = server.app.availability("bench", request()).await.expect("availability");
        use_case.push(started.elapsed());
        assert_eq!(availability.days.iter().map(|d| d.slots.len()).sum::<usize>(), free_slots);
    }
    // The pure part: generating the 60 days of slots, without the database or holds.
    let tenant = server.app.tenant("bench").await.expect("tenant");
    let (service, office) = (&tenant.config.services[0], &tenant.config.offices[0]);
    let query = SlotQuery { service, office, grid_minutes: tenant.config.grid_minutes, now, by_staff: false };
    let mut domain = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let generated = query.slots_between(from, to);
        domain.push(started.elapsed());
        assert_eq!(generated.len(), slots.len());
    }
    let url =
        server.url("bench", &format!("/availability?service=visita&office=sede&mode=in_person&from={from}&to={to}"));
    let mut http: Vec<Duration> = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let response = server.http.get(&url).send().await.expect("GET");
        let body = response.bytes().await.expect("body");
        http.push(started.elapsed());
        assert!(!body.is_empty());
    }
    let report = serde_json::json!({
        "benchmark": "availability",
        "backend": backend_name,
        "days": 60,
        "slots": slots.len(),
        "slots_fully_booked": booked.len(),
        "bookings": bookings,
        "free_slots_returned": free_slots,
        "slot_generation_only": percentiles(&mut domain),
        "use_case": percentiles(&mut use_case),
        "http_round_trip": percentiles(&mut http),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
