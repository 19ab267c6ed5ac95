//! The plumbing of one hook call: JSON from stdin, the rule, JSON to stdout.

use std::io::{Read, Write};

use serde::de::DeserializeOwned;

use crate::Verdict;

/// Reads the hook's input, runs `rule` and writes its verdict. Input the host would never send
/// ends the call with exit code 1, which the host reports as the rule being unavailable.
pub fn serve<I: DeserializeOwned>(rule: impl FnOnce(I) -> Verdict) {
    let mut input = Vec::new();
    if std::io::stdin().read_to_end(&mut input).is_err() {
        std::process::exit(1);
    }
    let input = match serde_json::from_slice(&input) {
        Ok(input) => input,
        Err(_) => std::process::exit(1),
    };
    let verdict = rule(input);
    let mut stdout = std::io::stdout();
    // A reactor never exits, so Rust's line-buffered stdout must be flushed by hand.
    let written = serde_json::to_writer(&mut stdout, &verdict).is_ok() && stdout.flush().is_ok();
    if !written {
        std::process::exit(1);
    }
}
