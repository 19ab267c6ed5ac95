//! The operator's desk: the agenda of an operator's own offices only, the counter's state
//! machine (check-in, call, served, no-show, undo) through the API and the pages, a cancellation
//! with its reason that gives the place back, two operators acting at once, and the audit of every
//! opening of a citizen's data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello::domain::Role;
use sportello::mail::SmtpMailer;
use sportello_tests::mail::SmtpSink;
use sportello_tests::staff::Staff;
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::{TENANT, booked, status_of};

/// 08:00 today in Rome (the test clock stands at 07:00), at prova's `sede`.
const TODAY_EIGHT: &str = "2026-12-01T08:00:00+01:00";

fn desk(path: &str) -> String {
    format!("/api/v1/admin/t/{TENANT}/bookings{path}")
}

async fn step(s: &TestServer, who: &Staff, code: &str, action: &str) -> (u16, Value) {
    s.admin_send(who, "POST", &desk(&format!("/{code}/{action}")), None, None).await
}

/// The booked citizen's data shows at the desk of their office, to that office's operator only;
/// every opening is audited (by code, never the citizen's name).
async fn the_agenda_shows_an_operators_own_offices(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let other = s.staff("piccolo@prova.example.it", Role::Operator, Some(TENANT), &["piccolo"]).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let code = booked(&s, TODAY_EIGHT, "lucia@example.it").await;
    let tomorrow = booked(&s, "2026-12-02T09:00:00+01:00", "marco@example.it").await;

    let (status, today) = s.admin_get(&operator, &desk("?office=sede")).await;
    assert_eq!(status, 200, "{today}");
    let codes: Vec<&str> = today.as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [code.as_str()], "today's only");
    assert_eq!(today[0]["email"], "lucia@example.it");
    assert_eq!(today[0]["actions"], json!(["check-in"]), "too early for a no-show");
    let (_, week) = s.admin_get(&operator, &desk("?office=sede&week=true")).await;
    assert_eq!(week.as_array().unwrap().len(), 2, "the week has both: {week}");
    let (_, found) = s.admin_get(&operator, &desk(&format!("?office=sede&q={tomorrow}"))).await;
    assert_eq!(found[0]["code"], tomorrow.as_str(), "a code is found on any day");
    let (_, by_name) = s.admin_get(&operator, &desk("?office=sede&week=true&q=bianchi")).await;
    assert_eq!(by_name.as_array().unwrap().len(), 2, "{by_name}");
    let (_, none) = s.admin_get(&operator, &desk("?office=sede&status=completed")).await;
    assert_eq!(none, json!([]));

    // Another office's operator: neither the agenda nor the booking is there.
    assert_eq!(s.admin_get(&other, &desk("?office=sede")).await.0, 404);
    let (status, body) = s.admin_get(&other, &desk(&format!("/{code}"))).await;
    assert_eq!(status, 404);
    assert!(!body.to_string().contains("lucia"), "{body}");
    assert_eq!(step(&s, &other, &code, "check-in").await.0, 404);
    assert_eq!(s.admin_get(&operator, &desk("?office=piccolo")).await.0, 404);
    assert_eq!(s.admin_get(&admin, &desk("?office=piccolo")).await.0, 200, "an admin sees every office");

    let (status, one) = s.admin_get(&operator, &desk(&format!("/{code}"))).await;
    assert_eq!((status, one["first_name"].as_str()), (200, Some("Maria")), "{one}");
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=booking.opened")).await;
    assert_eq!(log[0]["actor"], "operatore@prova.example.it");
    assert_eq!(log[0]["detail"]["booking"], code.as_str());
    let (_, viewed) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=agenda.viewed")).await;
    assert!(viewed.as_array().unwrap().len() >= 5, "{viewed}");
    assert!(!log.to_string().contains("lucia") && !viewed.to_string().contains("lucia"), "no personal data");
}

/// Arrived → called → served, and only so: no serving a cancelled booking, no no-show before
/// its time, the last step undone within five minutes and not after.
async fn the_counter_follows_the_state_machine(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let code = booked(&s, TODAY_EIGHT, "lucia@example.it").await;
    let refused = |(status, body): (u16, Value)| {
        assert_eq!(status, 409, "{body}");
        assert!(body["type"].as_str().unwrap().ends_with("desk-step-refused"), "{body}");
    };
    refused(step(&s, &operator, &code, "complete").await);
    refused(step(&s, &operator, &code, "no-show").await);
    let (status, arrived) = step(&s, &operator, &code, "check-in").await;
    assert_eq!((status, arrived["status"].as_str()), (200, Some("checked_in")), "{arrived}");
    assert!(arrived["checked_in_at"].is_string());
    refused(step(&s, &operator, &code, "check-in").await);
    assert_eq!(status_of(&s, &code, "lucia@example.it").await, "checked_in", "the citizen sees it too");
    let (_, called) = step(&s, &operator, &code, "call").await;
    assert_eq!(called["status"], "called");
    assert_eq!(called["actions"], json!(["call", "complete"]));
    // A slip of the finger: undone.
    let (status, back) = step(&s, &operator, &code, "undo").await;
    assert_eq!((status, back["status"].as_str()), (200, Some("checked_in")), "{back}");
    assert!(back["called_at"].is_null());
    refused(step(&s, &operator, &code, "undo").await);
    step(&s, &operator, &code, "call").await;
    let (_, served) = step(&s, &operator, &code, "complete").await;
    assert_eq!(served["status"], "completed");
    s.clock.advance(TimeDelta::minutes(6));
    refused(step(&s, &operator, &code, "undo").await);

    // A booking of another day is not checked in today; one past its time is a no-show.
    let later = booked(&s, "2026-12-02T09:00:00+01:00", "marco@example.it").await;
    refused(step(&s, &operator, &later, "check-in").await);
    let missed = booked(&s, "2026-12-01T08:30:00+01:00", "anna@example.it").await;
    s.clock.advance(TimeDelta::hours(2));
    // Signed in again: a session left idle for two hours has ended.
    let operator = s.log_in("operatore@prova.example.it", sportello_tests::staff::PASSWORD).await;
    let (_, gone) = step(&s, &operator, &missed, "no-show").await;
    assert_eq!(gone["status"], "no_show");
}

/// The office cancels with a reason the citizen is told; the place is free again; no reason, no
/// cancellation. The note stays with staff.
async fn the_office_cancels_with_a_reason_and_notes(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let start = "2026-12-02T09:00:00+01:00";
    let free = s.remaining(TENANT, "visita", "sede", start).await;
    let code = booked(&s, start, "lucia@example.it").await;
    let (s, operator) = (&s, &operator);
    let cancel = |reason: &str| {
        let body = json!({ "reason": reason });
        let path = desk(&format!("/{code}/cancel"));
        async move { s.admin_send(operator, "POST", &path, None, Some(&body)).await }
    };
    let (status, problem) = cancel("  ").await;
    assert_eq!(status, 422, "{problem}");
    let (status, cancelled) = cancel("Ufficio chiuso per un guasto").await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    assert_eq!(s.remaining(TENANT, "visita", "sede", start).await, free, "the place is free again");
    let (_, seen) = s.booking(TENANT, &code, "lucia@example.it").await;
    assert_eq!(seen["status"], "cancelled");
    assert_eq!(cancel("again").await.0, 409);
    // The citizen is told why, by e-mail (the confirmation, not yet gone, is not sent any more).
    let sink = SmtpSink::start(env!("CARGO_BIN_EXE_smtp-sink"), &[]);
    s.deliver_mail(&SmtpMailer::new(&sink.url()).unwrap()).await;
    let received = sink.messages();
    assert_eq!(received.len(), 1, "the cancellation only");
    assert_eq!(received[0].header("To").as_deref(), Some("lucia@example.it"));
    let text = received[0].part("text/plain").unwrap();
    assert!(text.contains("Ufficio chiuso per un guasto") && text.contains(&code), "{text}");

    let note = desk(&format!("/{code}/note"));
    let (status, _) = s.admin_send(operator, "PUT", &note, None, Some(&json!({"note": "Ha telefonato"}))).await;
    assert_eq!(status, 204);
    let (_, one) = s.admin_get(operator, &desk(&format!("/{code}"))).await;
    assert_eq!(one["note"], "Ha telefonato");
    assert!(!seen.to_string().contains("Ha telefonato"), "the citizen never sees it");
    let long = json!({"note": "x".repeat(1001)});
    assert_eq!(s.admin_send(operator, "PUT", &note, None, Some(&long)).await.0, 422);
}

/// Two operators press "arrived" for the same citizen at once: one moves it, the other is told
/// it already changed.
async fn two_operators_move_a_booking_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let first = s.staff("uno@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let second = s.staff("due@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let code = booked(&s, TODAY_EIGHT, "lucia@example.it").await;
    for _ in 0..3 {
        let (a, b) = tokio::join!(step(&s, &first, &code, "check-in"), step(&s, &second, &code, "check-in"));
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
        assert_eq!(step(&s, &first, &code, "undo").await.0, 200);
    }
}

/// The desk pages: the agenda of today with the citizen, a step from its row that comes back to
/// the agenda, and the booking's page.
async fn the_desk_pages_work_without_javascript(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let code = booked(&s, TODAY_EIGHT, "lucia@example.it").await;
    let page = |path: String| {
        let request = s.http.get(format!("{}{path}", s.base)).header("cookie", operator.cookie());
        async move {
            let response = request.header("accept-language", "it").send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, agenda) = page(format!("/admin/t/{TENANT}/desk")).await;
    assert_eq!(status, 200, "{agenda}");
    assert!(agenda.contains(&code) && agenda.contains("Maria Bianchi"), "{agenda}");
    assert!(agenda.contains("martedì 1 dicembre 2026"), "{agenda}");
    let back = format!("/admin/t/{TENANT}/desk/sede");
    let (status, after) = s
        .admin_form(
            &operator,
            &format!("/admin/t/{TENANT}/bookings/{code}/actions"),
            &[("action", "check-in"), ("back", &back)],
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert!(after.contains("Arrived") && after.contains(&code), "back on the agenda, in English: {after}");
    assert_eq!(status_of(&s, &code, "lucia@example.it").await, "checked_in");
    // A `back` outside this tenant's pages is not followed.
    let (_, elsewhere) = s
        .admin_form(
            &operator,
            &format!("/admin/t/{TENANT}/bookings/{code}/actions"),
            &[("action", "undo"), ("back", "https://evil.example/")],
        )
        .await;
    assert!(elsewhere.contains(&format!("<code>{code}</code>")), "the booking's own page: {elsewhere}");
    let (status, one) = page(format!("/admin/t/{TENANT}/bookings/{code}")).await;
    assert_eq!(status, 200);
    assert!(one.contains("lucia@example.it") && one.contains("Nota interna"), "{one}");
}

/// The demo's bookings: citizens on the next open day (today: three checked in with their
/// tickets, one called), four weeks of history through the booking path for the statistics;
/// once (a restart adds nothing).
async fn the_demo_books_a_day_for_the_desk(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.app.apply_all_packs(&sportello_tests::demo_packs_dir()).await.expect("the demo packs");
    let email = "operatore@comune.example.it";
    s.staff(email, Role::Operator, Some("comune-esempio"), &["anagrafe"]).await;
    let operator = s.app.log_in(email, sportello_tests::staff::PASSWORD, None, None).await.unwrap().session;
    let booked = s.app.book_demo("comune-esempio", Some(&operator)).await.unwrap();
    assert_eq!(booked.day.map(|d| d.to_string()).as_deref(), Some("2026-12-01"), "{booked:?}");
    assert!(booked.upcoming > 3 && booked.history > 40, "{booked:?}");
    let again = s.app.book_demo("comune-esempio", Some(&operator)).await.unwrap();
    assert_eq!((again.upcoming, again.history, again.day), (0, 0, None), "once");

    let admin = s.staff("admin@comune.example.it", Role::TenantAdmin, Some("comune-esempio"), &[]).await;
    let (status, today) = s.admin_get(&admin, "/api/v1/admin/t/comune-esempio/bookings?office=anagrafe").await;
    assert_eq!(status, 200, "{today}");
    let today = today.as_array().unwrap();
    assert_eq!(today.len(), booked.upcoming);
    let with_ticket = today.iter().filter(|b| b["ticket"].is_string()).count();
    let called: Vec<&Value> = today.iter().filter(|b| b["status"] == "called").collect();
    assert_eq!((with_ticket, called.len()), (3, 1), "{today:?}");
    assert_eq!(called[0]["desk"], "Sportello 1");

    let (_, stats) =
        s.admin_get(&admin, "/api/v1/admin/t/comune-esempio/statistics?from=2026-11-03&to=2026-11-30").await;
    let total = &stats["total"];
    assert_eq!(total["made"].as_u64(), Some(booked.history as u64), "{stats}");
    for outcome in ["completed", "no_show", "cancelled"] {
        assert!(total[outcome].as_u64().unwrap() > 0, "some {outcome}: {total}");
    }
    let waited: u64 =
        stats["waiting_time"]["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(Some(waited), total["completed"].as_u64(), "every citizen served waited at the counter first");
    let channels = stats["channels"].to_string();
    assert!(channels.contains("\"phone\",\"made\":") && !channels.contains("\"phone\",\"made\":0"), "{channels}");
}

on_databases!(
    the_demo_books_a_day_for_the_desk,
    the_agenda_shows_an_operators_own_offices,
    the_counter_follows_the_state_machine,
    the_office_cancels_with_a_reason_and_notes,
    two_operators_move_a_booking_once,
    the_desk_pages_work_without_javascript
);
