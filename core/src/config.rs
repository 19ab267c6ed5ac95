//! Settings: command-line flags, then `SPORTELLO_*` environment variables, then a TOML file
//! (`--config`), then defaults that give the embedded setup.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/sportello.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_TENANTS_DIR: &str = "tenants";
pub const DEFAULT_ASSETS_DIR: &str = "core/web/dist";
pub const DEFAULT_PLUGIN_CACHE_DIR: &str = "data/plugin-cache";
/// Without an SMTP server, messages are written here (the demo's mailbox).
pub const DEFAULT_MAIL_DIR: &str = "data/mail";
pub const DEFAULT_MAIL_FROM: &str = "Sportello <noreply@sportello.localhost>";
/// How long a stopping server lets what it is doing finish.
pub const DEFAULT_SHUTDOWN_SECONDS: u64 = 20;
/// The demo's link secret, made on its first run.
pub const DEMO_SECRET_FILE: &str = "data/secret.key";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub tenants_dir: Option<PathBuf>,
    pub assets_dir: Option<PathBuf>,
    pub plugin_cache_dir: Option<PathBuf>,
    pub redis_url: Option<String>,
    pub trust_forwarded_for: Option<bool>,
    pub plain_http: Option<bool>,
    pub webhooks_allow_private: Option<bool>,
    pub smtp_url: Option<String>,
    pub mail_dir: Option<PathBuf>,
    pub mail_from: Option<String>,
    pub mail_sender_domains: Option<Vec<String>>,
    pub public_url: Option<String>,
    pub secret_key: Option<String>,
    pub secret_key_previous: Option<String>,
    pub shutdown_seconds: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else { return Ok(Self::default()) };
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse { path: shown, message: e.message().to_owned() })
    }
}

/// The demo's link secret: read from `path`, or made (64 random hex digits) and written there on
/// the first run, so that links in its e-mails keep working across restarts.
pub fn demo_secret(path: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path)
        && existing.trim().len() >= 32
    {
        return Ok(existing.trim().to_owned());
    }
    let secret: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, &secret)?;
    Ok(secret)
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub tenants_dir: PathBuf,
    /// Built page assets.
    pub assets_dir: PathBuf,
    /// Compiled plugin modules, kept across restarts.
    pub plugin_cache_dir: PathBuf,
    /// Holds in Redis, shared by several instances; `None` keeps them in this process.
    pub redis_url: Option<String>,
    /// Identify clients by the first `X-Forwarded-For` hop (behind a trusted reverse proxy only).
    pub trust_forwarded_for: bool,
    /// Staff cookies without `Secure`: the server is reached over plain http on purpose.
    pub plain_http: bool,
    /// Webhooks may reach loopback and private networks (tests, an intranet install).
    pub webhooks_allow_private: bool,
    /// Where e-mails go: `smtp://…`/`smtps://…`; `None` writes them to `mail_dir`.
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    /// The address e-mails come from (each tenant's name goes before it).
    pub mail_from: String,
    /// Domains a tenant's own sender address may be in (the relay may send for them).
    pub mail_sender_domains: Vec<String>,
    /// The pages' public address, for the links in e-mails; by default the bound address.
    pub public_url: Option<String>,
    /// Signs the links in e-mails (at least 32 characters); the previous one is still accepted.
    pub secret_key: Option<String>,
    pub secret_key_previous: Option<String>,
    /// After SIGTERM or Ctrl-C: no new connection; requests in flight and the outbox's message
    /// being sent finish; the process exits within this many seconds.
    pub shutdown_seconds: u64,
}

/// Settings given as flags or environment variables (clap reads `SPORTELLO_*`).
#[derive(Debug, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub tenants_dir: Option<PathBuf>,
    pub assets_dir: Option<PathBuf>,
    pub redis_url: Option<String>,
    /// `true` when the flag is given; otherwise the file decides.
    pub trust_forwarded_for: bool,
    /// `true` when the flag is given; otherwise the file decides.
    pub plain_http: bool,
    /// `true` when the flag is given; otherwise the file decides.
    pub webhooks_allow_private: bool,
    pub smtp_url: Option<String>,
    pub mail_dir: Option<PathBuf>,
    pub mail_from: Option<String>,
    pub mail_sender_domains: Option<Vec<String>>,
    pub public_url: Option<String>,
    pub secret_key: Option<String>,
    pub secret_key_previous: Option<String>,
    pub shutdown_seconds: Option<u64>,
}

impl Settings {
    pub fn resolve(flags: Overrides, file: FileConfig) -> Self {
        Self {
            database_url: flags.database_url.or(file.database_url).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            bind: flags.bind.or(file.bind).unwrap_or_else(|| DEFAULT_BIND.to_owned()),
            tenants_dir: flags.tenants_dir.or(file.tenants_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_TENANTS_DIR)),
            assets_dir: flags.assets_dir.or(file.assets_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_ASSETS_DIR)),
            plugin_cache_dir: file.plugin_cache_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_PLUGIN_CACHE_DIR)),
            redis_url: flags.redis_url.or(file.redis_url).filter(|u| !u.trim().is_empty()),
            trust_forwarded_for: flags.trust_forwarded_for || file.trust_forwarded_for.unwrap_or(false),
            plain_http: flags.plain_http || file.plain_http.unwrap_or(false),
            webhooks_allow_private: flags.webhooks_allow_private || file.webhooks_allow_private.unwrap_or(false),
            smtp_url: flags.smtp_url.or(file.smtp_url).filter(|u| !u.trim().is_empty()),
            mail_dir: flags.mail_dir.or(file.mail_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_MAIL_DIR)),
            mail_from: flags.mail_from.or(file.mail_from).unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
            mail_sender_domains: flags
                .mail_sender_domains
                .or(file.mail_sender_domains)
                .unwrap_or_default()
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
            public_url: flags
                .public_url
                .or(file.public_url)
                .map(|u| u.trim().trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            secret_key: flags.secret_key.or(file.secret_key).filter(|k| !k.is_empty()),
            secret_key_previous: flags.secret_key_previous.or(file.secret_key_previous).filter(|k| !k.is_empty()),
            shutdown_seconds: flags.shutdown_seconds.or(file.shutdown_seconds).unwrap_or(DEFAULT_SHUTDOWN_SECONDS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file = FileConfig {
            database_url: Some("postgres://db/x".into()),
            bind: Some("0.0.0.0:9000".into()),
            tenants_dir: None,
            assets_dir: None,
            plugin_cache_dir: None,
            redis_url: Some("redis://cache".into()),
            trust_forwarded_for: Some(true),
            plain_http: None,
            webhooks_allow_private: None,
            smtp_url: None,
            mail_dir: None,
            mail_from: Some("Comune <noreply@comune.example>".into()),
            mail_sender_domains: Some(vec![" Comune.Example ".into(), "".into()]),
            public_url: Some("https://prenota.example.it/".into()),
            secret_key: None,
            secret_key_previous: None,
            shutdown_seconds: Some(30),
        };
        let flags = Overrides { bind: Some("127.0.0.1:1".into()), ..Overrides::default() };
        let settings = Settings::resolve(flags, file);
        assert_eq!(settings.database_url, "postgres://db/x");
        assert_eq!(settings.bind, "127.0.0.1:1");
        assert_eq!(settings.tenants_dir, PathBuf::from("tenants"));
        assert_eq!(settings.redis_url.as_deref(), Some("redis://cache"));
        assert!(settings.trust_forwarded_for && !settings.plain_http);
        assert_eq!(settings.shutdown_seconds, 30);
        assert_eq!(settings.public_url.as_deref(), Some("https://prenota.example.it"));
        assert_eq!(settings.mail_sender_domains, ["comune.example"]);
        assert_eq!((settings.smtp_url, settings.mail_dir), (None, PathBuf::from(DEFAULT_MAIL_DIR)));
        let defaults = Settings::resolve(Overrides::default(), FileConfig::default());
        assert_eq!((defaults.database_url.as_str(), defaults.redis_url), (DEFAULT_DATABASE_URL, None));
    }
}
