//! No personal data in logs, metrics, error answers or URLs: a real `sportello serve` (the demo,
//! its own log on standard output at `info`, Sportello's own at `debug`) is driven through the
//! public API, the pages, the citizen's rights, the staff API and the desk with a citizen whose
//! every datum is recognisable; then its whole output and `/metrics` are searched for each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use chrono::{Days, Utc};
use serde_json::{Value, json};

const TENANT: &str = "comune-esempio";
/// What the citizen leaves, each part findable on its own.
const FIRST: &str = "Zeferina";
const LAST: &str = "Quagliottini";
const EMAIL: &str = "zeferina.quagliottini@example.it";
const PHONE: &str = "+39 347 555 0173";
const PHONE_DIGITS: &str = "3475550173";
const FISCAL_CODE: &str = "RSSMRA85T10A562S";
const FREE_TEXT: &str = "Portinaio Brambillone";
const NOTE: &str = "Nota Sparapanata";
const REASON: &str = "Motivo Scarpantibus";

/// The server, with everything it writes kept.
struct Server {
    base: String,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Server {
    fn start(scratch: &Path) -> Self {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
            .env_remove("SPORTELLO_DATABASE_URL")
            .env("SPORTELLO_LOG", "info,sportello=debug")
            .arg("--database-url")
            .arg(format!("sqlite://{}/s.db?mode=rwc", scratch.display()))
            .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--plain-http", "--tenants-dir"])
            .arg(repo.join("tenants"))
            .arg("--mail-dir")
            .arg(scratch.join("mail"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sportello");
        let output = Arc::new(Mutex::new(String::new()));
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let kept = output.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (listening, rest) = std::sync::mpsc::channel();
        let kept = output.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if line.starts_with("Sportello is listening on ") {
                    let _ = listening.send(line.clone());
                }
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let line = rest.recv_timeout(std::time::Duration::from_secs(120)).expect("listening line");
        let base = line.trim_start_matches("Sportello is listening on ").split_whitespace().next().unwrap().to_owned();
        Self { base, child, output }
    }

    /// The password the demo printed for `email`.
    fn demo_password(&self, email: &str) -> String {
        let output = self.output.lock().unwrap();
        let line = output.lines().find(|l| l.contains(email) && !l.contains("INFO")).expect("demo account line");
        line.split_whitespace().last().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_personal_reaches_the_logs_or_the_metrics() {
    let scratch = std::env::temp_dir().join(format!("sportello-personal-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch).unwrap();
    let server = Server::start(&scratch);
    sportello::webhooks::install_tls_provider();
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{}/api/v1/t/{TENANT}{path}", server.base);

    // A time for the identity card (fiscal code, checked by the body's plugin), a few days ahead.
    let from = Utc::now().date_naive().checked_add_days(Days::new(3)).unwrap();
    let to = from.checked_add_days(Days::new(14)).unwrap();
    let (status, days) =
        call(client.get(api(&format!(
            "/availability?service=carta-identita&office=anagrafe&mode=in_person&from={from}&to={to}"
        ))))
        .await;
    assert_eq!(status, 200, "{days}");
    let start = days["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["slots"].as_array().cloned().unwrap_or_default())
        .next()
        .expect("a free time")["start"]
        .clone();
    let hold_body = json!({"service": "carta-identita", "office": "anagrafe", "mode": "in_person", "start": start});
    let (status, hold) = call(client.post(api("/holds")).json(&hold_body)).await;
    assert_eq!(status, 201, "{hold}");
    let citizen =
        json!({"first_name": FIRST, "last_name": LAST, "email": EMAIL, "phone": PHONE, "fiscal_code": FISCAL_CODE});
    // Refused first (the e-mail misspelt, the fiscal code's check letter wrong): the answer names
    // the fields, never echoes what was typed.
    let mut wrong = json!({"hold_id": hold["hold_id"], "hold_token": hold["hold_token"], "citizen": citizen.clone(), "privacy_accepted": true, "details": FREE_TEXT});
    wrong["citizen"]["email"] = json!(format!("{EMAIL}@"));
    wrong["citizen"]["fiscal_code"] = json!("RSSMRA85T10A562X");
    let (status, refused) = call(client.post(api("/bookings")).json(&wrong)).await;
    assert_eq!(status, 422, "{refused}");
    assert!(!refused.to_string().contains(FIRST) && !refused.to_string().contains("RSSMRA85T10A562X"), "{refused}");
    let good = json!({"hold_id": hold["hold_id"], "hold_token": hold["hold_token"], "citizen": citizen, "privacy_accepted": true, "details": FREE_TEXT});
    let (status, booking) = call(client.post(api("/bookings")).json(&good)).await;
    assert_eq!(status, 201, "{booking}");
    let code = booking["code"].as_str().unwrap().to_owned();
    let token = booking["manage_token"].as_str().unwrap().to_owned();
    let proved = |path: &str| client.get(api(&format!("/bookings/{code}{path}"))).header("Booking-Email", EMAIL);
    assert_eq!(call(proved("")).await.0, 200);
    assert_eq!(call(proved("/calendar.ics")).await.0, 200);
    assert_eq!(call(proved("/personal-data")).await.0, 200);
    let wrong_proof = client.get(api(&format!("/bookings/{code}"))).header("Booking-Email", format!("x{EMAIL}"));
    assert_eq!(call(wrong_proof).await.0, 404);

    // The pages: the booking found by code and e-mail (in a form), its copy downloaded.
    let page = |path: &str| format!("{}/t/{TENANT}{path}", server.base);
    let found = client.post(page("/booking")).form(&[("code", code.as_str()), ("email", EMAIL)]).send().await.unwrap();
    assert_eq!(found.status().as_u16(), 200);
    let copy = client.post(page("/booking/data")).form(&[("code", code.as_str()), ("token", token.as_str())]);
    assert_eq!(copy.send().await.unwrap().status().as_u16(), 200);

    // Staff: signed in by the API, the agenda searched by name, the booking opened and noted, a
    // phone booking for the same citizen, the CSV export, the office's cancellation with a reason.
    let admin = "admin@comune-esempio.example";
    let credentials = json!({"email": admin, "password": server.demo_password(admin)});
    let (status, session) = call(client.post(format!("{}/api/v1/admin/session", server.base)).json(&credentials)).await;
    assert_eq!(status, 201, "{session}");
    let bearer = format!("Bearer {}", session["token"].as_str().unwrap());
    let staff = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{}/api/v1/admin/t/{TENANT}{path}", server.base))
            .header("authorization", &bearer)
    };
    let day = start.as_str().unwrap()[..10].to_owned();
    let (status, agenda) =
        call(staff(reqwest::Method::GET, &format!("/bookings?office=anagrafe&date={day}&q={LAST}"))).await;
    assert_eq!((status, agenda.as_array().map(Vec::len)), (200, Some(1)), "{agenda}");
    assert_eq!(call(staff(reqwest::Method::GET, &format!("/bookings/{code}"))).await.0, 200);
    let note = json!({"note": NOTE});
    assert_eq!(call(staff(reqwest::Method::PUT, &format!("/bookings/{code}/note")).json(&note)).await.0, 204);
    let (status, export) = call(staff(reqwest::Method::GET, &format!("/export/bookings?from={day}&to={day}"))).await;
    assert_eq!(status, 200, "{export}");
    let phoned = json!({
        "service": "certificati-anagrafici", "office": "anagrafe", "mode": "in_person", "channel": "phone",
        "start": start, "reason": "residenza", "privacy_accepted": true,
        "citizen": {"first_name": FIRST, "last_name": LAST, "phone": PHONE}, "details": FREE_TEXT,
    });
    let (status, _) = call(staff(reqwest::Method::POST, "/bookings").json(&phoned)).await;
    assert!(matches!(status, 201 | 409 | 422), "{status}");
    let cancel = json!({"reason": REASON});
    let (status, cancelled) =
        call(staff(reqwest::Method::POST, &format!("/bookings/{code}/cancel")).json(&cancel)).await;
    assert_eq!(status, 200, "{cancelled}");
    // And the citizen erases what is left.
    let erase = client.post(api(&format!("/bookings/{code}/personal-data/erase"))).json(&json!({"token": token}));
    assert_eq!(call(erase).await.0, 200);

    let metrics = client.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("sportello_"), "the metrics are there to search");
    // Give the log a moment to reach the pipe.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let output = server.output.lock().unwrap().clone();
    assert!(output.contains("request"), "the access log is there to search");
    assert!(output.contains(&code.replace('-', "")) || output.contains("/bookings/"), "requests were logged");
    for needle in [FIRST, LAST, EMAIL, "quagliottini", PHONE_DIGITS, "555 0173", FISCAL_CODE, FREE_TEXT, NOTE, REASON] {
        let lower = needle.to_lowercase();
        assert!(!output.to_lowercase().contains(&lower), "{needle} is in the server's output:\n{output}");
        assert!(!metrics.to_lowercase().contains(&lower), "{needle} is in /metrics");
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
