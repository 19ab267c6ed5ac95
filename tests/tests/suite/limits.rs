//! Anti-hoarding: live holds per client, requests per minute per IP (an IPv6 client by its /64),
//! bookings per person, and attempts to prove a booking by its e-mail address.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello_tests::{Backend, TestServer, citizen_booking, on_both_backends};

/// Wednesday 2 December 2026, from 08:00 in Rome, every half hour.
fn slot(n: u32) -> String {
    format!("2026-12-02T{:02}:{:02}:00+01:00", 8 + n / 2, (n % 2) * 30)
}

async fn hold_as(s: &TestServer, client: &str, start: &str) -> (u16, Value, Option<String>) {
    let body = json!({"service": "visita", "office": "sede", "mode": "in_person", "start": start});
    let response =
        s.http.post(s.url("limitato", "/holds")).header("X-Forwarded-For", client).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap(), retry_after)
}

async fn book_as(s: &TestServer, client: &str, body: &Value) -> (u16, Value) {
    let response =
        s.http.post(s.url("limitato", "/bookings")).header("X-Forwarded-For", client).json(body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn release(s: &TestServer, hold: &Value) {
    let id = hold["hold_id"].as_str().unwrap();
    let token = hold["hold_token"].as_str().unwrap();
    let response = s.http.delete(s.url("limitato", &format!("/holds/{id}"))).header("Hold-Token", token).send();
    assert_eq!(response.await.unwrap().status(), 204);
}

async fn live_holds_per_client(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (first, second) = (hold_as(&s, "203.0.113.1", &slot(0)).await, hold_as(&s, "203.0.113.1", &slot(1)).await);
    assert_eq!((first.0, second.0), (201, 201));
    let (status, body, _) = hold_as(&s, "203.0.113.1", &slot(2)).await;
    assert_eq!((status, body["type"].as_str()), (429, Some("/problems/too-many-holds")), "{body}");
    assert_eq!(hold_as(&s, "203.0.113.2", &slot(2)).await.0, 201, "another client is not affected");
    release(&s, &first.1).await;
    assert_eq!(hold_as(&s, "203.0.113.1", &slot(2)).await.0, 201, "releasing a hold frees a share");
}

async fn holds_per_minute(backend: Backend) {
    let s = TestServer::start(backend).await;
    for n in 0..4 {
        let (status, hold, _) = hold_as(&s, "198.51.100.5", &slot(n)).await;
        assert_eq!(status, 201, "{hold}");
        release(&s, &hold).await;
    }
    let (status, body, retry_after) = hold_as(&s, "198.51.100.5", &slot(4)).await;
    assert_eq!((status, body["type"].as_str()), (429, Some("/problems/rate-limited")), "{body}");
    assert_eq!(retry_after.as_deref(), Some("15"), "4 a minute: one every 15 s");
    assert_eq!(hold_as(&s, "198.51.100.6", &slot(4)).await.0, 201, "a bucket per address");
    s.clock.advance(TimeDelta::seconds(15));
    assert_eq!(hold_as(&s, "198.51.100.5", &slot(4)).await.0, 201);
}

async fn bookings_per_minute_and_per_person(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = "192.0.2.10";
    // One person, one upcoming booking of this service.
    let (_, hold, _) = hold_as(&s, client, &slot(0)).await;
    let (status, booking) = book_as(&s, client, &citizen_booking(&hold, "anna@example.it")).await;
    assert_eq!(status, 201, "{booking}");
    let (_, hold, _) = hold_as(&s, client, &slot(1)).await;
    let again = citizen_booking(&hold, "ANNA@example.it");
    let (status, body) = book_as(&s, client, &again).await;
    assert_eq!((status, body["type"].as_str()), (409, Some("/problems/booking-limit-reached")), "same e-mail: {body}");
    let mut same_phone = citizen_booking(&hold, "other@example.it");
    same_phone["citizen"]["phone"] = json!("+39 333 765 4321");
    let (status, _) = book_as(&s, client, &same_phone).await;
    assert_eq!(status, 409, "same phone");
    let cancel = s.url("limitato", &format!("/bookings/{}/cancel", booking["code"].as_str().unwrap()));
    assert_eq!(s.post(&cancel, &json!({"email": "anna@example.it"})).await.0, 200);
    // Refused attempts spent tokens too (the limit counts attempts): wait for the bucket.
    s.clock.advance(TimeDelta::minutes(1));
    let (status, _) = book_as(&s, client, &again).await;
    assert_eq!(status, 201, "after cancelling, the person may book again");

    // Bookings per minute from one address: 3, and the 4th is refused with Retry-After.
    let other = "192.0.2.11";
    s.clock.advance(TimeDelta::minutes(1));
    for n in 2..5 {
        let (_, hold, _) = hold_as(&s, other, &slot(n)).await;
        let mut body = citizen_booking(&hold, &format!("p{n}@example.it"));
        body["citizen"]["phone"] = json!(format!("+39 333 000 000{n}"));
        assert_eq!(book_as(&s, other, &body).await.0, 201);
    }
    let (_, hold, _) = hold_as(&s, other, &slot(6)).await;
    let mut body = citizen_booking(&hold, "p6@example.it");
    body["citizen"]["phone"] = json!("+39 333 000 0006");
    let (status, problem) = book_as(&s, other, &body).await;
    assert_eq!((status, problem["type"].as_str()), (429, Some("/problems/rate-limited")), "{problem}");
}

/// One person, ten simultaneous confirmations from ten addresses: the limit of one holds.
async fn person_limit_under_concurrency(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut holds = Vec::new();
    for n in 0..10 {
        let (status, hold, _) = hold_as(&s, &format!("203.0.113.{}", 100 + n), &slot(n % 8)).await;
        assert_eq!(status, 201, "{hold}");
        holds.push((format!("203.0.113.{}", 100 + n), hold));
    }
    let confirms = holds.iter().map(|(client, hold)| {
        let s = &s;
        async move { book_as(s, client, &citizen_booking(hold, "same.person@example.it")).await.0 }
    });
    let mut statuses = futures::future::join_all(confirms).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409], "{}", s.backend);
}

/// `GET /bookings/{code}` of `prova` proved by `email`, from `client`: the status and Retry-After.
async fn prove_as(s: &TestServer, client: &str, code: &str, email: &str) -> (u16, Option<String>) {
    let response = s
        .http
        .get(s.url("prova", &format!("/bookings/{code}")))
        .header("X-Forwarded-For", client)
        .header("Booking-Email", email)
        .send()
        .await
        .unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), retry_after)
}

/// Guessing a booking's e-mail address (or which codes exist) meets a limit per client — an
/// IPv6 client rotating its addresses within its /64 is one client — and per code, whoever asks.
async fn proofs_by_email_are_counted(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, hold) = s.hold("prova", "visita", "sede", "in_person", "2026-12-02T09:00:00+01:00").await;
    assert_eq!(status, 201, "{hold}");
    let (status, booking) = s.book("prova", &hold, "vera@example.it").await;
    assert_eq!(status, 201, "{booking}");
    let code = booking["code"].as_str().unwrap();
    let limit = sportello::app::PROOFS_PER_MINUTE as usize;
    let other_codes: Vec<String> =
        (0..limit).map(|n| format!("ABCDEFG{}", ["H", "J", "K", "M", "N", "P", "Q", "R", "S", "T"][n % 10])).collect();

    // One client trying codes: each costs a try, found or not.
    for other in &other_codes {
        assert_eq!(prove_as(&s, "203.0.113.50", other, "vera@example.it").await.0, 404);
    }
    let (status, retry_after) = prove_as(&s, "203.0.113.50", code, "vera@example.it").await;
    assert_eq!((status, retry_after.is_some()), (429, true), "the client's tries are spent");
    assert_eq!(prove_as(&s, "203.0.113.51", code, "vera@example.it").await.0, 200, "another client is not");

    // An IPv6 client: every address of its /64 is the same client; the next /64 is another.
    for (n, other) in other_codes.iter().enumerate() {
        assert_eq!(prove_as(&s, &format!("2001:db8:7:1::{:x}", n + 1), other, "x@example.it").await.0, 404);
    }
    assert_eq!(prove_as(&s, "2001:db8:7:1:ffff::9", code, "vera@example.it").await.0, 429);
    assert_eq!(prove_as(&s, "2001:db8:7:2::1", code, "vera@example.it").await.0, 200);

    // Many clients guessing one code's address: the code's tries are spent for everyone a while.
    for n in 0..limit - 2 {
        assert_eq!(prove_as(&s, &format!("198.51.100.{n}"), code, &format!("guess{n}@example.it")).await.0, 404);
    }
    assert_eq!(prove_as(&s, "192.0.2.200", code, "vera@example.it").await.0, 429);
    s.clock.advance(TimeDelta::seconds(60));
    assert_eq!(prove_as(&s, "192.0.2.200", code, "vera@example.it").await.0, 200, "a minute later");
    // The manage token, unguessable, is not counted.
    let token = booking["manage_token"].as_str().unwrap();
    for _ in 0..=limit {
        let (status, _) = s.get(&s.url("prova", &format!("/bookings/{code}?token={token}"))).await;
        assert_eq!(status, 200);
    }
}

/// Writes `text` to the server a byte every 200 ms after its first `upfront` bytes, reading the
/// answer meanwhile; the answer (empty when none came within 10 seconds).
fn trickle(base: &str, text: String, upfront: usize) -> tokio::task::JoinHandle<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        let (mut reader, mut writer) = tokio::net::TcpStream::connect(&addr).await.unwrap().into_split();
        let writing = tokio::spawn(async move {
            let bytes = text.into_bytes();
            let _ = writer.write_all(&bytes[..upfront]).await;
            for byte in &bytes[upfront..] {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                if writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
            }
        });
        let mut answer = Vec::new();
        // An error after the answer (the server closed the connection) keeps what was read.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), reader.read_to_end(&mut answer)).await;
        writing.abort();
        String::from_utf8_lossy(&answer).into_owned()
    })
}

/// A crowd of slow clients — 200 sending their headers a byte at a time, 50 their bodies — does
/// not stop a citizen from holding and booking; a body that does not arrive within the server's
/// patience (3 s in the tests) is answered 408 and its connection closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_do_not_stop_others() {
    let s = TestServer::start(Backend::sqlite()).await;
    let head = "POST /api/v1/t/prova/holds HTTP/1.1\r\nHost: sportello\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n";
    let slow_heads: Vec<_> = (0..200).map(|_| trickle(&s.base, head.to_owned(), 0)).collect();
    let slow_bodies: Vec<_> =
        (0..50).map(|_| trickle(&s.base, format!("{head}{}", " ".repeat(60)), head.len())).collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let (status, hold) = s.hold("prova", "visita", "sede", "in_person", &slot(0)).await;
    assert_eq!(status, 201, "{hold}");
    let (status, booking) = s.book("prova", &hold, "paziente@example.org").await;
    assert_eq!(status, 201, "{booking}");

    for answer in slow_bodies {
        let answer = answer.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "a body too slow: {answer:?}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    }
    for head in slow_heads {
        head.abort();
    }
}

on_both_backends!(
    live_holds_per_client,
    holds_per_minute,
    bookings_per_minute_and_per_person,
    person_limit_under_concurrency,
    proofs_by_email_are_counted
);
