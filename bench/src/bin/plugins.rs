//! Per-call cost of plugin hooks, instantiation included, and of loading a module with the
//! compile cache cold (compile) and warm (hit from disk).
//!
//! `cargo run --release -p sportello-bench --bin plugins`
//!
//! Measured on the bundled plugins as the demo tenants ship them (tenants/*/plugins/, built by
//! scripts/build-plugins), with the consortium's `avvisi` dataset and the input the host sends;
//! and on a minimal WAT module that only does the I/O, as the floor of what the host costs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark program: fail loudly

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sportello::plugin_host::{Dataset, Datasets, Hook, Plugin, PluginHost, PluginLimits};
use sportello_bench::percentiles;

const CALLS: usize = 5_000;
const LOADS: usize = 20;

fn tenants() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenants")
}

/// A module that reads its input, looks a key up in a dataset and writes a fixed answer.
fn io_floor_module() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (import "sportello" "dataset_lookup" (func $lookup (param i32 i32 i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 2)
          (data (i32.const 400) "avvisi")
          (data (i32.const 420) "302000000001234559")
          (data (i32.const 500) "{\"ok\":true,\"summary\":[{\"label\":{\"it\":\"Importo\",\"en\":\"Amount\"},\"value\":\"123.45\"}]}")
          (func (export "sportello_abi_1"))
          (func (export "sportello_validate")
            (i32.store (i32.const 0) (i32.const 4096))
            (i32.store (i32.const 4) (i32.const 60000))
            (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
            (drop (call $lookup (i32.const 400) (i32.const 6) (i32.const 420) (i32.const 18) (i32.const 2000) (i32.const 1000)))
            (i32.store (i32.const 16) (i32.const 500))
            (i32.store (i32.const 20) (i32.const 89))
            (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))"#,
    )
    .expect("module")
}

/// `validate` input as the host builds it for the consortium's payment-notice service.
fn notice_input() -> Vec<u8> {
    json!({
        "service": "avvisi-pagamento", "office": "sede-viareggio", "mode": "in_person",
        "slot": {"start": "2026-12-02T07:30:00+00:00", "end": "2026-12-02T08:00:00+00:00", "timezone": "Europe/Rome"},
        "answers": {"notice_number": "302000000001234559"},
        "citizen": {"fiscal_code": "RSSMRA85T10A562S"},
        "locale": "it", "config": {"check_holder": true},
    })
    .to_string()
    .into_bytes()
}

/// Loads `bytes` `LOADS` times with an empty cache directory, and again from a process that
/// finds the compiled code on disk.
fn loads(bytes: &[u8]) -> (Vec<Duration>, Vec<Duration>) {
    let cache = std::env::temp_dir().join(format!("sportello-bench-plugins-{}", std::process::id()));
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..LOADS {
        let _ = std::fs::remove_dir_all(&cache);
        let host = PluginHost::new(Some(cache.clone())).expect("host");
        let started = Instant::now();
        host.load("bench", bytes).expect("load");
        cold.push(started.elapsed());
        let restarted = PluginHost::new(Some(cache.clone())).expect("host");
        let started = Instant::now();
        restarted.load("bench", bytes).expect("load");
        warm.push(started.elapsed());
    }
    let _ = std::fs::remove_dir_all(&cache);
    (cold, warm)
}

/// Calls `hook` `CALLS` times; every answer must contain `expected`.
fn calls(
    host: &PluginHost,
    plugin: &Plugin,
    hook: Hook,
    input: &[u8],
    datasets: &Arc<Datasets>,
    expected: &str,
) -> Vec<Duration> {
    let limits = PluginLimits::default();
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let output = host.call(plugin, hook, input, &limits, datasets).expect("call");
        samples.push(started.elapsed());
        let output = String::from_utf8_lossy(&output);
        assert!(output.contains(expected), "unexpected answer: {output}");
    }
    samples
}

fn main() {
    let avvisi = std::fs::read(tenants().join("cbtoscananord/datasets/avvisi.csv")).expect("dataset");
    let datasets = Arc::new(Datasets::from([("avvisi".to_owned(), Dataset::from_csv(&avvisi).expect("csv"))]));
    let none = Arc::new(Datasets::new());
    let pagopa = std::fs::read(tenants().join("cbtoscananord/plugins/pagopa-notice.wasm")).expect("pagopa module");
    let fiscal = std::fs::read(tenants().join("comune-esempio/plugins/fiscal-code.wasm")).expect("fiscal module");
    let floor = io_floor_module();
    let host = PluginHost::new(None).expect("host");
    let (pagopa_plugin, fiscal_plugin, floor_plugin) = (
        host.load("pagopa-notice", &pagopa).expect("load"),
        host.load("fiscal-code", &fiscal).expect("load"),
        host.load("floor", &floor).expect("load"),
    );

    let lookup =
        br#"{"field":"notice_number","value":"3020 0000 0001 2345 59","locale":"it","config":{"check_holder":true}}"#;
    let mut fiscal_input: serde_json::Value = serde_json::from_slice(&notice_input()).expect("json");
    fiscal_input["config"] = json!({"note_minors": true});
    let fiscal_input = fiscal_input.to_string().into_bytes();

    let mut pagopa_validate = calls(&host, &pagopa_plugin, Hook::Validate, &notice_input(), &datasets, "€ 123,45");
    let mut pagopa_lookup = calls(&host, &pagopa_plugin, Hook::Lookup, lookup, &datasets, "302000000001234559");
    let mut fiscal_validate = calls(&host, &fiscal_plugin, Hook::Validate, &fiscal_input, &none, "10/12/1985");
    let mut floor_validate = calls(&host, &floor_plugin, Hook::Validate, &notice_input(), &datasets, "123.45");
    let (mut pagopa_cold, mut pagopa_warm) = loads(&pagopa);
    let (mut floor_cold, mut floor_warm) = loads(&floor);

    let report = json!({
        "benchmark": "plugins",
        "pagopa_notice": {
            "module_bytes": pagopa.len(),
            "validate_call_including_instantiation": percentiles(&mut pagopa_validate),
            "lookup_call_including_instantiation": percentiles(&mut pagopa_lookup),
            "load_compile_cache_miss": percentiles(&mut pagopa_cold),
            "load_compile_cache_hit_from_disk": percentiles(&mut pagopa_warm),
        },
        "fiscal_code": {
            "module_bytes": fiscal.len(),
            "validate_call_including_instantiation": percentiles(&mut fiscal_validate),
        },
        "io_floor_wat": {
            "validate_call_including_instantiation": percentiles(&mut floor_validate),
            "load_compile_cache_miss": percentiles(&mut floor_cold),
            "load_compile_cache_hit_from_disk": percentiles(&mut floor_warm),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
