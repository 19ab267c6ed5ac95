//! The counter queue: a ticket of the day at check-in (appointments `P…`, walk-ins `A…`), "call
//! next" by the rule, two operators never calling the same citizen, and the display board that
//! shows a call made on another instance within a second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello::domain::Role;
use sportello_tests::staff::Staff;
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::{TENANT, booked};

async fn step(s: &TestServer, who: &Staff, code: &str, action: &str) -> (u16, Value) {
    s.admin_send(who, "POST", &format!("/api/v1/admin/t/{TENANT}/bookings/{code}/{action}"), None, None).await
}

async fn call_next(s: &TestServer, who: &Staff, desk: &str) -> (u16, Value) {
    let path = format!("/api/v1/admin/t/{TENANT}/queue/sede/next");
    s.admin_send(who, "POST", &path, None, Some(&json!({ "desk": desk }))).await
}

async fn walk_in(s: &TestServer, who: &Staff) -> String {
    let body = json!({
        "service": "visita", "office": "sede", "mode": "in_person", "channel": "counter",
        "citizen": { "first_name": "Giovanni", "last_name": "Esposito", "phone": "+39 333 765 4321" },
        "privacy_accepted": true
    });
    let (status, made) =
        s.admin_send(who, "POST", &format!("/api/v1/admin/t/{TENANT}/bookings"), None, Some(&body)).await;
    assert_eq!(status, 201, "{made}");
    made["code"].as_str().unwrap().to_owned()
}

/// 08:00 in Rome: the 08:00 appointment is due, the 09:00 one came early, a walk-in arrives.
/// Tickets count apart per kind; "call next" takes the due appointment, then the walk-in, then
/// the early one; then nobody is waiting. The board shows ticket codes and desks, no names.
async fn tickets_and_calls_follow_the_rule(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let due = booked(&s, "2026-12-01T08:00:00+01:00", "lucia@example.it").await;
    let early = booked(&s, "2026-12-01T09:00:00+01:00", "marco@example.it").await;
    s.clock.advance(TimeDelta::hours(1));
    let operator = s.log_in(&operator.email, sportello_tests::staff::PASSWORD).await;
    let walked_in = walk_in(&s, &operator).await;

    let mut tickets = vec![];
    for code in [&early, &walked_in, &due] {
        let (status, arrived) = step(&s, &operator, code, "check-in").await;
        assert_eq!(status, 200, "{arrived}");
        tickets.push(arrived["ticket"].as_str().unwrap().to_owned());
    }
    assert_eq!(tickets, ["P001", "A001", "P002"]);
    // An undone check-in keeps its ticket: checked in again, it is the same (a number is never
    // given twice: a slip or a phone following it never switches to someone else).
    assert_eq!(step(&s, &operator, &due, "undo").await.0, 200);
    let (_, again) = step(&s, &operator, &due, "check-in").await;
    assert_eq!(again["ticket"], "P002");
    let later = booked(&s, "2026-12-01T09:30:00+01:00", "anna@example.it").await;
    assert_eq!(step(&s, &operator, &later, "check-in").await.1["ticket"], "P003");
    assert_eq!(step(&s, &operator, &later, "undo").await.0, 200, "P003 is not called: it stays home");

    // A double press calls one citizen.
    let (first, again) = (call_next(&s, &operator, "Sportello 1").await, call_next(&s, &operator, "Sportello 1").await);
    assert_eq!((first.0, again.0), (200, 200));
    assert_eq!(first.1["ticket"], again.1["ticket"], "the same press");
    let mut called = vec![first.1["ticket"].as_str().unwrap().to_owned()];
    for _ in 0..2 {
        s.clock.advance(TimeDelta::seconds(5));
        let (status, next) = call_next(&s, &operator, "Sportello 1").await;
        assert_eq!(
            (status, next["status"].as_str(), next["desk"].as_str()),
            (200, Some("called"), Some("Sportello 1"))
        );
        called.push(next["ticket"].as_str().unwrap().to_owned());
    }
    assert_eq!(called, ["P002", "A001", "P001"], "due, walk-in, early");
    s.clock.advance(TimeDelta::seconds(5));
    let (status, none) = call_next(&s, &operator, "Sportello 1").await;
    assert_eq!(status, 409, "{none}");
    assert!(none["type"].as_str().unwrap().ends_with("nobody-waiting"), "{none}");
    let (status, problem) = call_next(&s, &operator, "  ").await;
    assert_eq!(status, 422, "a desk is named: {problem}");

    // A minute on, called again to another desk: the board shows it as the latest.
    s.clock.advance(TimeDelta::minutes(1));
    let path = format!("/api/v1/admin/t/{TENANT}/bookings/{due}/call?desk=Sportello%202");
    assert_eq!(s.admin_send(&operator, "POST", &path, None, None).await.0, 200);
    let board = s.http.get(format!("{}/t/{TENANT}/board/sede", s.base)).send().await.unwrap();
    assert_eq!(board.status().as_u16(), 200);
    let board = board.text().await.unwrap();
    let now = board.split("board-now").nth(1).unwrap().split("</div>").next().unwrap();
    assert!(now.contains("P002") && now.contains("Sportello 2"), "{now}");
    assert!(board.contains("A001") && board.contains("P001"), "{board}");
    assert!(!board.contains("Esposito") && !board.contains("Bianchi"), "no names on the board");
    let missing = s.http.get(format!("{}/t/{TENANT}/board/nowhere", s.base)).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

/// Six citizens check in at once and two operators press "call next" at once, again and again:
/// six different tickets, each called once, then nobody.
async fn two_operators_never_call_the_same_ticket(backend: Backend) {
    let s = TestServer::start(backend).await;
    let first = s.staff("uno@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let second = s.staff("due@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let mut codes = vec![];
    for n in 0..6 {
        codes.push(booked(&s, &format!("2026-12-01T0{}:00:00+01:00", 8 + n / 3), &format!("c{n}@example.it")).await);
    }
    let arrivals = futures::future::join_all(codes.iter().enumerate().map(|(n, code)| {
        let who = if n % 2 == 0 { &first } else { &second };
        step(&s, who, code, "check-in")
    }))
    .await;
    let mut tickets: Vec<String> = arrivals.iter().map(|(_, b)| b["ticket"].as_str().unwrap().to_owned()).collect();
    tickets.sort();
    assert_eq!(tickets, ["P001", "P002", "P003", "P004", "P005", "P006"], "{arrivals:?}");

    let mut called = vec![];
    for _ in 0..3 {
        s.clock.advance(TimeDelta::seconds(5));
        let (a, b) = tokio::join!(call_next(&s, &first, "Sportello 1"), call_next(&s, &second, "Sportello 2"));
        for (status, body) in [a, b] {
            assert_eq!(status, 200, "{body}");
            called.push(body["ticket"].as_str().unwrap().to_owned());
        }
    }
    called.sort();
    assert_eq!(called, tickets, "each once");
    s.clock.advance(TimeDelta::seconds(5));
    assert_eq!(call_next(&s, &first, "Sportello 1").await.0, 409);
}

/// A board connected to one instance shows, within a second, a call made on another instance
/// (both over one database).
async fn a_call_reaches_a_board_on_another_instance_within_a_second(backend: Backend) {
    let a = TestServer::start(backend).await;
    let b = a.another_instance().await;
    let operator = a.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let code = booked(&a, "2026-12-01T08:00:00+01:00", "lucia@example.it").await;
    assert_eq!(step(&a, &operator, &code, "check-in").await.0, 200);

    let mut events = b.http.get(format!("{}/t/{TENANT}/board/sede/events", b.base)).send().await.unwrap();
    assert_eq!(events.status().as_u16(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        seen.push_str(&String::from_utf8_lossy(&events.chunk().await.unwrap().unwrap()));
    }
    assert!(seen.contains("event: calls") && seen.contains("data: {\"calls\":[]}"), "nobody called yet: {seen}");

    let called_at = Instant::now();
    assert_eq!(call_next(&a, &operator, "Sportello 3").await.0, 200);
    let mut pushed = String::new();
    while !pushed.contains("P001") {
        let chunk = tokio::time::timeout(Duration::from_secs(2), events.chunk()).await.expect("pushed in time");
        pushed.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    let took = called_at.elapsed();
    assert!(took < Duration::from_secs(1), "the board heard of it after {took:?}");
    assert!(pushed.contains("\"desk\":\"Sportello 3\""), "{pushed}");
}

/// A citizen follows their ticket on their phone: how many before them, then — once a service
/// was timed — about how long; then their desk; then that it is done. The page updates by push.
async fn a_citizen_follows_their_ticket(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.clock.advance(TimeDelta::hours(1)); // 08:00 in Rome
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let mut codes = vec![];
    for n in 0..3 {
        let code = booked(&s, "2026-12-01T08:30:00+01:00", &format!("c{n}@example.it")).await;
        assert_eq!(step(&s, &operator, &code, "check-in").await.0, 200);
        codes.push(code);
    }
    let page = |ticket: &str| {
        let url = format!("{}/t/{TENANT}/board/sede/ticket/{ticket}", s.base);
        let request = s.http.get(url).header("accept-language", "it");
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, mine) = page("p003").await;
    assert_eq!(status, 200, "{mine}");
    assert!(mine.contains("P003") && mine.contains("2 persone prima di te."), "{mine}");
    assert!(!mine.contains("Circa"), "no estimate before any service was timed");
    assert!(!mine.contains("Bianchi"), "nothing of the holder");

    assert_eq!(call_next(&s, &operator, "Sportello 1").await.1["ticket"], "P001");
    s.clock.advance(TimeDelta::minutes(4));
    assert_eq!(step(&s, &operator, &codes[0], "complete").await.0, 200);
    let (_, mine) = page("P003").await;
    assert!(mine.contains("Una persona prima di te. Circa 4 minuti."), "{mine}");

    let url = format!("{}/t/{TENANT}/board/sede/ticket/P003/events", s.base);
    let mut events = s.http.get(url).header("accept-language", "it").send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        seen.push_str(&String::from_utf8_lossy(&events.chunk().await.unwrap().unwrap()));
    }
    assert!(seen.contains("event: ticket") && seen.contains("Una persona prima di te."), "{seen}");
    call_next(&s, &operator, "Sportello 1").await;
    call_next(&s, &operator, "Sportello 2").await;
    let mut pushed = String::new();
    while !pushed.contains("Tocca a te") {
        let chunk = tokio::time::timeout(Duration::from_secs(2), events.chunk()).await.expect("pushed in time");
        pushed.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    assert!(pushed.contains("Tocca a te: vai a Sportello 2."), "{pushed}");
    assert_eq!(step(&s, &operator, &codes[2], "complete").await.0, 200);
    let (_, done) = page("P003").await;
    assert!(done.contains("Questo biglietto non è più in coda."), "{done}");
    assert_eq!(page("P099").await.0, 404);
    assert_eq!(page("<script>").await.0, 404);
}

/// A citizen at the counter sent on to another service's queue: this visit served, a walk-in
/// for the other booked now and checked in with a new ticket. Pressed twice at once, once; a
/// service that asks for more than this booking holds refuses, and the visit is as it was.
async fn a_citizen_is_sent_on_to_another_service(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let code = booked(&s, "2026-12-01T08:00:00+01:00", "lucia@example.it").await;
    let later = booked(&s, "2026-12-01T10:00:00+01:00", "marco@example.it").await;
    s.clock.advance(TimeDelta::hours(1));
    let operator = s.log_in(&operator.email, sportello_tests::staff::PASSWORD).await;
    let send_on = |code: String, service: &'static str| {
        let path = format!("/api/v1/admin/t/{TENANT}/bookings/{code}/send-on");
        let (s, operator) = (&s, &operator);
        async move { s.admin_send(operator, "POST", &path, None, Some(&json!({ "service": service }))).await }
    };
    let (status, refused) = send_on(code.clone(), "lunga").await;
    assert_eq!(
        (status, refused["errors"][0]["code"].as_str()),
        (422, Some("not_at_counter")),
        "not arrived: {refused}"
    );
    assert_eq!(step(&s, &operator, &code, "check-in").await.0, 200);
    assert_eq!(step(&s, &operator, &code, "call?desk=Sportello%201").await.0, 200);
    let (status, same) = send_on(code.clone(), "visita").await;
    assert_eq!((status, same["errors"][0]["code"].as_str()), (422, Some("same_service")), "{same}");

    // With a fiscal code, a reason and a notice number to give, `con-cf` cannot be booked from
    // this visit: refused, and the citizen is still called at the desk.
    let (status, more) = send_on(code.clone(), "con-cf").await;
    assert_eq!(status, 422, "{more}");
    let (_, still) = s.admin_get(&operator, &format!("/api/v1/admin/t/{TENANT}/bookings/{code}")).await;
    assert_eq!((still["status"].as_str(), still["desk"].as_str()), (Some("called"), Some("Sportello 1")), "{still}");

    let (first, second) = tokio::join!(send_on(code.clone(), "lunga"), send_on(code.clone(), "lunga"));
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    // The second is refused: it changed under it (409), or it read the visit already served (422).
    assert!(matches!(statuses, [201, 409] | [201, 422]), "{first:?} {second:?}");
    let sent = if first.0 == 201 { first.1 } else { second.1 };
    assert_eq!((sent["service"].as_str(), sent["status"].as_str()), (Some("lunga"), Some("checked_in")), "{sent}");
    assert_eq!((sent["ticket"].as_str(), sent["channel"].as_str()), (Some("A001"), Some("counter")), "{sent}");
    for kept in ["first_name", "last_name", "email", "phone"] {
        assert_eq!(sent[kept], still[kept], "the same citizen: {kept}");
    }
    let (_, day) = s.admin_get(&operator, &format!("/api/v1/admin/t/{TENANT}/bookings?office=sede")).await;
    let day = day.as_array().unwrap();
    assert_eq!(day.iter().filter(|b| b["service"] == "lunga").count(), 1, "one new booking: {day:?}");
    assert_eq!(day.iter().find(|b| b["code"] == code.as_str()).unwrap()["status"], "completed");
    assert_eq!(day.iter().find(|b| b["code"] == later.as_str()).unwrap()["status"], "confirmed");
    // Next in line at the counter: the citizen sent on.
    s.clock.advance(TimeDelta::seconds(5));
    let (status, next) = call_next(&s, &operator, "Sportello 2").await;
    assert_eq!((status, next["ticket"].as_str()), (200, Some("A001")), "{next}");
}

on_databases!(
    a_citizen_is_sent_on_to_another_service,
    a_citizen_follows_their_ticket,
    tickets_and_calls_follow_the_rule,
    two_operators_never_call_the_same_ticket,
    a_call_reaches_a_board_on_another_instance_within_a_second
);
