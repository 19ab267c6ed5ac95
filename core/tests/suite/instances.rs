//! Several `sportello serve` processes over one PostgreSQL database and one Redis behave as one
//! service, and stay correct when Redis is flushed, stopped, or an instance is killed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::support::{Instance, PrivateRedis, confirmed, fresh_database, packs_dir, services};
use chrono::{Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Rome;
use futures::future::join_all;
use serde_json::{Value, json};

/// Every day 10:00–13:00, 15-minute slots with 5 desks each; holds last ten seconds (so that a
/// test can watch them expire); no limits (the load comes from one machine).
const CLICK_DAY: &str = r##"
slug = "clickday"
name = "Click day"
privacy_notice_version = "1"
hold_seconds = 10
[branding]
primary_color = "#000000"
[limits]
holds_per_client = 0
holds_per_minute = 0
bookings_per_minute = 0
[[services]]
slug = "bonus"
name = { it = "Bonus" }
description = { it = "Domanda di bonus" }
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
mon = [{ from = "10:00", to = "13:00", desks = 5 }]
tue = [{ from = "10:00", to = "13:00", desks = 5 }]
wed = [{ from = "10:00", to = "13:00", desks = 5 }]
thu = [{ from = "10:00", to = "13:00", desks = 5 }]
fri = [{ from = "10:00", to = "13:00", desks = 5 }]
sat = [{ from = "10:00", to = "13:00", desks = 5 }]
sun = [{ from = "10:00", to = "13:00", desks = 5 }]
"##;

const DESKS: i64 = 5;

/// Tomorrow's slot `n` (0 = 10:00, 1 = 10:15, …) in Rome, as RFC 3339.
fn slot(n: u32) -> String {
    let tomorrow = Utc::now().with_timezone(&Rome).date_naive().checked_add_days(Days::new(1)).expect("date");
    let time = NaiveTime::from_hms_opt(10 + n / 4, (n % 4) * 15, 0).expect("time");
    Rome.from_local_datetime(&tomorrow.and_time(time)).single().expect("local time").to_rfc3339()
}

#[derive(Debug, Default)]
struct Tally {
    statuses: BTreeMap<u16, usize>,
    codes: Vec<String>,
    transport_errors: usize,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Status(status, code) => {
                *self.statuses.entry(status).or_default() += 1;
                self.codes.extend(code);
            }
            Outcome::Transport => self.transport_errors += 1,
        }
    }

    fn merge(&mut self, other: Tally) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.codes.extend(other.codes);
        self.transport_errors += other.transport_errors;
    }

    fn server_errors(&self) -> usize {
        self.statuses.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum()
    }
}

#[derive(Debug)]
enum Outcome {
    /// The final status of the attempt (the hold's if it failed, else the confirmation's).
    Status(u16, Option<String>),
    Transport,
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> Result<(u16, Value), reqwest::Error> {
    let response = http.post(url).json(&body).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// Citizen `i`'s own hold id: a retry of the same citizen is the same hold.
fn hold_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// Citizen `i`'s own hold secret, sent with every hold request so that a retry proves ownership.
fn hold_token(i: usize) -> String {
    format!("instances-citizen-secret-{i:012}")
}

/// Hold then confirm slot `n` through `base`, as citizen `i`, as a well-behaved client does:
/// with its own hold id and an Idempotency-Key, so that a retry elsewhere is the same request.
async fn attempt(http: &reqwest::Client, base: &str, n: u32, i: usize) -> Outcome {
    let tenant = format!("{base}/api/v1/t/clickday");
    let hold = json!({"service": "bonus", "office": "sede", "mode": "in_person", "start": slot(n), "hold_id": hold_id(i), "hold_token": hold_token(i)});
    let Ok((status, _)) = post(http, format!("{tenant}/holds"), hold).await else { return Outcome::Transport };
    if status != 201 {
        return Outcome::Status(status, None);
    }
    confirm(http, base, &hold_id(i), i).await
}

/// As `attempt`, but a step cut by a dying `primary` is repeated on `fallback` with the same hold id
/// and Idempotency-Key, as a client behind a load balancer does: a confirmation the dead instance
/// committed is then replayed, not lost.
async fn attempt_with_failover(http: &reqwest::Client, primary: &str, fallback: &str, n: u32, i: usize) -> Outcome {
    let hold = json!({"service": "bonus", "office": "sede", "mode": "in_person", "start": slot(n), "hold_id": hold_id(i), "hold_token": hold_token(i)});
    let mut status = None;
    for base in [primary, fallback] {
        if let Ok((answer, _)) = post(http, format!("{base}/api/v1/t/clickday/holds"), hold.clone()).await {
            status = Some(answer);
            break;
        }
    }
    match status {
        None => Outcome::Transport,
        Some(201) => match confirm(http, primary, &hold_id(i), i).await {
            Outcome::Transport => confirm(http, fallback, &hold_id(i), i).await,
            done => done,
        },
        Some(other) => Outcome::Status(other, None),
    }
}

async fn confirm(http: &reqwest::Client, base: &str, hold_id: &str, i: usize) -> Outcome {
    let booking = json!({
        "hold_id": hold_id,
        "hold_token": hold_token(i),
        "citizen": {"first_name": "Citizen", "last_name": format!("N{i}"), "email": format!("c{i}@example.it"), "phone": format!("+39 333 {i:07}")},
        "privacy_accepted": true
    });
    let request =
        http.post(format!("{base}/api/v1/t/clickday/bookings")).header("Idempotency-Key", format!("citizen-{i}"));
    match request.json(&booking).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            Outcome::Status(status, body["code"].as_str().map(|c| c.replace('-', "")))
        }
        Err(_) => Outcome::Transport,
    }
}

/// Runs `count` attempts at once over slots `first..first + slots`, alternating instances.
async fn wave(http: &reqwest::Client, bases: &[String], first: u32, slots: u32, count: usize, offset: usize) -> Tally {
    let attempts = (0..count).map(|i| {
        let base = bases[i % bases.len()].clone();
        async move { attempt(http, &base, first + (i as u32 % slots), offset + i).await }
    });
    let mut tally = Tally::default();
    for outcome in join_all(attempts).await {
        tally.add(outcome);
    }
    tally
}

/// A wave of `count`, then, if it left places unsold, a second one of 40 latecomers. Under load a
/// granted hold can be given up (the ledger kept changing while it was counted: the place is not
/// promised), and its place waits for the next citizen; a phase must still sell every place, once.
async fn sell_out(
    http: &reqwest::Client,
    bases: &[String],
    (first, slots): (u32, u32),
    count: usize,
    offset: usize,
) -> Tally {
    let mut tally = wave(http, bases, first, slots, count, offset).await;
    if tally.statuses.get(&201).copied().unwrap_or(0) < 20 {
        tally.merge(wave(http, bases, first, slots, 40, offset + 500).await);
    }
    tally
}

/// Zero oversold and zero lost: no slot over its desks, and every code a client got is confirmed.
async fn assert_consistent(database_url: &str, tallies: &[&Tally]) {
    let (per_slot, stored) = confirmed(database_url).await;
    assert!(per_slot.iter().all(|(_, n)| *n <= DESKS), "oversold: {per_slot:?}");
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let seen: BTreeSet<String> = tallies.iter().flat_map(|t| t.codes.iter().cloned()).collect();
    assert_eq!(seen, stored, "every 201 the clients saw is in the database, and nothing else");
    for tally in tallies {
        assert_eq!(tally.server_errors(), 0, "{tally:?}");
    }
}

fn client() -> reqwest::Client {
    sportello::webhooks::install_tls_provider();
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sell_each_place_once() {
    let Some((postgres, _)) = services() else { return };
    // A Redis of the test's own: instances use the production key prefix.
    let redis = PrivateRedis::start();
    let database = fresh_database(&postgres).await;
    let packs = packs_dir("clickday", CLICK_DAY);
    let (a, b) = (Instance::start(&database, &redis.url(), &packs), Instance::start(&database, &redis.url(), &packs));
    let http = client();
    // 300 citizens, half through each instance, for 4 slots × 5 desks (and latecomers for a place
    // given up under load).
    let tally = sell_out(&http, &[a.base.clone(), b.base.clone()], (0, 4), 300, 0).await;
    let attempts: usize = tally.statuses.values().sum();
    assert_eq!(tally.transport_errors, 0);
    assert_eq!(tally.statuses.get(&201), Some(&20), "{tally:?}");
    assert_eq!(tally.statuses.get(&409), Some(&(attempts - 20)), "every loser gets a clean 409: {tally:?}");
    assert_consistent(&database, &[&tally]).await;
    let (per_slot, _) = confirmed(&database).await;
    assert_eq!(per_slot.len(), 4);
    assert!(per_slot.iter().all(|(_, n)| *n == DESKS), "{per_slot:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_flushed_mid_race() {
    let Some((postgres, _)) = services() else { return };
    let mut redis = PrivateRedis::start();
    let database = fresh_database(&postgres).await;
    let packs = packs_dir("clickday", CLICK_DAY);
    let instances =
        [Instance::start(&database, &redis.url(), &packs), Instance::start(&database, &redis.url(), &packs)];
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let http = client();

    // Citizens hold every place, then Redis forgets everything before they confirm.
    let holds = join_all((0..40).map(|i| {
        let (http, base) = (&http, bases[i % 2].clone());
        async move {
            let body = json!({"service": "bonus", "office": "sede", "mode": "in_person", "start": slot(i as u32 % 4)});
            post(http, format!("{base}/api/v1/t/clickday/holds"), body).await.ok()
        }
    }))
    .await;
    let held: Vec<String> = holds
        .iter()
        .flatten()
        .filter(|(s, _)| *s == 201)
        .map(|(_, h)| h["hold_id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(held.len(), 20);
    let mut connection = redis::Client::open(redis.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("FLUSHALL").query_async(&mut connection).await.unwrap();

    // The first citizens confirm while 150 newcomers race for the same places.
    let late_confirms = held.iter().enumerate().map(|(i, id)| {
        let (http, base) = (&http, bases[i % 2].clone());
        async move { confirm(http, &base, id, 10_000 + i).await }
    });
    let (confirms, newcomers) = tokio::join!(join_all(late_confirms), wave(&http, &bases, 0, 4, 150, 20_000));
    let mut first = Tally::default();
    confirms.into_iter().for_each(|o| first.add(o));
    assert_eq!(first.transport_errors + newcomers.transport_errors, 0);
    assert_consistent(&database, &[&first, &newcomers]).await;
    let (per_slot, _) = confirmed(&database).await;
    assert_eq!(per_slot.iter().map(|(_, n)| n).sum::<i64>(), 20, "the places are all sold, once: {per_slot:?}");
    redis.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_stopped_and_restarted_mid_run() {
    let Some((postgres, _)) = services() else { return };
    let mut redis = PrivateRedis::start();
    let database = fresh_database(&postgres).await;
    let packs = packs_dir("clickday", CLICK_DAY);
    let instances =
        [Instance::start(&database, &redis.url(), &packs), Instance::start(&database, &redis.url(), &packs)];
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let http = client();

    let before = sell_out(&http, &bases, (0, 4), 100, 0).await;
    redis.stop();
    // Degraded: each instance keeps its own holds; the database still sells each place once.
    let during = sell_out(&http, &bases, (4, 4), 100, 1_000).await;
    for base in &bases {
        let ready: Value = http.get(format!("{base}/readyz")).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            (ready["status"].as_str(), ready["checks"]["holds"].as_str()),
            (Some("ready"), Some("degraded")),
            "{ready}"
        );
    }
    redis.restart();
    let after = sell_out(&http, &bases, (8, 4), 100, 2_000).await;
    for base in &bases {
        let ready: Value = http.get(format!("{base}/readyz")).send().await.unwrap().json().await.unwrap();
        assert_eq!(ready["checks"]["holds"].as_str(), Some("ok"), "recovered: {ready}");
    }
    for tally in [&before, &during, &after] {
        assert_eq!(tally.transport_errors, 0);
        assert_eq!(tally.statuses.get(&201), Some(&20), "each wave sells its 20 places: {tally:?}");
    }
    assert_consistent(&database, &[&before, &during, &after]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_run() {
    let Some((postgres, _)) = services() else { return };
    let redis = PrivateRedis::start();
    let database = fresh_database(&postgres).await;
    let packs = packs_dir("clickday", CLICK_DAY);
    let survivor = Instance::start(&database, &redis.url(), &packs);
    let mut victim = Instance::start(&database, &redis.url(), &packs);
    let bases = [survivor.base.clone(), victim.base.clone()];
    let http = client();

    // The victim holds three places of slot 8 (10:00 + 2 h) that nobody confirms (ids no citizen
    // of the race uses).
    for i in 0..3 {
        let body = json!({"service": "bonus", "office": "sede", "mode": "in_person", "start": slot(8), "hold_id": format!("00000000-0000-4000-8000-90000000000{i}")});
        assert_eq!(post(&http, format!("{}/api/v1/t/clickday/holds", victim.base), body).await.unwrap().0, 201);
    }
    // A race over both instances; the victim dies in the middle of it. A citizen whose request
    // was cut repeats that step on the survivor, as a load balancer would send them.
    let race = async {
        let attempts = (0..300).map(|i| {
            let (http, bases) = (&http, &bases);
            attempt_with_failover(http, &bases[i % 2], &bases[0], i as u32 % 4, i)
        });
        join_all(attempts).await
    };
    let kill = async {
        tokio::time::sleep(Duration::from_millis(40)).await;
        victim.kill();
    };
    let (outcomes, ()) = tokio::join!(race, kill);
    let mut tally = Tally::default();
    outcomes.into_iter().for_each(|o| tally.add(o));
    assert_eq!(tally.transport_errors, 0, "the survivor answered every retry");
    // At the very end of a race a recount may refuse the last place while a booking is counted
    // twice (committed, its hold not yet dropped); citizens who come a moment later find it, as
    // in `sell_out`.
    if tally.statuses.get(&201).copied().unwrap_or(0) < 20 {
        tally.merge(wave(&http, &bases[..1], 0, 4, 40, 500).await);
    }
    assert_eq!(tally.statuses.get(&201), Some(&20), "{tally:?}");
    assert_consistent(&database, &[&tally]).await;

    // The dead instance's holds are in Redis until they expire (ten seconds), then the places return.
    let availability =
        format!("{}/api/v1/t/clickday/availability?service=bonus&office=sede&mode=in_person", survivor.base);
    let remaining = |body: &Value| {
        body["days"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|d| d["slots"].as_array().cloned().unwrap_or_default())
            .find(|s| s["start"] == slot(8))
            .and_then(|s| s["remaining"].as_u64())
    };
    let body: Value = http.get(&availability).send().await.unwrap().json().await.unwrap();
    assert_eq!(remaining(&body), Some(2), "three of five places are still held");
    tokio::time::sleep(Duration::from_secs(11)).await;
    let body: Value = http.get(&availability).send().await.unwrap().json().await.unwrap();
    assert_eq!(remaining(&body), Some(5), "the dead instance's holds expired");
}
