//! Shared helpers of the benchmark programs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::time::Duration;

/// p50, p95, p99 and max of `samples`, in microseconds.
pub fn percentiles(samples: &mut [Duration]) -> serde_json::Value {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e6;
    serde_json::json!({
        "samples": samples.len(),
        "p50_us": at(0.50).round(),
        "p95_us": at(0.95).round(),
        "p99_us": at(0.99).round(),
        "max_us": at(1.0).round(),
    })
}

/// The database a benchmark runs on: PostgreSQL when the arguments say `--postgres <server URL>`
/// (a fresh database is made there), else SQLite.
pub async fn backend_from_args() -> sportello_tests::Backend {
    match std::env::args().skip_while(|a| a != "--postgres").nth(1) {
        Some(server) => sportello_tests::Backend::postgres_on(&server).await,
        None => sportello_tests::Backend::sqlite(),
    }
}
