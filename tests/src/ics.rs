//! Calendar files read back by an independent parser: Python's `icalendar` package, run by
//! `tests/python/ics_check.py` from the virtual environment `scripts/test` prepares
//! (`SPORTELLO_TEST_PYTHON`). Under `CI=true` a missing one fails the test.

use std::io::Write;
use std::process::{Command, Stdio};

/// What a calendar program takes from `ics` (method, zones, events with UTC instants resolved
/// through the file's own `VTIMEZONE`), or `None` when no checker is installed outside CI.
pub fn read_calendar(ics: &str) -> Option<serde_json::Value> {
    let python = test_python()?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/ics_check.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the calendar checker");
    child.stdin.take().expect("stdin").write_all(ics.as_bytes()).expect("write the calendar");
    let out = child.wait_with_output().expect("checker output");
    assert!(out.status.success(), "the calendar is refused: {}\n{ics}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).expect("checker JSON"))
}

/// The Python of the tests' virtual environment; `None` (said loudly) outside CI without one.
pub fn test_python() -> Option<String> {
    let Ok(python) = std::env::var("SPORTELLO_TEST_PYTHON") else {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "CI=true needs SPORTELLO_TEST_PYTHON (scripts/test sets it up)"
        );
        eprintln!("SKIPPED: this test needs SPORTELLO_TEST_PYTHON (see scripts/test)");
        return None;
    };
    Some(python)
}
