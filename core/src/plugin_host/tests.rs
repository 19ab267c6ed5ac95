//! Hostile and well-behaved modules, written in WAT: each is contained within its budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Datasets, Hook, PluginError, PluginHost, PluginLimits};

const IO: &str = r#"
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "sportello_abi_1"))
  ;; writes `len` bytes at `buf` to stdout
  (func $out (param $buf i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $buf))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
"#;

/// A module with the I/O helpers and `body` as its validate hook; `extra` holds more imports
/// (which WAT wants first) or more functions.
fn plugin(extra: &str, body: &str) -> Vec<u8> {
    let (imports, functions) = if extra.trim_start().starts_with("(import") { (extra, "") } else { ("", extra) };
    wat::parse_str(format!("(module {imports} {IO} {functions} (func (export \"sportello_validate\") {body}))"))
        .unwrap()
}

/// Echoes its input.
fn echo() -> Vec<u8> {
    plugin(
        "",
        r#"(i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 60000))
           (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
           (call $out (i32.const 100) (i32.load (i32.const 8)))"#,
    )
}

fn no_datasets() -> Arc<Datasets> {
    Arc::new(Datasets::new())
}

fn host() -> Arc<PluginHost> {
    PluginHost::new(None).unwrap()
}

fn run(bytes: &[u8], limits: &PluginLimits) -> Result<Vec<u8>, PluginError> {
    let host = host();
    let loaded = host.load("test", bytes)?;
    host.call(&loaded, Hook::Validate, br#"{"hello":"world"}"#, limits, &no_datasets())
}

#[test]
fn a_well_behaved_plugin_reads_stdin_and_writes_stdout() {
    assert_eq!(run(&echo(), &PluginLimits::default()).unwrap(), br#"{"hello":"world"}"#);
}

#[test]
fn modules_are_checked_at_load() {
    let refused = |wat: &str| match host().load("bad", &wat::parse_str(wat).unwrap()) {
        Err(PluginError::Invalid(reason)) => reason,
        other => panic!("accepted: {other:?}"),
    };
    assert!(
        refused(r#"(module (memory (export "memory") 1) (func (export "sportello_validate")))"#)
            .contains("exports no sportello_abi_")
    );
    assert!(refused(r#"(module (memory (export "memory") 1) (func (export "sportello_abi_2")) (func (export "sportello_validate")))"#)
        .contains("version 2 is unknown"));
    assert!(refused(r#"(module (memory (export "memory") 1) (func (export "sportello_abi_1")))"#).contains("no hook"));
    assert!(refused(
        r#"(module (import "env" "socket" (func)) (memory (export "memory") 1) (func (export "sportello_abi_1")) (func (export "sportello_validate")))"#
    )
    .contains("env.socket"));
    assert!(refused(r#"(module (memory (export "memory") 1) (func (export "sportello_abi_1")) (func (export "sportello_validate") (param i32)))"#)
        .contains("without parameters"));
    assert!(matches!(host().load("junk", b"not wasm at all"), Err(PluginError::Invalid(_))));
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let spin = plugin("", "(loop $forever (br $forever))");
    assert!(matches!(run(&spin, &PluginLimits::default()), Err(PluginError::OutOfFuel)));
}

#[test]
fn the_wall_clock_stops_what_fuel_does_not() {
    let spin = plugin("", "(loop $forever (br $forever))");
    let limits = PluginLimits { fuel: u64::MAX / 2, wall: Duration::from_millis(30), ..PluginLimits::default() };
    let started = Instant::now();
    assert!(matches!(run(&spin, &limits), Err(PluginError::Timeout)));
    assert!(started.elapsed() < Duration::from_millis(1_000), "stopped near its deadline: {:?}", started.elapsed());
}

#[test]
fn deep_recursion_traps() {
    let recurse = plugin("(func $down (call $down))", "(call $down)");
    assert!(matches!(run(&recurse, &PluginLimits::default()), Err(PluginError::Trap(_))));
}

#[test]
fn a_memory_bomb_hits_the_cap() {
    // Grows by 64 KiB pages towards 1 GiB; the 16 MiB cap makes the growth trap.
    let bomb = plugin(
        "",
        "(loop $more (drop (memory.grow (i32.const 16))) (br_if $more (i32.lt_u (memory.size) (i32.const 16384))))",
    );
    assert!(matches!(run(&bomb, &PluginLimits::default()), Err(PluginError::Trap(_))));
}

#[test]
fn traps_and_exits_are_told_apart() {
    assert!(matches!(run(&plugin("", "unreachable"), &PluginLimits::default()), Err(PluginError::Trap(_))));
    let exit = r#"(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))"#;
    let clean = plugin(
        exit,
        r#"(i32.store8 (i32.const 200) (i32.const 123)) (call $out (i32.const 200) (i32.const 1)) (call $exit (i32.const 0))"#,
    );
    assert_eq!(run(&clean, &PluginLimits::default()).unwrap(), b"{");
    assert!(matches!(
        run(&plugin(exit, "(call $exit (i32.const 3))"), &PluginLimits::default()),
        Err(PluginError::Trap(_))
    ));
}

#[test]
fn output_and_input_are_capped() {
    let flood = plugin("", "(call $out (i32.const 0) (i32.const 65536)) (call $out (i32.const 0) (i32.const 65536))");
    assert!(matches!(run(&flood, &PluginLimits::default()), Err(PluginError::OutputTooLarge)));
    let host = host();
    let loaded = host.load("echo", &echo()).unwrap();
    let huge = vec![b'x'; 64 * 1024 + 1];
    assert!(matches!(
        host.call(&loaded, Hook::Validate, &huge, &PluginLimits::default(), &no_datasets()),
        Err(PluginError::InputTooLarge)
    ));
}

#[test]
fn no_files_and_no_environment() {
    // path_open answers ENOSYS (52); environ_sizes_get reports nothing. The plugin writes what it saw.
    let imports = r#"
      (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))"#;
    let probe = plugin(
        imports,
        r#"(i32.store8 (i32.const 300) (call $open (i32.const 3) (i32.const 0) (i32.const 400) (i32.const 11) (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 500)))
           (drop (call $env (i32.const 504) (i32.const 508)))
           (i32.store8 (i32.const 301) (i32.load (i32.const 504)))
           (i32.store8 (i32.const 302) (call $clock (i32.const 0) (i64.const 1) (i32.const 512)))
           (call $out (i32.const 300) (i32.const 3))"#,
    );
    assert_eq!(run(&probe, &PluginLimits::default()).unwrap(), [52, 0, 52]);
}

#[test]
fn modules_compile_once_per_hash_and_survive_restarts_on_disk() {
    let dir = std::env::temp_dir().join(format!("sportello-plugin-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = PluginHost::new(Some(dir.clone())).unwrap();
    first.load("a", &echo()).unwrap();
    first.load("b", &echo()).unwrap();
    assert_eq!(first.cache_counters(), (1, 1), "the second load is a hit");
    let restarted = PluginHost::new(Some(dir.clone())).unwrap();
    let loaded = restarted.load("a", &echo()).unwrap();
    assert_eq!(restarted.cache_counters(), (1, 0), "compiled code comes from disk");
    assert!(restarted.call(&loaded, Hook::Validate, b"{}", &PluginLimits::default(), &no_datasets()).is_ok());
    // A damaged cache file is compiled again, not trusted.
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        std::fs::write(entry.path(), b"garbage").unwrap();
    }
    let third = PluginHost::new(Some(dir.clone())).unwrap();
    let loaded = third.load("a", &echo()).unwrap();
    assert_eq!(third.cache_counters(), (0, 1));
    assert_eq!(third.call(&loaded, Hook::Validate, b"ok", &PluginLimits::default(), &no_datasets()).unwrap(), b"ok");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spinning_plugin_does_not_slow_another() {
    let host = host();
    let spin = host.load("spin", &plugin("", "(loop $forever (br $forever))")).unwrap();
    let quick = host.load("quick", &echo()).unwrap();
    let long = PluginLimits { fuel: u64::MAX / 2, wall: Duration::from_millis(400), ..PluginLimits::default() };
    let spinner = {
        let host = host.clone();
        std::thread::spawn(move || host.call(&spin, Hook::Validate, b"{}", &long, &no_datasets()))
    };
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    for _ in 0..20 {
        host.call(&quick, Hook::Validate, b"{}", &PluginLimits::default(), &no_datasets()).unwrap();
    }
    let per_call = started.elapsed() / 20;
    assert!(matches!(spinner.join().unwrap(), Err(PluginError::Timeout)));
    assert!(per_call < Duration::from_millis(20), "{per_call:?} per call while another plugin spins");
}

#[test]
fn plugins_read_datasets_through_the_host() {
    let lookup = r#"(import "sportello" "dataset_lookup" (func $lookup (param i32 i32 i32 i32 i32 i32) (result i32)))"#;
    // "avvisi" at 400, the key at 420; the row goes to 1000; a miss writes the code at 3000.
    let module = plugin(
        &format!(
            r#"{lookup} (data (i32.const 400) "avvisi") (data (i32.const 420) "302000000001234559") (data (i32.const 460) "999")"#
        ),
        r#"(call $out (i32.const 1000) (call $lookup (i32.const 400) (i32.const 6) (i32.const 420) (i32.const 18) (i32.const 1000) (i32.const 2000)))
           (i32.store8 (i32.const 3000) (call $lookup (i32.const 400) (i32.const 6) (i32.const 460) (i32.const 3) (i32.const 1000) (i32.const 2000)))
           (call $out (i32.const 3000) (i32.const 1))"#,
    );
    let table = super::Dataset::from_csv(b"notice,holder\n302000000001234559,RSSMRA85T10A562S\n").unwrap();
    let datasets = Arc::new(Datasets::from([("avvisi".to_owned(), table)]));
    let host = host();
    let loaded = host.load("lookup", &module).unwrap();
    let output = host.call(&loaded, Hook::Validate, b"{}", &PluginLimits::default(), &datasets).unwrap();
    let (row, miss) = output.split_at(output.len() - 1);
    assert_eq!(row, br#"{"holder":"RSSMRA85T10A562S","notice":"302000000001234559"}"#);
    assert_eq!(miss, [0xff], "-1 for an unknown key");
    // Only this host function is offered besides WASI.
    let foreign = r#"(import "sportello" "open_file" (func))"#;
    assert!(
        matches!(host.load("x", &plugin(foreign, "")), Err(PluginError::Invalid(reason)) if reason.contains("sportello.open_file"))
    );
}

/// Every host function called with negative, huge and overflowing pointer/length pairs answers
/// an error code to the guest (EINVAL 28, or -1 for a lookup): the host never panics or reads
/// outside the guest's memory, in debug builds too.
#[test]
fn hostile_pointers_get_errors_not_panics() {
    let imports = r#"
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
      (import "sportello" "dataset_lookup" (func $lookup (param i32 i32 i32 i32 i32 i32) (result i32)))"#;
    // Each answer is stored as one byte from offset 200, then written out.
    let body = r#"
      (i32.store8 (i32.const 200) (call $fd_write (i32.const 1) (i32.const -8) (i32.const 1) (i32.const 24)))
      (i32.store8 (i32.const 201) (call $fd_write (i32.const 1) (i32.const 0) (i32.const -1) (i32.const 24)))
      (i32.store8 (i32.const 202) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 5000) (i32.const 24)))
      (i32.store (i32.const 32) (i32.const -16)) (i32.store (i32.const 36) (i32.const 32))
      (i32.store8 (i32.const 203) (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 24)))
      (i32.store (i32.const 40) (i32.const 65530)) (i32.store (i32.const 44) (i32.const 100))
      (i32.store8 (i32.const 204) (call $fd_read (i32.const 0) (i32.const 40) (i32.const 1) (i32.const 24)))
      (i32.store8 (i32.const 205) (call $fd_read (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -4)))
      (i32.store8 (i32.const 206) (call $args_sizes (i32.const -1) (i32.const 0)))
      (i32.store8 (i32.const 207) (call $random (i32.const 65535) (i32.const 2)))
      (i32.store8 (i32.const 208) (call $random (i32.const 0) (i32.const -1)))
      (i32.store8 (i32.const 209)
        (call $lookup (i32.const -1) (i32.const 5) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 10)))
      (i32.store8 (i32.const 210)
        (call $lookup (i32.const 0) (i32.const -1) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 10)))
      (i32.store8 (i32.const 211)
        (call $lookup (i32.const 2147483647) (i32.const 2147483647) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 10)))
      (call $out (i32.const 200) (i32.const 12))"#;
    let output = run(&plugin(imports, body), &PluginLimits::default()).unwrap();
    assert_eq!(output, [28, 28, 28, 28, 28, 28, 28, 28, 28, 255, 255, 255]);
}
