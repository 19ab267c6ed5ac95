//! How costly a staff login is, and how far login throttling slows a brute-force attack.
//!
//! `cargo run --release -p sportello-bench --bin login`
//! Prints, as JSON: the latency of a right and of a wrong login (argon2id, m = 19 MiB, t = 2) over
//! HTTP on loopback; and, on a simulated clock that an attacker advances by every `Retry-After`,
//! how many password guesses one account, and one address trying many accounts, get in a minute,
//! an hour and a day.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use sportello::domain::Role;
use sportello_bench::percentiles;
use sportello_tests::staff::PASSWORD;
use sportello_tests::{Backend, TestServer};

const SAMPLES: usize = 30;

/// Guesses an attacker gets in `minutes` by trying as soon as `Retry-After` allows; each guess
/// comes from `client` at the account `email(n)`.
async fn guesses(s: &TestServer, minutes: i64, client: &str, email: impl Fn(usize) -> String) -> usize {
    let mut elapsed = TimeDelta::zero();
    let mut checked = 0;
    let mut n = 0;
    while elapsed < TimeDelta::minutes(minutes) {
        let response = s
            .http
            .post(format!("{}/api/v1/admin/session", s.base))
            .header("x-forwarded-for", client)
            .json(&serde_json::json!({"email": email(n), "password": format!("guess {n}")}))
            .send()
            .await
            .unwrap();
        n += 1;
        match response.status().as_u16() {
            401 => checked += 1,
            429 => {
                let wait: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
                s.clock.advance(TimeDelta::seconds(wait));
                elapsed += TimeDelta::seconds(wait);
            }
            other => panic!("unexpected {other}"),
        }
    }
    checked
}

async fn latency(s: &TestServer, email: &str, password: &str, expected: u16) -> Vec<Duration> {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let started = Instant::now();
        let (status, _) = s.try_log_in(email, password, &format!("203.0.113.{i}")).await;
        times.push(started.elapsed());
        assert_eq!(status, expected);
    }
    times
}

#[tokio::main]
async fn main() {
    let s = TestServer::start(Backend::sqlite()).await;
    s.app.create_account("admin@bench.example.it", Role::Platform, None, &[], PASSWORD).await.unwrap();
    let right = percentiles(&mut latency(&s, "admin@bench.example.it", PASSWORD, 201).await);
    // Wrong passwords from fresh addresses at a fresh account each time, so that none is throttled.
    let mut wrong_times = Vec::new();
    let mut unknown_times = Vec::new();
    for i in 0..SAMPLES {
        s.app
            .create_account(&format!("victim{i}@bench.example.it"), Role::Platform, None, &[], PASSWORD)
            .await
            .unwrap();
        let started = Instant::now();
        s.try_log_in(&format!("victim{i}@bench.example.it"), "wrong guess", &format!("198.51.100.{i}")).await;
        wrong_times.push(started.elapsed());
        let started = Instant::now();
        s.try_log_in(&format!("nobody{i}@bench.example.it"), "wrong guess", &format!("192.0.2.{i}")).await;
        unknown_times.push(started.elapsed());
    }
    let wrong = percentiles(&mut wrong_times);
    let unknown = percentiles(&mut unknown_times);

    let mut per_account = serde_json::Map::new();
    let mut per_client = serde_json::Map::new();
    for (label, minutes) in [("minute", 1), ("hour", 60), ("day", 24 * 60)] {
        // A fresh account and address for each horizon, the clock moved on past any memory of the last.
        s.clock.advance(TimeDelta::days(2));
        let account = format!("target-{label}@bench.example.it");
        s.app.create_account(&account, Role::Platform, None, &[], PASSWORD).await.unwrap();
        let target = account.clone();
        let got = guesses(&s, minutes, &format!("10.0.1.{minutes}"), move |_| target.clone()).await;
        per_account.insert(label.into(), got.into());
        s.clock.advance(TimeDelta::days(2));
        let got =
            guesses(&s, minutes, &format!("10.0.2.{minutes}"), |n| format!("spray{minutes}-{n}@bench.example.it"))
                .await;
        per_client.insert(label.into(), got.into());
    }
    let report = serde_json::json!({
        "login": {"right_password": right, "wrong_password": wrong, "unknown_account": unknown},
        "guesses_at_one_account": per_account,
        "guesses_from_one_address_at_many_accounts": per_client,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
