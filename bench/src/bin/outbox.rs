//! How fast the outbox delivers, and what writing a message costs a booking.
//!
//! ```sh
//! cargo build --release -p sportello-bench -p sportello-tests --bin outbox --bin smtp-sink
//! target/release/outbox                      # SQLite
//! target/release/outbox --postgres postgres://postgres@127.0.0.1:5432
//! ```
//! Makes 600 bookings (each row owes its confirmation), then queues and delivers the
//! confirmations to a local SMTP server process (`smtp-sink`) as one worker does, and prints, as
//! JSON: messages per second delivered, the p50/p99 of a booking's confirmation request, and the
//! cost of composing one message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::time::{Duration, Instant};

use serde_json::json;
use sportello::mail::SmtpMailer;
use sportello_bench::percentiles;
use sportello_tests::mail::SmtpSink;
use sportello_tests::{Backend, TestServer, citizen_booking};

/// As many as `prova`'s `visita` offers at `sede` within its 30-day horizon.
const BOOKINGS: usize = 600;

/// The `n`-th place of `prova`'s `sede`: three desks, eight half-hour slots a day, national
/// holidays closed.
fn place(n: usize) -> String {
    let (day, slot) = (n / 24, (n % 24) / 3);
    let holidays = ["12-08", "12-25", "12-26", "01-01", "01-06"];
    let date = (0..)
        .map(|d| chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap() + chrono::Days::new(d))
        .filter(|d| !holidays.contains(&d.format("%m-%d").to_string().as_str()))
        .nth(day)
        .unwrap();
    let minutes = 8 * 60 + 30 * slot;
    format!("{date}T{:02}:{:02}:00+01:00", minutes / 60, minutes % 60)
}

/// Makes `BOOKINGS` bookings through the API; the latency of each confirmation request.
async fn book_all(s: &TestServer) -> Vec<Duration> {
    let mut confirm = Vec::with_capacity(BOOKINGS);
    for n in 0..BOOKINGS {
        let (status, hold) = s.hold("prova", "visita", "sede", "in_person", &place(n)).await;
        assert_eq!(status, 201, "{hold}");
        let body = citizen_booking(&hold, &format!("citizen{n}@example.it"));
        let started = Instant::now();
        let (status, booking) = s.post(&s.url("prova", "/bookings"), &body).await;
        confirm.push(started.elapsed());
        assert_eq!(status, 201, "{booking}");
    }
    confirm
}

async fn backend(postgres: Option<&String>) -> Backend {
    match postgres {
        Some(url) => Backend::postgres_on(url).await,
        None => Backend::sqlite(),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let postgres = flag("--postgres");
    let sink_binary = flag("--sink").unwrap_or_else(|| "target/release/smtp-sink".into());

    // The same bookings without messages: what writing the confirmation adds to a booking.
    let bare = TestServer::start_configured(
        backend(postgres.as_ref()).await,
        std::sync::Arc::new(sportello::holds::MemoryHolds::new()),
        sportello_tests::TEST_NOW,
        sportello::app::Sportello::without_mail,
    )
    .await;
    let mut without_mail = book_all(&bare).await;
    drop(bare);

    let s = TestServer::start_with(
        backend(postgres.as_ref()).await,
        std::sync::Arc::new(sportello::holds::MemoryHolds::new()),
        sportello_tests::TEST_NOW,
    )
    .await;
    let mut with_mail = book_all(&s).await;

    let sink = SmtpSink::start(&sink_binary, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    // Queued from the bookings' rows (the worker does this before each claim), then sent.
    let started = Instant::now();
    let mut queued = 0;
    while queued < BOOKINGS {
        queued += s.app.queue_owed_mail().await.unwrap();
    }
    let queueing = started.elapsed();
    let mut delivered = 0;
    while delivered < BOOKINGS {
        delivered += s.deliver_mail(&mailer).await;
    }
    let elapsed = started.elapsed();
    let arrived = sink.messages().len();
    if arrived != BOOKINGS {
        let db = sea_orm::Database::connect(&s.database_url).await.unwrap();
        let backend = sea_orm::ConnectionTrait::get_database_backend(&db);
        let sql = "SELECT state, last_error, COUNT(*) FROM outbox_messages GROUP BY state, last_error";
        let rows =
            sea_orm::ConnectionTrait::query_all_raw(&db, sea_orm::Statement::from_string(backend, sql)).await.unwrap();
        for row in rows {
            let state: String = row.try_get_by_index(0).unwrap();
            let error: Option<String> = row.try_get_by_index(1).unwrap();
            let count: i64 = row.try_get_by_index(2).unwrap();
            eprintln!("{count} {state}: {error:?}");
        }
    }
    assert_eq!(arrived, BOOKINGS, "every message arrived once");
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "backend": s.backend,
            "messages": BOOKINGS,
            "delivery_seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            "of_which_queueing_seconds": (queueing.as_secs_f64() * 1000.0).round() / 1000.0,
            "messages_per_second": (BOOKINGS as f64 / elapsed.as_secs_f64()).round(),
            "confirm_request_with_mail": percentiles(&mut with_mail),
            "confirm_request_without_mail": percentiles(&mut without_mail),
        }))
        .unwrap()
    );
}
