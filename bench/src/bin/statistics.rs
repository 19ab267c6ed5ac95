//! Statistics of a busy year: 100,000 bookings at two offices, three services.
//!
//! `cargo run --release -p sportello-bench --bin statistics [-- --postgres postgres://postgres@127.0.0.1:5432]`
//! Prints, as JSON, p50/p95/p99 of the year's statistics in the admin API (the grouped queries,
//! the report, the JSON) and of the statistics page (charts and tables rendered), each a whole
//! HTTP round trip over loopback. The year is written straight into the database (what is
//! measured is reading it): every booking over and done with, served, missed or cancelled, made
//! online, through the API, at the counter or by phone, up to six weeks ahead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait, Value};
use sportello::domain::Role;
use sportello_bench::percentiles;
use sportello_tests::TestServer;
use sportello_tests::packs::{Office, Pack, Service};

const BOOKINGS: usize = 100_000;
const ITERATIONS: usize = 30;
const ROWS_PER_INSERT: usize = 400;
const SERVICES: [&str; 3] = ["anagrafe", "tributi", "tecnico"];
const OFFICES: [&str; 2] = ["centro", "nord"];

/// Two offices open on weekdays 08:00–18:00 with 6 desks: room for the year's bookings.
fn pack() -> Pack {
    let office = |slug: &str, name: &str| {
        Office::new(slug, name, "Via Roma 1", &SERVICES).open(&["mon", "tue", "wed", "thu", "fri"], "08:00", "18:00", 6)
    };
    let mut pack = Pack::new("bench", "Benchmark").unlimited();
    for service in SERVICES {
        pack = pack.service(Service::new(service, service).duration(20));
    }
    pack.office(office("centro", "Centro")).office(office("nord", "Nord")).setting("grid_minutes = 10")
}

/// Columns written for each booking, in this order.
const COLUMNS: &str = "tenant_id, code, status, service, office, mode, starts_at, ends_at, timezone, first_name, \
     last_name, email, phone, answers, locale, privacy_version, revision, channel, checked_in_at, called_at, \
     completed_at, created_at, updated_at";

/// A year of bookings on weekdays at the two offices, drawn from a fixed seed.
async fn write_year(database_url: &str, tenant: i32, today: DateTime<Utc>) {
    let db = Database::connect(database_url).await.expect("database");
    let backend = db.get_database_backend();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let rome = chrono_tz::Europe::Rome;
    let first_day = (today - TimeDelta::days(365)).with_timezone(&rome).date_naive();
    let weekdays: Vec<_> =
        first_day.iter_days().take(365).filter(|d| chrono::Datelike::weekday(d).number_from_monday() <= 5).collect();
    let columns = COLUMNS.split(',').count();
    let mut written = 0;
    while written < BOOKINGS {
        let rows = ROWS_PER_INSERT.min(BOOKINGS - written);
        let mut values: Vec<Value> = Vec::with_capacity(rows * columns);
        let mut tuples = Vec::with_capacity(rows);
        for n in written..written + rows {
            let day = weekdays[rng.random_range(0..weekdays.len())];
            let minutes = rng.random_range(0..30) * 20;
            let local = day.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap()) + TimeDelta::minutes(minutes);
            let start = rome.from_local_datetime(&local).earliest().unwrap().to_utc();
            let created = start - TimeDelta::minutes(rng.random_range(0..42 * 24 * 60));
            let outcome = rng.random_range(0..100);
            let status = match outcome {
                0..10 => "cancelled",
                10..17 => "no_show",
                _ => "completed",
            };
            let channel = ["web", "web", "web", "api", "counter", "phone"][rng.random_range(0..6)];
            let (checked_in, called, completed) = match status {
                "completed" => {
                    let checked_in = start - TimeDelta::minutes(rng.random_range(0..15));
                    let called = start + TimeDelta::minutes(rng.random_range(0..40));
                    (Some(checked_in), Some(called), Some(called + TimeDelta::minutes(rng.random_range(3..35))))
                }
                _ => (None, None, None),
            };
            let row: [Value; 23] = [
                tenant.into(),
                format!("B{n:09}").into(),
                status.into(),
                SERVICES[n % SERVICES.len()].into(),
                OFFICES[(n / 7) % OFFICES.len()].into(),
                "in_person".into(),
                start.into(),
                (start + TimeDelta::minutes(20)).into(),
                "Europe/Rome".into(),
                "Cittadina".into(),
                format!("Numero {n}").into(),
                format!("c{n}@example.it").into(),
                "+39 333 0000000".into(),
                "{}".into(),
                "it".into(),
                "1".into(),
                0i32.into(),
                channel.into(),
                checked_in.into(),
                called.into(),
                completed.into(),
                created.into(),
                created.into(),
            ];
            let first = values.len();
            values.extend(row);
            let holders: Vec<String> = (first + 1..=values.len())
                .map(|i| if backend == DbBackend::Postgres { format!("${i}") } else { format!("?{i}") })
                .collect();
            tuples.push(format!("({})", holders.join(", ")));
        }
        let sql = format!("INSERT INTO bookings ({COLUMNS}) VALUES {}", tuples.join(", "));
        let tx = db.begin().await.expect("begin");
        tx.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.expect("insert");
        tx.commit().await.expect("commit");
        written += rows;
    }
    // As autovacuum would have by then: statistics for the planner, and the visibility map that
    // lets PostgreSQL answer from the index alone.
    if backend == DbBackend::Postgres {
        db.execute_unprepared("VACUUM ANALYZE bookings").await.expect("vacuum");
    }
}

async fn timed(server: &TestServer, url: &str, header: (&str, String)) -> (Vec<Duration>, String) {
    let mut samples = Vec::with_capacity(ITERATIONS);
    let mut body = String::new();
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let response = server.http.get(url).header(header.0, header.1.clone()).send().await.expect("GET");
        assert_eq!(response.status().as_u16(), 200);
        body = response.text().await.expect("body");
        samples.push(started.elapsed());
    }
    (samples, body)
}

#[tokio::main]
async fn main() {
    let backend = sportello_bench::backend_from_args().await;
    let backend_name = backend.name;
    let server = TestServer::start(backend).await;
    server.app.apply_pack(&pack().write()).await.expect("bench pack");
    let tenant = server.app.tenant("bench").await.expect("tenant").id.get();
    let seeding = Instant::now();
    write_year(&server.database_url, tenant, server.app.now()).await;
    let seeded_in = seeding.elapsed();
    let admin = server.staff("admin@bench.example.it", Role::TenantAdmin, Some("bench"), &[]).await;

    let today = server.app.now().with_timezone(&chrono_tz::Europe::Rome).date_naive();
    let period = format!("from={}&to={today}", today - TimeDelta::days(365));
    let api_url = format!("{}/api/v1/admin/t/bench/statistics?{period}", server.base);
    let (mut api, body) = timed(&server, &api_url, ("authorization", admin.bearer())).await;
    let document: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(document["total"]["made"].as_u64(), Some(BOOKINGS as u64), "every booking counted");
    let page_url = format!("{}/admin/t/bench/statistics?{period}", server.base);
    let (mut page, html) = timed(&server, &page_url, ("cookie", admin.cookie())).await;
    assert!(html.contains("<svg class=\"chart\""));

    let report = serde_json::json!({
        "benchmark": "statistics of a year",
        "backend": backend_name,
        "bookings": BOOKINGS,
        "seeded_in_ms": seeded_in.as_millis(),
        "api": percentiles(&mut api),
        "page": percentiles(&mut page),
        "page_bytes": html.len(),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
