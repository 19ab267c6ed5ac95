//! The `sportello` binary as an operator runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_db() -> String {
    let dir = std::env::temp_dir().join(format!("sportello-cli-{}-{}", std::process::id(), rand_suffix()));
    format!("sqlite://{}/s.db?mode=rwc", dir.display())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn sportello(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .env_remove("SPORTELLO_DATABASE_URL")
        .args(["--database-url", db])
        .args(args)
        .output()
        .expect("run sportello")
}

fn text(bytes: &[u8]) -> String {
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

/// Sends one HTTP/1.1 request and returns (status, body).
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
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

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Extracts `"key":"value"` from a JSON body without a JSON dependency.
fn json_field(body: &str, key: &str) -> String {
    let after = body.split(&format!("\"{key}\":\"")).nth(1).unwrap_or_default();
    after.split('"').next().unwrap_or_default().to_owned()
}

#[test]
fn serve_demo_books_without_logging_personal_data() {
    let db = temp_db();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .env("SPORTELLO_LOG", "trace")
        .env_remove("SPORTELLO_DATABASE_URL")
        .args(["--database-url", &db, "serve", "--demo", "--bind", "127.0.0.1:0"])
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

    assert_eq!(http(&addr, "GET", "/healthz", None), (200, "ok".to_owned()));
    let (status, body) = http(
        &addr,
        "GET",
        "/api/v1/t/comune-esempio/availability?service=certificati-anagrafici&office=anagrafe&mode=in_person",
        None,
    );
    assert_eq!(status, 200, "{body}");
    let start = json_field(&body, "start");
    let hold =
        format!(r#"{{"service":"certificati-anagrafici","office":"anagrafe","mode":"in_person","start":"{start}"}}"#);
    let (status, body) = http(&addr, "POST", "/api/v1/t/comune-esempio/holds", Some(&hold));
    assert_eq!(status, 201, "{body}");
    let booking = format!(
        r#"{{"hold_id":"{}","hold_token":"{}","citizen":{{"first_name":"Giuseppina","last_name":"Verdissima","email":"giuseppina.verdissima@example.it","phone":"+39 347 987 6543","fiscal_code":"RSSMRA85T10A562S"}},"reason":"residenza","privacy_accepted":true}}"#,
        json_field(&body, "hold_id"),
        json_field(&body, "hold_token")
    );
    let (status, body) = http(&addr, "POST", "/api/v1/t/comune-esempio/bookings", Some(&booking));
    assert_eq!(status, 201, "{body}");
    let code = json_field(&body, "code");
    let (status, _) = http(
        &addr,
        "GET",
        &format!("/api/v1/t/comune-esempio/bookings/{code}?email=giuseppina.verdissima@example.it"),
        None,
    );
    assert_eq!(status, 200);
    drop(server);
    let logs = logs.join().unwrap();
    assert!(logs.contains("/api/v1/t/comune-esempio/bookings"), "requests are logged: {logs}");
    for personal in ["Giuseppina", "Verdissima", "giuseppina.verdissima", "987 6543", "3479876543", "RSSMRA85T10A562S"]
    {
        assert!(!logs.contains(personal), "{personal} leaked into the logs");
    }
}
