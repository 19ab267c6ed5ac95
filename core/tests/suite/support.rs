//! Real processes for the multi-instance tests: `sportello serve`, a private `redis-server`,
//! and a fresh PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};

/// The PostgreSQL and Redis servers the run may use, or why this test is skipped.
pub fn services() -> Option<(String, String)> {
    let postgres = std::env::var("SPORTELLO_TEST_POSTGRES_URL").ok();
    let redis = std::env::var("SPORTELLO_TEST_REDIS_URL").ok();
    match (postgres, redis) {
        (Some(p), Some(r)) => Some((p, r)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs PostgreSQL and Redis for the multi-instance tests"
            );
            eprintln!(
                "SKIPPED: the multi-instance tests need SPORTELLO_TEST_POSTGRES_URL and SPORTELLO_TEST_REDIS_URL"
            );
            None
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A fresh database on `server`; returns its URL.
pub async fn fresh_database(server: &str) -> String {
    // A free port number is no unique name: two tests of one process can be handed the same one.
    let name = format!("sportello_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{server}/postgres")).await.expect("PostgreSQL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    admin.close().await.expect("close");
    format!("{server}/{name}")
}

/// A pack folder holding one tenant manifest; returns the folder of packs.
pub fn packs_dir(slug: &str, manifest: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sportello-packs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join(slug)).expect("pack dir");
    std::fs::write(dir.join(slug).join("tenant.toml"), manifest).expect("manifest");
    dir
}

/// A running `sportello serve`.
pub struct Instance {
    pub base: String,
    child: Child,
}

impl Instance {
    pub fn start(database_url: &str, redis_url: &str, packs: &PathBuf) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
            .env_remove("SPORTELLO_DATABASE_URL")
            .env("SPORTELLO_LOG", "warn")
            // Every instance signs links with the same secret, as in production.
            .env("SPORTELLO_SECRET_KEY", "the instances' shared link secret, 32+ bytes")
            .args(["--database-url", database_url, "serve", "--demo", "--bind", "127.0.0.1:0", "--trust-forwarded-for"])
            .args(["--redis-url", redis_url, "--tenants-dir"])
            .arg(packs)
            // The e-mails of the races go to a scratch folder, never into the repository.
            .arg("--mail-dir")
            .arg(std::env::temp_dir().join(format!("sportello-instance-mail-{}", std::process::id())))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sportello");
        let stdout = child.stdout.take().expect("stdout");
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("Sportello is listening on "))
            .expect("listening line");
        let base =
            line.trim_start_matches("Sportello is listening on ").split_whitespace().next().unwrap_or("").to_owned();
        Self { base, child }
    }

    /// SIGKILL: the process dies at once, mid-request.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `redis-server` of this test's own, on a spare port, so that the shared one is untouched.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn start() -> Self {
        // Two tests may be handed the same free port number; the second server then cannot bind,
        // and its test takes another port instead of sharing the first test's Redis.
        for _ in 0..10 {
            let mut redis = Self { port: free_port(), child: None };
            if redis.launch() {
                return redis;
            }
        }
        panic!("redis-server did not start");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: it keeps nothing on disk).
    pub fn restart(&mut self) {
        assert!(self.launch(), "redis-server did not start again on port {}", self.port);
    }

    /// Starts a server on `self.port`; true once the server answering there is this one.
    fn launch(&mut self) -> bool {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server)");
        for _ in 0..100 {
            if !matches!(child.try_wait(), Ok(None)) {
                return false;
            }
            if answering_pid(self.port) == Some(child.id()) {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

/// The process id of the Redis server listening on `port`, if one answers.
fn answering_pid(port: u16) -> Option<u32> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    stream.write_all(b"INFO server\r\n").ok()?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&reply).contains("process_id:") || !reply.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    text.lines().find_map(|line| line.strip_prefix("process_id:")).and_then(|pid| pid.trim().parse().ok())
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Confirmed bookings per slot start, and all confirmed codes, read from the database.
pub async fn confirmed(database_url: &str) -> (Vec<(String, i64)>, Vec<String>) {
    let db = Database::connect(database_url).await.expect("connect");
    let backend = db.get_database_backend();
    let per_slot = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS slot, count(*) AS n \
             FROM bookings WHERE status = 'confirmed' GROUP BY 1 ORDER BY 1",
        ))
        .await
        .expect("per slot")
        .into_iter()
        .map(|row| (row.try_get::<String>("", "slot").expect("slot"), row.try_get::<i64>("", "n").expect("n")))
        .collect();
    let codes = db
        .query_all_raw(Statement::from_string(backend, "SELECT code FROM bookings WHERE status = 'confirmed'"))
        .await
        .expect("codes")
        .into_iter()
        .map(|row| row.try_get::<String>("", "code").expect("code"))
        .collect();
    db.close().await.expect("close");
    (per_slot, codes)
}
