use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use sportello::cli::{Cli, LogFormat};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("SPORTELLO_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let log = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format() {
        // Colours only for a person at a terminal, not for log files and collectors.
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        // The request's span (its id) on every line, so that a quoted error code finds its lines.
        LogFormat::Json => log.json().with_current_span(true).with_span_list(false).init(),
    }
    match cli.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
