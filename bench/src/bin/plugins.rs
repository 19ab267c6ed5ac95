//! Per-call cost of a plugin hook, instantiation included, and of loading a module with the
//! compile cache cold (compile) and warm (hit).
//!
//! `cargo run --release -p sportello-bench --bin plugins`
//!
//! The module reads its JSON input, looks a key up in a tenant dataset through the host and
//! writes a JSON answer: the I/O shape of a real rule, without its parsing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sportello::plugin_host::{Dataset, Datasets, Hook, PluginHost, PluginLimits};
use sportello_bench::percentiles;

const ITERATIONS: usize = 5_000;

fn module() -> Vec<u8> {
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

fn main() {
    let bytes = module();
    let input = br#"{"service":"avvisi-pagamento","office":"sede","mode":"in_person","slot":{"start":"2026-12-02T08:00:00+01:00"},"answers":{"notice_number":"302000000001234559"},"citizen":{"fiscal_code":"RSSMRA85T10A562S"},"config":{"check_holder":true}}"#;
    let table =
        Dataset::from_csv(b"notice,holder,amount\n302000000001234559,RSSMRA85T10A562S,123.45\n").expect("dataset");
    let datasets = Arc::new(Datasets::from([("avvisi".to_owned(), table)]));

    let cache = std::env::temp_dir().join(format!("sportello-bench-plugins-{}", std::process::id()));
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..20 {
        let _ = std::fs::remove_dir_all(&cache);
        let host = PluginHost::new(Some(cache.clone())).expect("host");
        let started = Instant::now();
        host.load("bench", &bytes).expect("load");
        cold.push(started.elapsed());
        // A new process over the same cache directory: compiled code comes from disk.
        let restarted = PluginHost::new(Some(cache.clone())).expect("host");
        let started = Instant::now();
        restarted.load("bench", &bytes).expect("load");
        warm.push(started.elapsed());
    }
    let host = PluginHost::new(None).expect("host");
    let plugin = host.load("bench", &bytes).expect("load");
    let limits = PluginLimits::default();
    let mut calls: Vec<Duration> = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let output = host.call(&plugin, Hook::Validate, input, &limits, &datasets).expect("call");
        calls.push(started.elapsed());
        assert!(output.starts_with(b"{\"ok\":true"));
    }
    let _ = std::fs::remove_dir_all(&cache);
    let report = serde_json::json!({
        "benchmark": "plugins",
        "validate_call_including_instantiation": percentiles(&mut calls),
        "load_compile_cache_miss": percentiles(&mut cold),
        "load_compile_cache_hit_from_disk": percentiles(&mut warm),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
