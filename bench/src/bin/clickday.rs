//! The click-day benchmark: 1,000 places open at once and 5,000 citizens arrive together.
//!
//! ```sh
//! cargo build --release -p sportello -p sportello-bench
//! target/release/clickday --mode embedded            # one process, SQLite, holds in process
//! target/release/clickday --mode cluster --postgres postgres://postgres@127.0.0.1:5432
//! target/release/clickday --mode embedded --mail off   # the baseline: no e-mails written
//! ```
//! By default every confirmation goes by e-mail to a local SMTP server (`smtp-sink`, built with
//! `cargo build --release -p sportello-tests --bin smtp-sink`), as in production.
//! Each citizen: availability → hold (on 409 another free slot, up to 5 tries) → confirm.
//! Prints, and writes to `target/clickday-<mode>.json`: confirmed/s, p50/p95/p99 of hold and
//! confirm, 409s and 5xx, the oversold count read from the database afterwards, and with mail
//! on, when the last confirmation e-mail reached the SMTP server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::future::join_all;
use rand::seq::IndexedRandom;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use sportello_bench::percentiles;
use tokio::sync::Semaphore;

const SLOTS: u32 = 20;
const DESKS: u32 = 50;
const TRIES: usize = 5;

fn pack() -> String {
    let day = |d: &str| format!("{d} = [{{ from = \"09:00\", to = \"14:00\", desks = {DESKS} }}]\n");
    let hours: String = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().map(|d| day(d)).collect();
    format!(
        r##"slug = "clickday"
name = "Click day"
privacy_notice_version = "1"
[branding]
primary_color = "#000000"
[limits]
holds_per_client = 2
holds_per_minute = 30
bookings_per_minute = 10
[[services]]
slug = "bonus"
name = {{ it = "Bonus" }}
description = {{ it = "Domanda di bonus" }}
duration_minutes = 15
modes = ["in_person"]
horizon_days = 7
[[offices]]
slug = "sede"
name = "Sede"
address = "Via Roma 1"
modes = ["in_person"]
services = ["bonus"]
national_holidays = false
[offices.hours]
{hours}"##
    )
}

struct Args {
    mode: String,
    citizens: usize,
    connections: usize,
    postgres: String,
    sportello: PathBuf,
    /// `smtp` (to a local SMTP server) or `off`.
    mail: String,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let value = |name: &str| argv.iter().position(|a| a == name).and_then(|i| argv.get(i + 1)).cloned();
    let sibling = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("sportello")));
    Args {
        mode: value("--mode").unwrap_or_else(|| "embedded".into()),
        citizens: value("--citizens").and_then(|v| v.parse().ok()).unwrap_or(5000),
        connections: value("--connections").and_then(|v| v.parse().ok()).unwrap_or(256),
        postgres: value("--postgres").unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into()),
        sportello: value("--sportello").map(PathBuf::from).or(sibling).expect("path of the sportello binary"),
        mail: value("--mail").unwrap_or_else(|| "smtp".into()),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A local SMTP server for the confirmations: its URL and process.
fn start_smtp_sink(args: &Args, dir: &std::path::Path) -> (String, Child) {
    let binary = args.sportello.with_file_name("smtp-sink");
    let mut child = Command::new(&binary)
        .arg("--dir")
        .arg(dir)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start smtp-sink (cargo build --release -p sportello-tests --bin smtp-sink)");
    let line = BufReader::new(child.stdout.take().expect("stdout")).lines().next().expect("a line").expect("line");
    (format!("smtp://{}", line.trim_start_matches("listening on ")), child)
}

fn start_instance(
    args: &Args,
    database: &str,
    redis: Option<&str>,
    packs: &PathBuf,
    smtp: Option<&str>,
) -> (String, Child) {
    let mut command = Command::new(&args.sportello);
    command
        .env("SPORTELLO_LOG", "warn")
        .args([
            "--database-url",
            database,
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--trust-forwarded-for",
            "--tenants-dir",
        ])
        .arg(packs)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(redis) = redis {
        command.args(["--redis-url", redis]);
    }
    match smtp {
        Some(url) => command.args(["--smtp-url", url]),
        None => command.arg("--without-mail"),
    };
    let mut child = command.spawn().expect("start sportello (build it with --release first)");
    let stdout = child.stdout.take().expect("stdout");
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("Sportello is listening on "))
        .expect("listening");
    (line.trim_start_matches("Sportello is listening on ").split_whitespace().next().unwrap_or("").to_owned(), child)
}

#[derive(Default)]
struct Citizen {
    hold_latencies: Vec<Duration>,
    confirm_latencies: Vec<Duration>,
    conflicts: usize,
    /// Confirmations refused although the hold was granted and live: a broken promise.
    held_but_refused: usize,
    server_errors: usize,
    other: usize,
    confirmed_at: Option<Instant>,
}

async fn timed(gate: &Semaphore, request: reqwest::RequestBuilder) -> Option<(u16, Value, Duration)> {
    let _permit = gate.acquire().await.ok()?;
    let started = Instant::now();
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Some((status, body, started.elapsed()))
}

/// The click day: tomorrow in Rome, the only day citizens look at.
fn click_day() -> String {
    let today = Utc::now().with_timezone(&chrono_tz::Europe::Rome).date_naive();
    today.checked_add_days(chrono::Days::new(1)).unwrap_or(today).to_string()
}

async fn citizen(http: reqwest::Client, gate: Arc<Semaphore>, base: String, i: usize) -> Citizen {
    let mut me = Citizen::default();
    let tenant = format!("{base}/api/v1/t/clickday");
    let day = click_day();
    let ip = format!("100.{}.{}.{}", 64 + i / 65536, (i / 256) % 256, i % 256);
    let Some((200, availability, _)) = timed(
        &gate,
        http.get(format!("{tenant}/availability?service=bonus&office=sede&mode=in_person&from={day}&to={day}")),
    )
    .await
    else {
        me.other += 1;
        return me;
    };
    let mut free: Vec<String> = availability["days"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["slots"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["start"].as_str().map(str::to_owned))
        .collect();
    let hold_id = format!("00000000-0000-4000-8000-{i:012}");
    // The citizen's own hold secret, so that moving the hold to another slot keeps its owner.
    let hold_token = format!("clickday-citizen-secret-{i:012}");
    for _ in 0..TRIES {
        let Some(start) = free.choose(&mut rand::rng()).cloned() else { break };
        free.retain(|s| *s != start);
        let body = json!({"service": "bonus", "office": "sede", "mode": "in_person", "start": start, "hold_id": hold_id, "hold_token": hold_token});
        let Some((status, _, latency)) =
            timed(&gate, http.post(format!("{tenant}/holds")).header("X-Forwarded-For", &ip).json(&body)).await
        else {
            me.other += 1;
            return me;
        };
        me.hold_latencies.push(latency);
        match status {
            201 => {}
            409 => {
                me.conflicts += 1;
                continue;
            }
            s if s >= 500 => {
                me.server_errors += 1;
                return me;
            }
            _ => {
                me.other += 1;
                return me;
            }
        }
        let booking = json!({
            "hold_id": hold_id,
            "hold_token": hold_token,
            "citizen": {"first_name": "Citizen", "last_name": format!("N{i}"), "email": format!("c{i}@example.it"), "phone": format!("+39 333 {i:07}")},
            "privacy_accepted": true
        });
        let request = http
            .post(format!("{tenant}/bookings"))
            .header("X-Forwarded-For", &ip)
            .header("Idempotency-Key", format!("c{i}"))
            .json(&booking);
        let Some((status, _, latency)) = timed(&gate, request).await else {
            me.other += 1;
            return me;
        };
        me.confirm_latencies.push(latency);
        match status {
            201 => me.confirmed_at = Some(Instant::now()),
            409 => {
                me.conflicts += 1;
                me.held_but_refused += 1;
            }
            s if s >= 500 => me.server_errors += 1,
            _ => me.other += 1,
        }
        return me;
    }
    me
}

async fn oversold(database: &str) -> (i64, i64) {
    let db = Database::connect(database).await.expect("database");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT starts_at, count(*) AS n FROM bookings WHERE status = 'confirmed' GROUP BY starts_at",
        ))
        .await
        .expect("count");
    let counts: Vec<i64> = rows.iter().map(|r| r.try_get::<i64>("", "n").expect("n")).collect();
    assert!(counts.len() <= SLOTS as usize, "bookings outside the click day's {SLOTS} slots");
    let over = counts.iter().map(|n| (n - i64::from(DESKS)).max(0)).sum();
    (over, counts.iter().sum())
}

/// Waits (up to a minute) until `expected` e-mails are in the sink's folder: how many arrived,
/// and when the last did. The worker steps aside during the rush, so they arrive after it.
async fn all_mail(dir: &std::path::Path, expected: usize) -> (usize, Option<Instant>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let arrived = std::fs::read_dir(dir)
            .map(|entries| {
                entries.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count()
            })
            .unwrap_or(0);
        if arrived >= expected {
            return (arrived, Some(Instant::now()));
        }
        if Instant::now() > deadline {
            return (arrived, None);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    let scratch = std::env::temp_dir().join(format!("sportello-clickday-{}", std::process::id()));
    let packs = scratch.join("packs");
    std::fs::create_dir_all(packs.join("clickday")).expect("packs");
    std::fs::write(packs.join("clickday/tenant.toml"), pack()).expect("pack");
    let mut processes = Processes(Vec::new());
    let smtp = (args.mail != "off").then(|| {
        let (url, sink) = start_smtp_sink(&args, &scratch.join("mail"));
        processes.0.push(sink);
        url
    });
    let (database, bases) = if args.mode == "cluster" {
        let redis_port = free_port();
        let redis = Command::new("redis-server")
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        processes.0.push(redis);
        std::thread::sleep(Duration::from_millis(300));
        let name = format!("sportello_clickday_{}", std::process::id());
        let admin = Database::connect(format!("{}/postgres", args.postgres)).await.expect("PostgreSQL");
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
        let database = format!("{}/{name}", args.postgres);
        let redis_url = format!("redis://127.0.0.1:{redis_port}");
        let mut bases = Vec::new();
        for _ in 0..2 {
            let (base, child) = start_instance(&args, &database, Some(&redis_url), &packs, smtp.as_deref());
            processes.0.push(child);
            bases.push(base);
        }
        (database, bases)
    } else {
        let database = format!("sqlite://{}?mode=rwc", scratch.join("clickday.db").display());
        let (base, child) = start_instance(&args, &database, None, &packs, smtp.as_deref());
        processes.0.push(child);
        (database, vec![base])
    };

    sportello::webhooks::install_tls_provider();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let gate = Arc::new(Semaphore::new(args.connections));
    let started = Instant::now();
    let citizens = (0..args.citizens).map(|i| {
        let base = bases[i % bases.len()].clone();
        tokio::spawn(citizen(http.clone(), gate.clone(), base, i))
    });
    let results: Vec<Citizen> = join_all(citizens).await.into_iter().map(|r| r.expect("citizen task")).collect();
    let elapsed = started.elapsed();

    let confirmed = results.iter().filter(|c| c.confirmed_at.is_some()).count();
    let last_confirm = results.iter().filter_map(|c| c.confirmed_at).max().map_or(elapsed, |t| t - started);
    let mut holds: Vec<Duration> = results.iter().flat_map(|c| c.hold_latencies.clone()).collect();
    let mut confirms: Vec<Duration> = results.iter().flat_map(|c| c.confirm_latencies.clone()).collect();
    let (oversold, stored) = oversold(&database).await;
    let mails = if smtp.is_some() {
        let arrived = all_mail(&scratch.join("mail"), confirmed).await;
        json!({"delivered": arrived.0, "seconds_to_last_email": arrived.1.map(|t| (t - started).as_secs_f64())})
    } else {
        Value::Null
    };
    let report = json!({
        "benchmark": "clickday",
        "mode": args.mode,
        "mail": args.mail,
        "instances": bases.len(),
        "places": SLOTS * DESKS,
        "citizens": args.citizens,
        "client_connections": args.connections,
        "confirmed": confirmed,
        "confirmed_in_database": stored,
        "seconds_to_last_confirmation": last_confirm.as_secs_f64(),
        "confirmed_per_second": confirmed as f64 / last_confirm.as_secs_f64(),
        "seconds_total": elapsed.as_secs_f64(),
        "hold": percentiles(&mut holds),
        "confirm": percentiles(&mut confirms),
        "conflicts_409": results.iter().map(|c| c.conflicts).sum::<usize>(),
        "held_but_refused": results.iter().map(|c| c.held_but_refused).sum::<usize>(),
        "server_errors_5xx": results.iter().map(|c| c.server_errors).sum::<usize>(),
        "other_failures": results.iter().map(|c| c.other).sum::<usize>(),
        "oversold": oversold,
        "confirmation_emails": mails,
        "measured_at": Utc::now().to_rfc3339(),
    });
    let text = serde_json::to_string_pretty(&report).expect("json");
    println!("{text}");
    let out = PathBuf::from("target").join(format!("clickday-{}-mail-{}.json", args.mode, args.mail));
    if std::fs::write(&out, &text).is_ok() {
        eprintln!("written to {}", out.display());
    }
    drop(processes);
    let _ = std::fs::remove_dir_all(&scratch);
    if let Some(name) = database.strip_prefix(&format!("{}/", args.postgres))
        && let Ok(admin) = Database::connect(format!("{}/postgres", args.postgres)).await
    {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await;
    }
}
