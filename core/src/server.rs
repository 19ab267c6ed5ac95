//! Wiring and running the server.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use poem::Server;
use poem::listener::{Acceptor, Listener, TcpListener};

use crate::app::{LinkKeys, MailSetup, Sportello, SystemClock};
use crate::config::Settings;
use crate::holds::{HoldStore, HoldStoreError, MemoryHolds, RedisHolds};
pub use crate::http::HttpOptions;
use crate::mail::{Composer, MailboxMailer, Mailer, SmtpMailer};
use crate::plugin_host::{PluginError, PluginHost};
use crate::store::{Store, StoreError};
pub use crate::web::WebOptions;
use crate::webhooks::{TargetPolicy, WebhookClient};

/// The application over `store`, with holds in Redis when `redis_url` is given and in this
/// process otherwise (the embedded default).
/// Compiled plugin modules are kept in `plugin_cache` across restarts, when given.
pub fn application(
    store: Store,
    redis_url: Option<&str>,
    plugin_cache: Option<PathBuf>,
) -> Result<Sportello, StartError> {
    let holds: Arc<dyn HoldStore> = match redis_url {
        Some(url) => Arc::new(RedisHolds::new(url, "sportello")?),
        None => Arc::new(MemoryHolds::new()),
    };
    Ok(Sportello::new(store, holds, PluginHost::new(plugin_cache)?, Arc::new(SystemClock)))
}

/// The webhook sender: public targets only, unless the platform allows private ones.
pub fn webhook_client(settings: &Settings) -> Result<WebhookClient, StartError> {
    let policy = if settings.webhooks_allow_private { TargetPolicy::AllowPrivate } else { TargetPolicy::PublicOnly };
    WebhookClient::new(policy).map_err(StartError::Webhooks)
}

/// How e-mails to citizens are written: links to `public_url` (which a server outside the demo
/// must be given: the bound address is rarely what citizens reach), from the configured address
/// or a tenant's own in the domains the platform may send for.
pub fn mail_setup(settings: &Settings, bind: &str, demo: bool) -> Result<MailSetup, StartError> {
    let composer = Composer::new().map_err(|e| StartError::Mail(e.to_string()))?;
    let public_url = match (&settings.public_url, demo) {
        (Some(url), _) => url.clone(),
        (None, true) => format!("http://{bind}"),
        (None, false) => {
            return Err(StartError::Required(
                "SPORTELLO_PUBLIC_URL",
                "the address citizens open the links in e-mails at",
            ));
        }
    };
    Ok(MailSetup {
        composer,
        public_url,
        sender_address: settings.mail_from.clone(),
        sender_domains: settings.mail_sender_domains.clone(),
    })
}

/// Where the outbox delivers: the SMTP server, or the mailbox folder.
pub fn mailer(settings: &Settings) -> Result<Arc<dyn Mailer>, StartError> {
    Ok(match &settings.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url).map_err(|e| StartError::Mail(e.to_string()))?),
        None => Arc::new(MailboxMailer::new(settings.mail_dir.clone())),
    })
}

/// The secret that signs links in e-mails and pages: the configured one, or (demo only) one kept
/// in `data/secret.key`.
pub fn link_keys(settings: &Settings, demo: bool) -> Result<LinkKeys, StartError> {
    let current = match (&settings.secret_key, demo) {
        (Some(key), _) => key.clone(),
        (None, true) => crate::config::demo_secret(std::path::Path::new(crate::config::DEMO_SECRET_FILE))
            .map_err(|e| StartError::Mail(format!("the demo's link secret: {e}")))?,
        (None, false) => {
            return Err(StartError::Required(
                "SPORTELLO_SECRET_KEY",
                "it signs the links in e-mails and pages, the same on every instance (e.g. `openssl rand -hex 32`)",
            ));
        }
    };
    let previous = settings.secret_key_previous.as_ref().map(|k| k.as_bytes().to_vec());
    LinkKeys::new(current.into_bytes(), previous).map_err(|e| StartError::Mail(e.to_string()))
}

/// Why the application could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Holds(#[from] HoldStoreError),
    #[error(transparent)]
    Plugins(#[from] PluginError),
    #[error("e-mail: {0}")]
    Mail(String),
    #[error("webhooks: {0}")]
    Webhooks(String),
    #[error("{0} is required outside the demo: {1}")]
    Required(&'static str, &'static str),
}

/// A server bound and ready to run; `addr` is known before it starts (port 0 picks a free one).
pub struct Bound {
    pub addr: SocketAddr,
    acceptor: poem::listener::TcpAcceptor,
}

pub async fn bind(addr: &str) -> std::io::Result<Bound> {
    let acceptor = TcpListener::bind(addr.to_owned()).into_acceptor().await?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or_else(|| std::io::Error::other("listener has no socket address"))?;
    Ok(Bound { addr, acceptor })
}

impl Bound {
    /// Serves until `shutdown` completes, then accepts no connection and lets requests in flight
    /// finish, for `grace` at most.
    pub async fn run(
        self,
        app: Sportello,
        options: HttpOptions,
        web: WebOptions,
        shutdown: impl Future<Output = ()> + Send,
        grace: Duration,
    ) -> std::io::Result<()> {
        let routes = crate::http::routes(app, options, web).map_err(std::io::Error::other)?;
        Server::new_with_acceptor(self.acceptor)
            .idle_timeout(options.patience.idle)
            .run_with_graceful_shutdown(routes, shutdown, Some(grace))
            .await
    }
}

/// Connects and migrates: what every subcommand needs first.
pub async fn open_store(url: &str) -> Result<Store, StoreError> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    Ok(store)
}
