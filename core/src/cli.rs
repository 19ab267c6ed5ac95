//! The `sportello` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::AppError;
use crate::config::{ConfigError, FileConfig, Overrides, Settings};
use crate::server;
use crate::store::StoreError;

#[derive(Parser, Debug)]
#[command(name = "sportello", version, about = "Appointment booking for public bodies")]
pub struct Cli {
    /// Database URL: sqlite://path?mode=rwc (default, under ./data/) or postgres://…
    #[arg(long, global = true, env = "SPORTELLO_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML file with database_url, bind and tenants_dir.
    #[arg(long, global = true, env = "SPORTELLO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs the server (migrating the database first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "SPORTELLO_BIND")]
        bind: Option<String>,
        /// Applies every tenant pack under the tenants folder before serving.
        #[arg(long)]
        demo: bool,
        /// Folder of tenant packs used by --demo.
        #[arg(long, env = "SPORTELLO_TENANTS_DIR")]
        tenants_dir: Option<PathBuf>,
        /// Folder of the built page assets (scripts/build-assets writes core/web/dist).
        #[arg(long, env = "SPORTELLO_ASSETS_DIR")]
        assets_dir: Option<PathBuf>,
        /// Keep holds in Redis (redis://host:port) so that several instances share them.
        #[arg(long, env = "SPORTELLO_REDIS_URL")]
        redis_url: Option<String>,
        /// Identify clients by the first X-Forwarded-For hop, for the anti-hoarding limits.
        /// Only behind a reverse proxy that sets the header.
        #[arg(long, env = "SPORTELLO_TRUST_FORWARDED_FOR")]
        trust_forwarded_for: bool,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Manages tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
}

#[derive(Subcommand, Debug)]
enum TenantCommand {
    /// Creates or updates a tenant from a pack folder, reporting what changed.
    Apply { dir: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Start(#[from] server::StartError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

impl Cli {
    pub async fn run(self) -> Result<(), CliError> {
        let file = FileConfig::load(self.config.as_deref())?;
        match self.command {
            Command::Serve { bind, demo, tenants_dir, assets_dir, redis_url, trust_forwarded_for } => {
                let flags = Overrides {
                    database_url: self.database_url,
                    bind,
                    tenants_dir,
                    assets_dir,
                    redis_url,
                    trust_forwarded_for,
                };
                serve(Settings::resolve(flags, file), demo).await
            }
            Command::Migrate => {
                let settings =
                    Settings::resolve(Overrides { database_url: self.database_url, ..Overrides::default() }, file);
                server::open_store(&settings.database_url).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::Tenant { command: TenantCommand::Apply { dir } } => {
                let settings =
                    Settings::resolve(Overrides { database_url: self.database_url, ..Overrides::default() }, file);
                // Applying a pack touches no holds.
                let app = server::application(server::open_store(&settings.database_url).await?, None, None)?;
                print_report(&app.apply_pack(&dir).await?);
                Ok(())
            }
        }
    }
}

fn print_report(report: &crate::app::ApplyReport) {
    if report.changes.is_empty() {
        println!("{}: unchanged", report.slug);
    }
    for change in &report.changes {
        println!("{}: {change}", report.slug);
    }
}

async fn serve(settings: Settings, demo: bool) -> Result<(), CliError> {
    let store = server::open_store(&settings.database_url).await?;
    let app = server::application(store, settings.redis_url.as_deref(), Some(settings.plugin_cache_dir.clone()))?;
    let holds = if settings.redis_url.is_some() { "Redis" } else { "this process" };
    tracing::info!(holds, "holds are kept in {holds}");
    if demo {
        for report in app.apply_all_packs(&settings.tenants_dir).await? {
            print_report(&report);
        }
    }
    let bound =
        server::bind(&settings.bind).await.map_err(|source| CliError::Bind { addr: settings.bind.clone(), source })?;
    println!("Sportello is listening on http://{}  (API docs: http://{}/api/docs)", bound.addr, bound.addr);
    let options = server::HttpOptions { trust_forwarded_for: settings.trust_forwarded_for };
    let web = server::WebOptions { assets_dir: settings.assets_dir.clone() };
    bound.run(app, options, web, shutdown_signal()).await.map_err(CliError::Serve)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}
