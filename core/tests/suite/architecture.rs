//! The layering rules of docs/ARCHITECTURE.md, checked on the source.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Files outside `allowed` (folders or files under src/) that mention `crate_name::`.
fn offenders(crate_name: &str, allowed: &[&str]) -> Vec<String> {
    let needle = format!("{crate_name}::");
    rust_files(&src())
        .into_iter()
        .filter(|path| {
            let relative = path.strip_prefix(src()).unwrap_or(path).to_string_lossy().replace('\\', "/");
            !allowed.iter().any(|a| relative.starts_with(a))
        })
        .filter(|path| {
            // `self::redis::…` names a module of ours, not the crate.
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.match_indices(&needle).any(|(at, _)| !text[..at].ends_with("self::"))
        })
        .map(|path| path.display().to_string())
        .collect()
}

#[test]
fn the_domain_does_no_io_and_knows_no_framework() {
    for forbidden in ["poem", "poem_openapi", "sea_orm", "tokio", "std::fs", "std::net", "reqwest", "tracing"] {
        let needle = format!("{forbidden}::");
        for file in rust_files(&src().join("domain")) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(!text.contains(&needle), "{} uses {forbidden}", file.display());
        }
    }
}

#[test]
fn only_http_knows_poem() {
    assert_eq!(offenders("poem", &["http/", "web/", "server.rs"]), Vec::<String>::new());
    assert_eq!(offenders("poem_openapi", &["http/"]), Vec::<String>::new());
}

#[test]
fn only_store_knows_sea_orm() {
    assert_eq!(offenders("sea_orm", &["store/"]), Vec::<String>::new());
}

#[test]
fn only_the_redis_hold_store_knows_redis() {
    assert_eq!(offenders("redis", &["holds/redis.rs"]), Vec::<String>::new());
}

#[test]
fn only_the_plugin_host_knows_wasmtime() {
    assert_eq!(offenders("wasmtime", &["plugin_host/"]), Vec::<String>::new());
}

#[test]
fn only_calendar_knows_icalendar() {
    assert_eq!(offenders("icalendar", &["calendar.rs"]), Vec::<String>::new());
}

#[test]
fn only_mail_knows_lettre() {
    assert_eq!(offenders("lettre", &["mail/"]), Vec::<String>::new());
}

#[test]
fn only_webhooks_know_reqwest_and_rustls() {
    assert_eq!(offenders("reqwest", &["webhooks/"]), Vec::<String>::new());
    assert_eq!(offenders("rustls", &["webhooks/"]), Vec::<String>::new());
}

#[test]
fn the_pages_never_use_the_api_layer() {
    // `http` composes every route and may use `web`; the other way would be a cycle.
    assert_eq!(offenders("crate::http", &["http/", "server.rs", "lib.rs"]), Vec::<String>::new());
}

#[test]
fn only_store_knows_database_connections() {
    // Use cases get the store's own reader and transaction types, never a raw connection.
    let needle = "ConnectionTrait";
    let outside: Vec<String> = rust_files(&src())
        .into_iter()
        .filter(|path| !path.strip_prefix(src()).unwrap_or(path).starts_with("store"))
        .filter(|path| std::fs::read_to_string(path).unwrap_or_default().contains(needle))
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(outside, Vec::<String>::new());
}

/// Files under src/ (outside `allowed`) whose text contains `needle`.
fn mentioning(needle: &str, allowed: &[&str]) -> Vec<String> {
    rust_files(&src())
        .into_iter()
        .filter(|path| {
            let relative = path.strip_prefix(src()).unwrap_or(path).to_string_lossy().replace('\\', "/");
            !allowed.iter().any(|a| relative.starts_with(a))
        })
        .filter(|path| std::fs::read_to_string(path).unwrap_or_default().contains(needle))
        .map(|path| path.display().to_string())
        .collect()
}

#[test]
fn outages_are_answered_in_one_place() {
    // `outcome.rs` decides that an error is an outage; `http/problem.rs` only renders its status,
    // and `/readyz` reports readiness. No handler hand-writes a 503.
    assert_eq!(mentioning("SERVICE_UNAVAILABLE", &["outcome.rs", "http/mod.rs"]), Vec::<String>::new());
    assert_eq!(mentioning("503", &["outcome.rs", "http/problem.rs"]), Vec::<String>::new());
}

#[test]
fn requests_never_read_files() {
    // Templates, plugins and datasets come from the stored configuration; only the built assets, a
    // pack being applied, the configuration file, the plugin cache and the demo's mailbox (written
    // by the outbox's worker, not a request) touch the disk.
    let allowed = [
        "app/tenants.rs",
        "config.rs",
        "mail/transport.rs",
        "packs/",
        "plugin_host/cache.rs",
        "plugin_host/tests.rs",
        "store/mod.rs",
        "web/assets.rs",
    ];
    assert_eq!(mentioning("std::fs", &allowed), Vec::<String>::new());
}
