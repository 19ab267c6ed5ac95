//! The `sportello` command line.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::app::AppError;
use crate::app::{ApplyReport, Sportello, StrandPolicy};
use crate::config::{ConfigError, FileConfig, Overrides, Settings};
use crate::domain::Role;
use crate::server;
use crate::store::StoreError;

#[derive(Parser, Debug)]
#[command(name = "sportello", version, about = "Appointment booking for public bodies")]
pub struct Cli {
    /// Database URL: sqlite://path?mode=rwc (default, under ./data/) or postgres://…
    #[arg(long, global = true, env = "SPORTELLO_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML file of settings (docs/configuration.md lists its keys).
    #[arg(long, global = true, env = "SPORTELLO_CONFIG")]
    config: Option<PathBuf>,
    /// How log lines are written: text for a person, json (one object per line) for a collector.
    #[arg(long, global = true, env = "SPORTELLO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The shape of the log's lines.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
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
        /// Staff cookies without `Secure`, for a server reached over plain http on purpose (the
        /// demo on 127.0.0.1). Never in production.
        #[arg(long, env = "SPORTELLO_PLAIN_HTTP")]
        plain_http: bool,
        /// Let webhooks reach loopback and private networks (tests, an intranet install). Off by
        /// default: a body's admin could otherwise make the server call its own network.
        #[arg(long, env = "SPORTELLO_WEBHOOKS_ALLOW_PRIVATE")]
        webhooks_allow_private: bool,
        /// Platform admins must sign in with a second factor to act as such.
        #[arg(long, env = "SPORTELLO_PLATFORM_TWO_FACTOR")]
        platform_two_factor: bool,
        /// On SIGTERM or Ctrl-C, how long requests in flight and the outbox's message being sent
        /// may take to finish before the process exits (default 20).
        #[arg(long, env = "SPORTELLO_SHUTDOWN_SECONDS")]
        shutdown_seconds: Option<u64>,
        /// Writes no e-mails at all: the click-day benchmark's baseline, never for citizens.
        #[arg(long, hide = true)]
        without_mail: bool,
        /// Runs the clock from this moment (RFC 3339) instead of now: browser tests only.
        #[arg(long, hide = true, requires = "demo")]
        pretend_now: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// With --demo: books a few fictitious citizens at each demo body's first office on its
        /// next open day (once per day), so that the desk's agenda has someone to receive.
        #[arg(long, requires = "demo")]
        demo_bookings: bool,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Copies a SQLite database, while the server runs, into a new file (`VACUUM INTO`): a
    /// consistent backup. PostgreSQL is backed up with pg_dump (docs/operations.md).
    Backup {
        /// The new file; an existing file is never overwritten.
        #[arg(long)]
        to: PathBuf,
    },
    /// Manages tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manages staff accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Creates a staff account with a role (or gives an existing account the role). The first
    /// platform admin is made this way; everyone else is invited from the admin pages.
    Create {
        #[arg(long)]
        email: String,
        /// platform, tenant or operator.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The tenant's slug (tenant admins and operators).
        #[arg(long)]
        tenant: Option<String>,
        /// An operator's offices (slugs), comma-separated.
        #[arg(long, value_delimiter = ',')]
        offices: Vec<String>,
        /// Read the password from the first line of standard input (no password on the command
        /// line, where other users and the shell history would see it).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| "use platform, tenant or operator".to_owned())
}

#[derive(Subcommand, Debug)]
enum TenantCommand {
    /// Creates or updates a tenant from a pack folder or archive, reporting what changed. A change that would
    /// strand upcoming bookings is refused with their list unless --stranded says what to do.
    Apply {
        /// A pack folder (`tenants/<slug>/`), or a pack archive exported from the admin pages.
        dir: PathBuf,
        /// keep (they stay valid) or cancel (with --cancel-reason, recorded on each).
        #[arg(long)]
        stranded: Option<String>,
        #[arg(long)]
        cancel_reason: Option<String>,
        #[command(flatten)]
        mail: MailArgs,
    },
}

/// Where e-mails to citizens go, and what their links point to.
#[derive(clap::Args, Debug, Default)]
struct MailArgs {
    /// SMTP server for e-mails: smtp://host:port, smtp://user:pass@host:587?tls=required
    /// (STARTTLS) or smtps://user:pass@host. Without it, e-mails are written to --mail-dir.
    #[arg(long, env = "SPORTELLO_SMTP_URL")]
    smtp_url: Option<String>,
    /// Folder for e-mails when no SMTP server is set (default data/mail).
    #[arg(long, env = "SPORTELLO_MAIL_DIR")]
    mail_dir: Option<PathBuf>,
    /// The address e-mails come from; each public body's name goes before it.
    #[arg(long, env = "SPORTELLO_MAIL_FROM")]
    mail_from: Option<String>,
    /// Domains the SMTP relay may send for (SPF, DKIM), comma-separated: a tenant's own sender
    /// address in one of them is used; any other falls back to --mail-from.
    #[arg(long, env = "SPORTELLO_MAIL_SENDER_DOMAINS", value_delimiter = ',')]
    mail_sender_domains: Option<Vec<String>>,
    /// The pages' public address for links in e-mails, e.g. https://prenota.example.it.
    #[arg(long, env = "SPORTELLO_PUBLIC_URL")]
    public_url: Option<String>,
    /// Signs the links in e-mails (at least 32 characters, e.g. `openssl rand -hex 32`); the same on
    /// every instance. Prefer the environment variable to the flag (other users see flags).
    #[arg(long, env = "SPORTELLO_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// The secret before a rotation: links it signed keep working.
    #[arg(long, env = "SPORTELLO_SECRET_KEY_PREVIOUS", hide_env_values = true)]
    secret_key_previous: Option<String>,
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
    #[error("cannot read the password from standard input: {0}")]
    Stdin(std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// Field errors said field by field, as a console user needs them.
fn explain(error: AppError) -> CliError {
    match error {
        AppError::Invalid(errors) => {
            let each: Vec<String> = errors.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            CliError::Invalid(each.join("; "))
        }
        AppError::StrandsBookings(stranded) => {
            let each: Vec<String> = stranded
                .iter()
                .map(|b| {
                    format!(
                        "  {} {} {}/{}: {}",
                        b.code,
                        b.start.with_timezone(&b.timezone),
                        b.service,
                        b.office,
                        b.reason.code()
                    )
                })
                .collect();
            CliError::Invalid(format!(
                "{} upcoming booking(s) would be stranded; apply again with --stranded keep, or --stranded cancel --cancel-reason \"…\":\n{}",
                stranded.len(),
                each.join("\n")
            ))
        }
        other => other.into(),
    }
}

impl Cli {
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }

    pub async fn run(self) -> Result<(), CliError> {
        let file = FileConfig::load(self.config.as_deref())?;
        match self.command {
            Command::Serve {
                bind,
                demo,
                tenants_dir,
                assets_dir,
                redis_url,
                trust_forwarded_for,
                plain_http,
                webhooks_allow_private,
                platform_two_factor,
                shutdown_seconds,
                without_mail,
                pretend_now,
                demo_bookings,
                mail,
            } => {
                let flags = Overrides {
                    database_url: self.database_url,
                    bind,
                    tenants_dir,
                    assets_dir,
                    redis_url,
                    trust_forwarded_for,
                    plain_http,
                    webhooks_allow_private,
                    smtp_url: mail.smtp_url,
                    mail_dir: mail.mail_dir,
                    mail_from: mail.mail_from,
                    mail_sender_domains: mail.mail_sender_domains,
                    public_url: mail.public_url,
                    secret_key: mail.secret_key,
                    secret_key_previous: mail.secret_key_previous,
                    shutdown_seconds,
                };
                let demo = Demo { packs: demo, bookings: demo_bookings };
                let clock: Option<Arc<dyn crate::app::Clock>> = pretend_now.map(|at| {
                    Arc::new(crate::app::ShiftedClock(at.to_utc() - chrono::Utc::now())) as Arc<dyn crate::app::Clock>
                });
                serve(Settings::resolve(flags, file), demo, platform_two_factor, (without_mail, clock)).await
            }
            Command::Migrate => {
                let settings =
                    Settings::resolve(Overrides { database_url: self.database_url, ..Overrides::default() }, file);
                server::open_store(&settings.database_url).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::Backup { to } => {
                let settings =
                    Settings::resolve(Overrides { database_url: self.database_url, ..Overrides::default() }, file);
                let store = crate::store::Store::connect(&settings.database_url).await?;
                store.back_up_to(&to.to_string_lossy()).await?;
                println!("backed up to {}", to.display());
                Ok(())
            }
            Command::Tenant { command: TenantCommand::Apply { dir, stranded, cancel_reason, mail } } => {
                let flags = Overrides {
                    database_url: self.database_url,
                    mail_from: mail.mail_from,
                    mail_sender_domains: mail.mail_sender_domains,
                    public_url: mail.public_url,
                    secret_key: mail.secret_key,
                    secret_key_previous: mail.secret_key_previous,
                    ..Overrides::default()
                };
                let settings = Settings::resolve(flags, file);
                let policy =
                    StrandPolicy::parse(stranded.as_deref(), cancel_reason.as_deref(), None).map_err(explain)?;
                // Applying a pack touches no holds. Bookings it cancels are told by the outbox of
                // a running server, with links signed by the servers' secret to their address.
                let mut app = server::application(server::open_store(&settings.database_url).await?, None, None)?;
                if matches!(policy, StrandPolicy::Cancel { .. }) {
                    app = app
                        .with_mail(server::mail_setup(&settings, &settings.bind, false)?)
                        .with_link_keys(server::link_keys(&settings, false)?);
                }
                print_report(&app.apply_pack_with(&dir, &policy).await.map_err(explain)?);
                Ok(())
            }
            Command::Admin { command: AdminCommand::Create { email, role, tenant, offices, password_stdin: _ } } => {
                let settings =
                    Settings::resolve(Overrides { database_url: self.database_url, ..Overrides::default() }, file);
                let mut password = String::new();
                std::io::stdin().read_line(&mut password).map_err(CliError::Stdin)?;
                let password = password.trim_end_matches(['\n', '\r']);
                let app = server::application(server::open_store(&settings.database_url).await?, None, None)?;
                let created =
                    app.create_account(&email, role, tenant.as_deref(), &offices, password).await.map_err(explain)?;
                let what = if created { "created" } else { "exists; role added" };
                println!("{}: {what} ({})", email.trim(), role.code());
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

/// What `serve` sets up for a demonstration.
struct Demo {
    /// The tenants folder's packs and the demo staff accounts.
    packs: bool,
    /// A day of fictitious bookings at each demo body's first office.
    bookings: bool,
}

async fn serve(
    settings: Settings,
    demo: Demo,
    platform_two_factor: bool,
    (without_mail, clock): (bool, Option<Arc<dyn crate::app::Clock>>),
) -> Result<(), CliError> {
    let store = server::open_store(&settings.database_url).await?;
    let app = server::application(store, settings.redis_url.as_deref(), Some(settings.plugin_cache_dir.clone()))?
        .with_platform_two_factor(platform_two_factor);
    let holds = if settings.redis_url.is_some() { "Redis" } else { "this process" };
    tracing::info!(holds, "holds are kept in {holds}");
    // Bound first: with port 0 only the bound address tells where the demo's links lead.
    let bound =
        server::bind(&settings.bind).await.map_err(|source| CliError::Bind { addr: settings.bind.clone(), source })?;
    let address = bound.addr.to_string();
    let app = app
        .with_mail(server::mail_setup(&settings, &address, demo.packs)?)
        .with_link_keys(server::link_keys(&settings, demo.packs)?)
        .with_webhooks(server::webhook_client(&settings)?);
    let app = if without_mail { app.without_mail() } else { app };
    let app = match clock {
        Some(clock) => app.with_clock(clock),
        None => app,
    };
    if demo.packs {
        let reports = app.apply_all_packs(&settings.tenants_dir).await?;
        for report in &reports {
            print_report(report);
        }
        let operators = demo_accounts(&app, &reports, &address).await?;
        for report in reports.iter().filter(|_| demo.bookings) {
            let slug = report.slug.as_str();
            let operator = match operators.iter().find(|(tenant, _, _)| tenant == slug) {
                Some((_, email, password)) => Some(app.log_in(email, password, None, None).await?)
                    .filter(|signed_in| !signed_in.awaiting_code)
                    .map(|signed_in| signed_in.session),
                None => None,
            };
            let booked = app.book_demo(slug, operator.as_ref()).await?;
            if let Some(day) = booked.day {
                println!("Demo bookings at {slug}: {} citizens on {day} (see the desk's agenda)", booked.upcoming);
            }
            if booked.history > 0 {
                println!(
                    "Demo history at {slug}: {} citizens in the last four weeks (see the statistics)",
                    booked.history
                );
            }
        }
    }
    let mailer = server::mailer(&settings)?;
    // Said before the listening line: whoever reads that line may stop reading the output.
    match &settings.smtp_url {
        Some(_) => println!("E-mails go out by SMTP."),
        None => println!("E-mails are written to {} (no SMTP server is set).", settings.mail_dir.display()),
    }
    println!("Sportello is listening on http://{}  (API docs: http://{}/api/docs)", bound.addr, bound.addr);
    let options = server::HttpOptions {
        trust_forwarded_for: settings.trust_forwarded_for,
        plain_http: settings.plain_http,
        ..server::HttpOptions::default()
    };
    let web = server::WebOptions { assets_dir: settings.assets_dir.clone() };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(crate::app::run_worker(app.clone(), mailer, Duration::from_secs(1), stopped.clone()));
    let retention = tokio::spawn(crate::app::run_retention(app.clone(), Duration::from_secs(3600), stopped));
    // One bound from the signal on: the requests in flight, then the workers, in what is left.
    let bound_of_shutdown = Duration::from_secs(settings.shutdown_seconds);
    let signalled = Arc::new(std::sync::OnceLock::new());
    let shutdown = {
        let signalled = signalled.clone();
        async move {
            shutdown_signal().await;
            let _ = signalled.set(tokio::time::Instant::now());
        }
    };
    let served = bound.run(app, options, web, shutdown, bound_of_shutdown).await.map_err(CliError::Serve);
    // A message being sent is finished or, if the worker is stopped mid-way, sent again later.
    let _ = stop.send(true);
    let since = signalled.get().copied().unwrap_or_else(tokio::time::Instant::now);
    let left = bound_of_shutdown.saturating_sub(since.elapsed());
    let _ = tokio::time::timeout(left, async {
        let _ = tokio::join!(worker, retention);
    })
    .await;
    tracing::info!(seconds = since.elapsed().as_secs_f64(), "stopped");
    served
}

/// Demo staff: a platform admin, and an admin and an operator per demo tenant, each with a new
/// password on every start, printed here once (and nowhere else). The operators, by tenant, with
/// their passwords: the demo's bookings are received by them.
async fn demo_accounts(
    app: &Sportello,
    reports: &[ApplyReport],
    bind: &str,
) -> Result<Vec<(String, String, String)>, CliError> {
    let mut accounts = vec![("platform@sportello.example".to_owned(), Role::Platform, None)];
    for report in reports {
        let slug = report.slug.as_str();
        accounts.push((format!("admin@{slug}.example"), Role::TenantAdmin, Some(slug)));
        accounts.push((format!("operatore@{slug}.example"), Role::Operator, Some(slug)));
    }
    println!("Demo staff accounts (new passwords on every start) - sign in at http://{bind}/admin/");
    let mut operators = Vec::new();
    for (email, role, tenant) in accounts {
        let password = demo_password();
        let offices = match (role, tenant) {
            (Role::Operator, Some(slug)) => {
                app.tenant(slug).await?.config.offices.iter().map(|o| o.slug.to_string()).collect()
            }
            _ => Vec::new(),
        };
        app.reset_demo_account(&email, role, tenant, &offices, &password).await?;
        println!("  {:<12} {email:<36} {password}", role.code());
        if let (Role::Operator, Some(slug)) = (role, tenant) {
            operators.push((slug.to_owned(), email, password));
        }
    }
    Ok(operators)
}

/// Four groups of four letters and digits: long, and easy to type from the console.
fn demo_password() -> String {
    use rand::seq::IndexedRandom;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..4)
        .map(|_| (0..4).map(|_| ALPHABET.choose(&mut rng).map_or('x', |b| char::from(*b))).collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
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

/// docs/configuration.md names every flag, environment variable and settings-file key: checked
/// here against the program, so that the reference cannot drift from it.
#[cfg(test)]
mod reference {
    use clap::CommandFactory;
    use serde::de::{Deserializer, Error as _, Visitor};

    use super::Cli;
    use crate::config::FileConfig;

    fn reference() -> String {
        include_str!("../../docs/configuration.md").to_owned()
    }

    fn unnamed(command: &clap::Command, doc: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long().filter(|l| !matches!(*l, "help" | "version"))
                && !doc.contains(&format!("`--{long}"))
            {
                missing.push(format!("--{long}"));
            }
            if let Some(env) = arg.get_env().map(|e| e.to_string_lossy().into_owned())
                && !doc.contains(&format!("`{env}`"))
            {
                missing.push(env);
            }
        }
        for sub in command.get_subcommands() {
            unnamed(sub, doc, missing);
        }
    }

    #[test]
    fn every_flag_and_environment_variable_is_in_the_reference() {
        let mut missing = Vec::new();
        unnamed(&Cli::command(), &reference(), &mut missing);
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "docs/configuration.md does not name {missing:?}");
    }

    /// A deserializer that only listens: serde tells it the names of a struct's fields.
    struct FieldNames<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for FieldNames<'_> {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("only a struct is listened to"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Self::Error::custom("listened"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    #[test]
    fn every_settings_file_key_is_in_the_reference() {
        let mut keys: &'static [&'static str] = &[];
        let _ = <FileConfig as serde::Deserialize>::deserialize(FieldNames(&mut keys));
        assert!(keys.contains(&"database_url") && keys.contains(&"shutdown_seconds"), "{keys:?}");
        let doc = reference();
        let missing: Vec<&&str> = keys.iter().filter(|k| !doc.contains(&format!("| `{k}` |"))).collect();
        assert!(missing.is_empty(), "docs/configuration.md does not name the file keys {missing:?}");
    }
}
