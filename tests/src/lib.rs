//! Test harness: a real Sportello server on a free loopback port, over a fresh SQLite file or a
//! fresh PostgreSQL database, with a clock the test controls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use sportello::app::{Clock, Sportello};
use sportello::holds::{HoldStore, MemoryHolds, RedisHolds};
use tokio::sync::oneshot;

pub mod ics;
pub mod mail;
pub mod packs;
pub mod staff;
pub mod webhooks;

/// The database a test runs against.
pub struct Backend {
    pub name: &'static str,
    pub url: String,
    /// Keep holds in this Redis (under a key prefix of the test's own) instead of in process.
    pub redis: Option<String>,
}

impl Backend {
    /// A fresh SQLite file in a temporary folder.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join("sportello-tests");
        let file = dir.join(format!("{}.db", uuid::Uuid::new_v4()));
        Self { name: "sqlite", url: format!("sqlite://{}?mode=rwc", file.display()), redis: None }
    }

    /// A fresh PostgreSQL database, when `SPORTELLO_TEST_POSTGRES_URL` names a server
    /// (`scripts/test` sets it, and fails under CI=true when PostgreSQL is unreachable).
    /// Without it the PostgreSQL variant of a test is skipped, and says so.
    pub async fn postgres() -> Option<Self> {
        let server = service_url("SPORTELLO_TEST_POSTGRES_URL", "PostgreSQL")?;
        Some(Self::postgres_on(&server).await)
    }

    /// PostgreSQL with holds in Redis (`SPORTELLO_TEST_REDIS_URL`): the production shape.
    pub async fn postgres_redis() -> Option<Self> {
        let redis = service_url("SPORTELLO_TEST_REDIS_URL", "PostgreSQL + Redis")?;
        let backend = Self::postgres().await?;
        Some(Self { name: "postgres+redis", redis: Some(redis), ..backend })
    }

    /// The hold store this backend asks for.
    pub fn holds(&self) -> Arc<dyn HoldStore> {
        match &self.redis {
            Some(url) => {
                let prefix = format!("sportello-test-{}", uuid::Uuid::new_v4().simple());
                Arc::new(RedisHolds::new(url, &prefix).expect("Redis URL"))
            }
            None => Arc::new(MemoryHolds::new()),
        }
    }

    /// A fresh database on the PostgreSQL server at `server` (a URL without database name).
    pub async fn postgres_on(server: &str) -> Self {
        let name = format!("sportello_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(format!("{server}/postgres")).await.expect("PostgreSQL is unreachable");
        sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.expect("close admin connection");
        Self { name: "postgres", url: format!("{server}/{name}"), redis: None }
    }
}

/// The URL of a test service named by `variable`. Without it the variant is skipped and says so,
/// except under `CI=true`, where a missing service fails the test here rather than passing it by.
pub fn service_url(variable: &str, variant: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("CI=true needs {variant}: set {variable} (scripts/test does)")
        }
        Err(_) => {
            eprintln!("SKIPPED on {variant}: {variable} is not set");
            None
        }
    }
}

/// A clock that stands still until the test moves it.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(rfc3339: &str) -> Arc<Self> {
        let now = DateTime::parse_from_rfc3339(rfc3339).expect("valid instant").with_timezone(&Utc);
        Arc::new(Self(Mutex::new(now)))
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// A running server and a client for it.
pub struct TestServer {
    pub base: String,
    pub app: Sportello,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub backend: &'static str,
    /// Where the test packs were written (`<dir>/prova/…`): a test may change one and apply it again.
    pub tenants_dir: std::path::PathBuf,
    /// The database this server uses, so that another instance can share it.
    pub database_url: String,
    stop: Option<oneshot::Sender<()>>,
}

/// Tuesday 1 December 2026, 07:00 in Rome: the test packs' offices open at 08:00.
pub const TEST_NOW: &str = "2026-12-01T06:00:00Z";

impl TestServer {
    /// Starts a server with the test packs applied and the backend's hold store.
    pub async fn start(backend: Backend) -> Self {
        let holds = backend.holds();
        Self::start_with(backend, holds, TEST_NOW).await
    }

    /// A second instance over the same database (holds in its own process, its own clock).
    pub async fn another_instance(&self) -> Self {
        let backend = Backend { name: self.backend, url: self.database_url.clone(), redis: None };
        Self::start_with(backend, Arc::new(MemoryHolds::new()), TEST_NOW).await
    }

    pub async fn start_with(backend: Backend, holds: Arc<dyn HoldStore>, now: &str) -> Self {
        Self::start_configured(backend, holds, now, |app| app).await
    }

    /// As `start_with`, with the application set up by `configure` (an option of `serve`).
    pub async fn start_configured(
        backend: Backend,
        holds: Arc<dyn HoldStore>,
        now: &str,
        configure: impl FnOnce(Sportello) -> Sportello,
    ) -> Self {
        let store = sportello::server::open_store(&backend.url).await.expect("open store");
        let clock = ManualClock::at(now);
        let plugins = sportello::plugin_host::PluginHost::new(None).expect("plugin host");
        let mail = sportello::app::MailSetup {
            composer: sportello::mail::Composer::new().expect("mail templates"),
            public_url: "https://prenota.sportello.test".into(),
            sender_address: "noreply@sportello.test".into(),
            // The tenants of the tests may send as their own addresses in this domain.
            sender_domains: vec!["ente.test".into()],
        };
        let keys = sportello::app::LinkKeys::new(b"the tests' link secret, 32 bytes+".to_vec(), None).expect("keys");
        let app = configure(
            Sportello::new(store, holds, plugins, clock.clone()).with_mail(mail).with_link_keys(keys).with_webhooks(
                // The tests' receivers listen on loopback.
                sportello::webhooks::WebhookClient::new(sportello::webhooks::TargetPolicy::AllowPrivate)
                    .expect("webhooks"),
            ),
        );
        let packs = packs::write_test_packs();
        for dir in &packs {
            app.apply_pack(dir).await.expect("apply test pack");
        }
        let tenants_dir = packs[0].parent().expect("pack folder").to_owned();
        let bound = sportello::server::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", bound.addr);
        let (stop, stopped) = oneshot::channel::<()>();
        let served = app.clone();
        tokio::spawn(async move {
            // Tests play several clients by sending X-Forwarded-For.
            // A body gets 3 seconds, so that the slow-client tests need not wait the default 20.
            let patience = sportello::http::Patience { body: std::time::Duration::from_secs(3), ..Default::default() };
            let options = sportello::server::HttpOptions { trust_forwarded_for: true, plain_http: false, patience };
            let web = sportello::server::WebOptions { assets_dir: std::env::temp_dir().join("sportello-no-assets") };
            let _ = bound
                .run(
                    served,
                    options,
                    web,
                    async {
                        let _ = stopped.await;
                    },
                    std::time::Duration::from_secs(1),
                )
                .await;
        });
        sportello::webhooks::install_tls_provider();
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
        Self { base, app, clock, http, backend: backend.name, tenants_dir, database_url: backend.url, stop: Some(stop) }
    }

    /// Delivers every message that is due through `mailer`, as the outbox's worker would; how
    /// many were claimed.
    pub async fn deliver_mail(&self, mailer: &dyn sportello::mail::Mailer) -> usize {
        let mut claimed = 0;
        loop {
            match self.app.deliver_due(mailer).await.expect("deliver") {
                0 => return claimed,
                n => claimed += n,
            }
        }
    }

    /// `/api/v1/t/{tenant}{path}`
    pub fn url(&self, tenant: &str, path: &str) -> String {
        format!("{}/api/v1/t/{tenant}{path}", self.base)
    }

    pub async fn get(&self, url: &str) -> (u16, serde_json::Value) {
        let response = self.http.get(url).send().await.expect("GET");
        read(response).await
    }

    /// `GET /bookings/{code}` of `tenant`, proved by `email` (in the `Booking-Email` header).
    pub async fn booking(&self, tenant: &str, code: &str, email: &str) -> (u16, serde_json::Value) {
        let url = self.url(tenant, &format!("/bookings/{code}"));
        read(self.http.get(url).header("Booking-Email", email).send().await.expect("GET")).await
    }

    pub async fn post(&self, url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.http.post(url).json(body).send().await.expect("POST");
        read(response).await
    }

    /// Holds `start` of `service` at `office` of tenant `prova` in person; returns (status, body).
    pub async fn hold(
        &self,
        tenant: &str,
        service: &str,
        office: &str,
        mode: &str,
        start: &str,
    ) -> (u16, serde_json::Value) {
        let body = serde_json::json!({"service": service, "office": office, "mode": mode, "start": start});
        self.post(&self.url(tenant, "/holds"), &body).await
    }

    /// Books a hold (the body `POST /holds` answered) with valid citizen data (e-mail `email`).
    pub async fn book(&self, tenant: &str, hold: &serde_json::Value, email: &str) -> (u16, serde_json::Value) {
        self.post(&self.url(tenant, "/bookings"), &citizen_booking(hold, email)).await
    }

    /// Free places of the slot starting at `start`, as availability reports them; `None` when the
    /// slot is not offered (full, or no such slot): a count is never made up for a missing slot.
    pub async fn remaining(&self, tenant: &str, service: &str, office: &str, start: &str) -> Option<u64> {
        let date = &start[..10];
        let url = self.url(
            tenant,
            &format!("/availability?service={service}&office={office}&mode=in_person&from={date}&to={date}"),
        );
        let (status, body) = self.get(&url).await;
        assert_eq!(status, 200, "{body}");
        body["days"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|d| d["slots"].as_array().cloned().unwrap_or_default())
            .find(|s| s["start"] == start)
            .map(|s| s["remaining"].as_u64().expect("remaining is a count"))
    }
}

/// A valid booking request body for `hold` (the body `POST /holds` answered: its id and secret).
pub fn citizen_booking(hold: &serde_json::Value, email: &str) -> serde_json::Value {
    serde_json::json!({
        "hold_id": hold["hold_id"],
        "hold_token": hold["hold_token"],
        "citizen": {"first_name": "Maria", "last_name": "Bianchi", "email": email, "phone": "+39 333 765 4321"},
        "privacy_accepted": true
    })
}

async fn read(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The repository's `tenants/` folder.
pub fn demo_packs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenants")
}

impl Backend {
    /// The backend a test variant named `sqlite`, `postgres` or `postgres_redis` runs on, or
    /// `None` when its service is not configured (outside CI; see `service_url`).
    pub async fn variant(name: &str) -> Option<Self> {
        match name {
            "sqlite" => Some(Self::sqlite()),
            "postgres" => Self::postgres().await,
            "postgres_redis" => Self::postgres_redis().await,
            other => panic!("no backend variant {other}"),
        }
    }
}

/// One test of `scenario` on one backend variant (used by the two macros below).
#[doc(hidden)]
#[macro_export]
macro_rules! backend_variant {
    ($scenario:ident, $variant:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $variant() {
            if let Some(backend) = $crate::Backend::variant(stringify!($variant)).await {
                super::$scenario(backend).await
            }
        }
    };
}

/// Runs `scenario` on SQLite and on PostgreSQL, as tests named `sqlite` and `postgres`: for what
/// does not touch holds (staff, audit), where a third run on Redis would prove nothing more.
#[macro_export]
macro_rules! on_databases {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            $crate::backend_variant!($scenario, sqlite);
            $crate::backend_variant!($scenario, postgres);
        }
    )*};
}

/// Runs `scenario` on SQLite, on PostgreSQL, and on PostgreSQL with holds in Redis, as tests
/// named `sqlite`, `postgres` and `postgres_redis`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            $crate::backend_variant!($scenario, sqlite);
            $crate::backend_variant!($scenario, postgres);
            $crate::backend_variant!($scenario, postgres_redis);
        }
    )*};
}
