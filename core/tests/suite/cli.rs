//! The `sportello` binary as an operator runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn temp_db() -> String {
    let dir = std::env::temp_dir().join(format!("sportello-cli-{}-{}", std::process::id(), rand_suffix()));
    format!("sqlite://{}/s.db?mode=rwc", dir.display())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

pub(crate) fn sportello(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .env_remove("SPORTELLO_DATABASE_URL")
        .args(["--database-url", db])
        .args(args)
        .output()
        .expect("run sportello")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn migrate_and_apply_packs() {
    let db = temp_db();
    let out = sportello(&db, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "migrations applied");

    let out = sportello(&db, &["tenant", "apply", "tenants/comune-esempio"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "comune-esempio: tenant created");
    let out = sportello(&db, &["tenant", "apply", "tenants/comune-esempio"]);
    assert_eq!(text(&out.stdout).trim(), "comune-esempio: unchanged");

    let broken = std::env::temp_dir().join(format!("sportello-cli-pack-{}", rand_suffix())).join("comune-esempio");
    std::fs::create_dir_all(&broken).unwrap();
    let manifest = std::fs::read_to_string(repo().join("tenants/comune-esempio/tenant.toml")).unwrap();
    std::fs::write(broken.join("tenant.toml"), manifest.replace("horizon_days = 180", "horizon_days = 400")).unwrap();
    std::fs::copy(repo().join("tenants/comune-esempio/logo.svg"), broken.join("logo.svg")).unwrap();
    let out = sportello(&db, &["tenant", "apply", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("tenant.toml: services[0].horizon_days: must be between 1 and 365"), "{stderr}");
}

/// Outside the demo a server needs the secret that signs citizens' links and the address they
/// point to: without them it refuses to start (and says which), instead of sending unusable links.
#[test]
fn a_server_without_its_link_secret_refuses_to_start() {
    let db = temp_db();
    let serve = |extra: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sportello"));
        command.current_dir(repo()).args(["--database-url", &db, "serve", "--bind", "127.0.0.1:0"]);
        for variable in ["SPORTELLO_SECRET_KEY", "SPORTELLO_PUBLIC_URL", "SPORTELLO_DATABASE_URL"] {
            command.env_remove(variable);
        }
        command.envs(extra.iter().copied()).output().expect("run sportello")
    };
    let out = serve(&[("SPORTELLO_PUBLIC_URL", "https://prenota.example.it")]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("SPORTELLO_SECRET_KEY is required"), "{}", text(&out.stderr));
    let out = serve(&[("SPORTELLO_SECRET_KEY", &"k".repeat(32))]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("SPORTELLO_PUBLIC_URL is required"), "{}", text(&out.stderr));
    let out = serve(&[("SPORTELLO_SECRET_KEY", "short"), ("SPORTELLO_PUBLIC_URL", "https://prenota.example.it")]);
    assert!(text(&out.stderr).contains("at least 32 bytes"), "{}", text(&out.stderr));
}

/// A pack exported as an archive applies with `tenant apply`, and gives the same configuration
/// as its folder: applying the folder afterwards changes nothing.
#[test]
fn a_pack_archive_applies_like_its_folder() {
    let db = temp_db();
    assert!(sportello(&db, &["migrate"]).status.success());
    let (source, _) = sportello::packs::PackSource::read(&repo().join("tenants/cbtoscananord")).unwrap();
    let archive = std::env::temp_dir().join(format!("sportello-pack-{}.tar.gz", rand_suffix()));
    std::fs::write(&archive, source.archive("cbtoscananord").unwrap()).unwrap();
    let out = sportello(&db, &["tenant", "apply", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "cbtoscananord: tenant created");
    let out = sportello(&db, &["tenant", "apply", "tenants/cbtoscananord"]);
    assert_eq!(text(&out.stdout).trim(), "cbtoscananord: unchanged", "{}", text(&out.stderr));
}

/// Sends one HTTP/1.1 request and returns (status, body).
pub(crate) fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// Holds the demo's first free time for registry certificates; the hold's answer.
fn hold_first_free_time(addr: &str) -> String {
    let (status, body) = http(
        addr,
        "GET",
        "/api/v1/t/comune-esempio/availability?service=certificati-anagrafici&office=anagrafe&mode=in_person",
        None,
    );
    assert_eq!(status, 200, "{body}");
    let start = json_field(&body, "start");
    let hold =
        format!(r#"{{"service":"certificati-anagrafici","office":"anagrafe","mode":"in_person","start":"{start}"}}"#);
    let (status, body) = http(addr, "POST", "/api/v1/t/comune-esempio/holds", Some(&hold));
    assert_eq!(status, 201, "{body}");
    body
}

pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Extracts `"key":"value"` from a JSON body without a JSON dependency.
pub(crate) fn json_field(body: &str, key: &str) -> String {
    let after = body.split(&format!("\"{key}\":\"")).nth(1).unwrap_or_default();
    after.split('"').next().unwrap_or_default().to_owned()
}

/// The demo's mailbox folder of a test: where its e-mails are written as files.
pub(crate) fn demo_mailbox(db: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sportello-cli-mail-{:x}", rand_suffix() ^ db.len() as u128))
}

/// `sportello serve --demo` on a free port over `db`, logging at trace level: the server, its
/// address, and its log (whole once the server is dropped); its e-mails go to `mailbox`.
fn serve_demo_into(db: &str, mailbox: &std::path::Path) -> (Server, String, std::thread::JoinHandle<String>) {
    serve_demo_with(db, mailbox, &[])
}

/// `serve_demo_into` with more arguments.
pub(crate) fn serve_demo_with(
    db: &str,
    mailbox: &std::path::Path,
    more: &[&str],
) -> (Server, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .env("SPORTELLO_LOG", "trace")
        .env_remove("SPORTELLO_DATABASE_URL")
        .args(["--database-url", db, "serve", "--demo", "--bind", "127.0.0.1:0"])
        .arg("--mail-dir")
        .arg(mailbox)
        .args(more)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let logs = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut all);
        all
    });
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("Sportello is listening on http://")
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
        })
        .expect("listening line");
    (server, addr, logs)
}

fn serve_demo(db: &str) -> (Server, String, std::thread::JoinHandle<String>) {
    serve_demo_into(db, &demo_mailbox(db))
}

/// A booking on the demo: its confirmation is written to the demo's mailbox (no mail server
/// needed), and nothing personal reaches the log.
#[test]
fn serve_demo_books_without_logging_personal_data() {
    let db = temp_db();
    let mailbox = demo_mailbox(&db);
    let (server, addr, logs) = serve_demo_into(&db, &mailbox);
    assert_eq!(http(&addr, "GET", "/healthz", None), (200, "ok".to_owned()));
    let body = hold_first_free_time(&addr);
    let booking = format!(
        r#"{{"hold_id":"{}","hold_token":"{}","citizen":{{"first_name":"Giuseppina","last_name":"Verdissima","email":"giuseppina.verdissima@example.it","phone":"+39 347 987 6543","fiscal_code":"RSSMRA85T10A562S"}},"reason":"residenza","privacy_accepted":true}}"#,
        json_field(&body, "hold_id"),
        json_field(&body, "hold_token")
    );
    let (status, body) = http(&addr, "POST", "/api/v1/t/comune-esempio/bookings", Some(&booking));
    assert_eq!(status, 201, "{body}");
    let (code, token) = (json_field(&body, "code"), json_field(&body, "manage_token"));
    let (status, _) = http(&addr, "GET", &format!("/api/v1/t/comune-esempio/bookings/{code}?token={token}"), None);
    assert_eq!(status, 200);
    // The outbox's worker writes the confirmation to the mailbox within seconds.
    let confirmation = (0..100).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let files = std::fs::read_dir(&mailbox).ok()?;
        let mut messages = files.filter_map(Result::ok).filter_map(|f| std::fs::read_to_string(f.path()).ok());
        messages.find(|m| m.contains("To: giuseppina.verdissima@example.it"))
    });
    let confirmation = confirmation.expect("the confirmation e-mail in the demo's mailbox");
    assert!(confirmation.contains(".confirmation@sportello>"), "{confirmation}");
    drop(server);
    let logs = logs.join().unwrap();
    assert!(logs.contains("/api/v1/t/comune-esempio/bookings"), "requests are logged: {logs}");
    for personal in ["Giuseppina", "Verdissima", "giuseppina.verdissima", "987 6543", "3479876543", "RSSMRA85T10A562S"]
    {
        assert!(!logs.contains(personal), "{personal} leaked into the logs");
    }
}

/// With `--log-format json` every line is one JSON object, and a request's lines carry the id its
/// answer returned: what a citizen quotes finds the lines in a collector.
#[test]
fn json_logs_carry_the_request_id() {
    let db = temp_db();
    let (server, addr, logs) = serve_demo_with(&db, &demo_mailbox(&db), &["--log-format", "json"]);
    let mut stream = TcpStream::connect(&addr).expect("connect");
    let request = format!(
        "GET /api/v1/t/comune-esempio/services HTTP/1.1\r\nHost: {addr}\r\nX-Request-Id: quoted-by-a-citizen-7\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_ascii_lowercase().contains("x-request-id: quoted-by-a-citizen-7"), "{response}");
    drop(server);
    let logs = logs.join().unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(lines.len() > 10, "{logs}");
    assert!(lines.iter().all(|l| l["level"].is_string() && l["timestamp"].is_string()), "{logs}");
    let of_request: Vec<_> = lines.iter().filter(|l| l["span"]["id"] == "quoted-by-a-citizen-7").collect();
    assert!(
        of_request.iter().any(|l| l.to_string().contains("/api/v1/t/comune-esempio/services")),
        "the request's own line: {logs}"
    );
}

/// The database goes away under a running server: pages and the API say the service is
/// unavailable (503 with Retry-After), and the log says why, once per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_said_and_logged() {
    let Ok(server) = std::env::var("SPORTELLO_TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").map_or(true, |ci| ci != "true"), "CI=true needs SPORTELLO_TEST_POSTGRES_URL");
        eprintln!("SKIPPED: the outage test needs SPORTELLO_TEST_POSTGRES_URL");
        return;
    };
    let database = crate::support::fresh_database(&server).await;
    let name = database.rsplit('/').next().unwrap().to_owned();
    let (running, addr, logs) = serve_demo(&database);
    // A month with bookable days (a week ahead is within the horizon), so the page must read the ledger.
    let next_month = (chrono::Utc::now() + chrono::TimeDelta::days(7)).format("%Y-%m");
    let calendar = &format!("/t/comune-esempio/s/certificati-anagrafici/o/anagrafe/m/in_person?month={next_month}");
    assert_eq!(http(&addr, "GET", calendar, None).0, 200);
    let admin = sea_orm::Database::connect(format!("{server}/postgres")).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
    let mut ids = Vec::new();
    for path in [
        calendar.as_str(),
        "/api/v1/t/comune-esempio/availability?service=certificati-anagrafici&office=anagrafe&mode=in_person",
    ] {
        let (status, head, body) = http_with_head(&addr, path);
        assert_eq!(status, 503, "{path}: {body}");
        assert!(head.to_ascii_lowercase().contains("retry-after:"), "{path}: {head}");
        assert!(!body.contains("Scegli un altro orario") && !body.contains("slot-taken"), "not disguised: {body}");
        let id = head.lines().find_map(|l| l.strip_prefix("x-request-id: ")).expect("the request's id").to_owned();
        ids.push(id);
    }
    drop(running);
    let logs = logs.join().unwrap();
    assert!(logs.contains("request failed") && logs.contains("unavailable"), "the outage is logged: {logs}");
    // The code a citizen quotes leads to the line saying what went wrong.
    for id in ids {
        let failed = logs.lines().find(|l| l.contains(&format!("id={id}")) && l.contains("request failed"));
        assert!(failed.is_some(), "no failure logged under {id}: {logs}");
    }
}

/// A GET, answered as (status, head, body).
fn http_with_head(addr: &str, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
    (status, head.to_owned(), body.to_owned())
}

/// `sportello admin create` with the password on standard input: made once, then the role is
/// added to the existing account; a weak password or a role without its tenant is refused.
#[test]
fn admin_create_reads_the_password_from_stdin() {
    let db = temp_db();
    let create = |args: &[&str], password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
            .current_dir(repo())
            .env_remove("SPORTELLO_DATABASE_URL")
            .args(["--database-url", &db, "admin", "create", "--password-stdin"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sportello");
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = create(&["--email", "Primo@Example.it", "--role", "platform"], "chiusa sul serchio");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "Primo@Example.it: created (platform)");
    let out = create(&["--email", "primo@example.it", "--role", "platform"], "chiusa sul serchio");
    assert_eq!(text(&out.stdout).trim(), "primo@example.it: exists; role added (platform)");

    let out = create(&["--email", "debole@example.it", "--role", "platform"], "password1234");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("password: this password is among the most common"), "{}", text(&out.stderr));
    let out = create(&["--email", "senza@example.it", "--role", "tenant"], "chiusa sul serchio");
    assert!(text(&out.stderr).contains("tenant: Name the tenant"), "{}", text(&out.stderr));
}

/// SIGTERM while a booking is on its way in: the server takes no new connection, makes and answers
/// the booking, and exits cleanly well within its bound.
#[test]
fn sigterm_lets_a_booking_in_flight_finish() {
    let db = temp_db();
    let (mut server, addr, logs) = serve_demo(&db);
    let body = hold_first_free_time(&addr);
    let booking = format!(
        r#"{{"hold_id":"{}","hold_token":"{}","citizen":{{"first_name":"Ada","last_name":"Rossi","email":"ada@example.it","phone":"+39 347 000 0001"}},"reason":"residenza","privacy_accepted":true}}"#,
        json_field(&body, "hold_id"),
        json_field(&body, "hold_token")
    );
    // Half the request is sent, then the signal comes.
    let mut stream = TcpStream::connect(&addr).expect("connect");
    let head = format!(
        "POST /api/v1/t/comune-esempio/bookings HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        booking.len()
    );
    let (first, rest) = booking.split_at(booking.len() / 2);
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first.as_bytes()).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let signalled = std::time::Instant::now();
    let killed = Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(TcpStream::connect(&addr).is_err(), "no new connection once stopping");
    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let exited = (0..200).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        server.0.try_wait().unwrap()
    });
    let exited = exited.expect("exited within 20 seconds");
    assert!(exited.success(), "{exited:?}");
    assert!(signalled.elapsed() < std::time::Duration::from_secs(20), "{:?}", signalled.elapsed());
    drop(server);
    let logs = logs.join().unwrap();
    assert!(logs.contains("shutting down") && logs.contains("stopped"), "{logs}");
}
