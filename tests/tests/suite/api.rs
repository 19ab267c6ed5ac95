//! Every public endpoint over real HTTP, with good and bad input, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello_tests::{Backend, TestServer, citizen_booking, on_both_backends};

/// Wednesday 2 December 2026, 08:00 in Rome.
const SLOT: &str = "2026-12-02T08:00:00+01:00";

fn field_errors(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    fields.sort();
    fields
}

async fn problem(server: &TestServer, response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let header_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(content_type.starts_with("application/problem+json"), "{} {content_type}: {body}", server.backend);
    assert_eq!(body["status"], status, "{body}");
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    // Each problem names its own request; what is compared is the rest.
    let request_id = body.as_object_mut().and_then(|o| o.remove("request_id"));
    assert_eq!(request_id.as_ref().and_then(Value::as_str), header_id.as_deref(), "the header's id: {body}");
    (status, body)
}

/// Holds a slot of tenant `prova`; the answer carries the hold's id and secret.
async fn held(server: &TestServer, service: &str, office: &str, mode: &str, start: &str) -> Value {
    let (status, body) = server.hold("prova", service, office, mode, start).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// A reschedule request for booking e-mail `email` onto `hold`.
fn move_to(hold: &Value, email: &str) -> Value {
    json!({"email": email, "hold_id": hold["hold_id"], "hold_token": hold["hold_token"]})
}

/// `DELETE /holds/{id}` with the hold's secret.
async fn release(server: &TestServer, tenant: &str, hold: &Value) -> reqwest::Response {
    let id = hold["hold_id"].as_str().unwrap_or("none");
    let request = server.http.delete(server.url(tenant, &format!("/holds/{id}")));
    request.header("Hold-Token", hold["hold_token"].as_str().unwrap_or("")).send().await.unwrap()
}

async fn catalog(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, tenant) = s.get(&s.url("prova", "")).await;
    assert_eq!(status, 200);
    assert_eq!(tenant["timezone"], "Europe/Rome");
    assert_eq!(tenant["locales"], json!(["it", "en"]));
    assert_eq!(tenant["branding"]["primary_color"], "#123456");
    assert_eq!(tenant["hold_minutes"], 10);

    let (_, services) = s.get(&s.url("prova", "/services")).await;
    let slugs: Vec<&str> = services.as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["visita", "lunga", "con-cf", "sospeso"]);
    assert_eq!(services[0]["name"], json!({"it": "Visita", "en": "Visit"}));
    assert_eq!(services[0]["modes"], json!(["in_person", "skype", "whatsapp", "teams"]));
    assert_eq!(services[2]["fiscal_code_required"], true);
    assert_eq!(services[2]["fields"][0]["key"], "notice_number");
    assert_eq!(services[2]["fields"][0]["kind"], "digits");
    assert_eq!(services[2]["reasons"][0]["key"], "rinnovo");
    assert_eq!(services[3]["active"], false);

    let (_, offices) = s.get(&s.url("prova", "/services/visita/offices")).await;
    assert_eq!(offices.as_array().unwrap().len(), 2);
    assert_eq!(offices[1]["slug"], "piccolo");
    assert_eq!(offices[1]["modes"], json!(["in_person", "whatsapp"]));
    let (_, offices) = s.get(&s.url("prova", "/services/lunga/offices")).await;
    assert_eq!(offices.as_array().unwrap().len(), 1);

    let (status, body) = problem(&s, s.http.get(s.url("nessuno", "")).send().await.unwrap()).await;
    assert_eq!((status, body["type"].as_str().unwrap()), (404, "/problems/not-found"));
    let (status, _) = problem(&s, s.http.get(s.url("prova", "/services/nulla/offices")).send().await.unwrap()).await;
    assert_eq!(status, 404);
}

async fn availability(backend: Backend) {
    let s = TestServer::start(backend).await;
    let url = |q: &str| s.url("prova", &format!("/availability?{q}"));
    let (status, body) = s.get(&url("service=visita&office=sede&mode=in_person")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["timezone"], "Europe/Rome");
    assert_eq!(body["horizon_end"], "2026-12-31");
    let days = body["days"].as_array().unwrap();
    assert_eq!(days[0]["date"], "2026-12-01");
    assert_eq!(
        days[0]["slots"][0],
        json!({"start": "2026-12-01T08:00:00+01:00", "end": "2026-12-01T08:30:00+01:00", "remaining": 3})
    );
    assert_eq!(days[0]["slots"].as_array().unwrap().len(), 8);
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    for holiday in ["2026-12-08", "2026-12-25", "2026-12-26"] {
        assert!(!dates.contains(&holiday), "{holiday} closes the office");
    }
    assert_eq!(dates.len(), 28, "31 days by default, less three national holidays");

    let (_, small) = s.get(&url("service=visita&office=piccolo&mode=whatsapp&from=2026-12-08&to=2026-12-08")).await;
    assert_eq!(small["days"][0]["slots"][0]["remaining"], 1, "piccolo opts out of national holidays: {small}");

    // A one-hour booking takes a desk from both half-hour slots it covers.
    for i in 0..3 {
        let hold = held(&s, "lunga", "sede", "in_person", SLOT).await;
        assert_eq!(s.book("prova", &hold, &format!("l{i}@example.it")).await.0, 201);
    }
    assert_eq!(s.remaining("prova", "visita", "sede", "2026-12-02T08:00:00+01:00").await, None);
    assert_eq!(s.remaining("prova", "visita", "sede", "2026-12-02T08:30:00+01:00").await, None);
    assert_eq!(s.remaining("prova", "visita", "sede", "2026-12-02T09:00:00+01:00").await, Some(3));

    let bad = [
        ("service=visita&office=sede&mode=fax", 422, Some("mode")),
        ("service=visita&office=sede&mode=in_person&from=2026-02-30", 422, Some("from")),
        ("service=visita&office=sede&mode=in_person&from=2026-12-10&to=2026-12-01", 422, Some("to")),
        ("service=visita&office=sede&mode=in_person&from=2026-12-01&to=2027-06-01", 422, Some("to")),
        ("service=nulla&office=sede&mode=in_person", 404, None),
        ("service=lunga&office=piccolo&mode=in_person", 404, None),
        ("service=sospeso&office=sede&mode=in_person", 409, None),
        ("service=visita&office=sede", 400, None),
    ];
    for (query, expected, field) in bad {
        let (status, body) = problem(&s, s.http.get(url(query)).send().await.unwrap()).await;
        assert_eq!(status, expected, "{query}: {body}");
        if let Some(field) = field {
            assert_eq!(field_errors(&body), vec![field.to_owned()], "{query}");
        }
    }
}

async fn holds(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, hold) = s.hold("prova", "visita", "piccolo", "in_person", SLOT).await;
    assert_eq!(status, 201, "{hold}");
    assert_eq!(hold["expires_at"], "2026-12-01T07:10:00+01:00");
    assert_eq!(hold["end"], "2026-12-02T08:30:00+01:00");
    assert_eq!(s.remaining("prova", "visita", "piccolo", SLOT).await, None, "a live hold takes the only desk");

    let (status, body) = s.hold("prova", "visita", "piccolo", "whatsapp", "2026-12-02T07:00:00Z").await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("/problems/slot-taken")),
        "the same instant in UTC is the same slot"
    );

    let stranger = json!({"hold_id": hold["hold_id"], "hold_token": "someone-else-who-saw-the-id-0000000000"});
    assert_eq!(problem(&s, release(&s, "prova", &stranger).await).await.0, 404, "only the owner may release");
    assert_eq!(s.remaining("prova", "visita", "piccolo", SLOT).await, None);
    assert_eq!(release(&s, "prova", &hold).await.status(), 204);
    assert_eq!(s.remaining("prova", "visita", "piccolo", SLOT).await, Some(1));
    assert_eq!(problem(&s, release(&s, "prova", &hold).await).await.0, 409, "already released");
    let not_an_id = json!({"hold_id": "not-a-uuid", "hold_token": hold["hold_token"]});
    assert_eq!(problem(&s, release(&s, "prova", &not_an_id).await).await.0, 422);

    // A client-chosen id makes a retried hold request the same hold, not a second place.
    let retry = json!({"service": "visita", "office": "sede", "mode": "in_person", "start": SLOT, "hold_id": "6f1c3a52-9a53-4d2f-8f59-2f6d1c0e7b11", "hold_token": "the-clients-own-secret-for-this-hold"});
    let (first, again) =
        (s.post(&s.url("prova", "/holds"), &retry).await, s.post(&s.url("prova", "/holds"), &retry).await);
    assert_eq!((first.0, again.0), (201, 201));
    assert_eq!(first.1["hold_id"], "6f1c3a52-9a53-4d2f-8f59-2f6d1c0e7b11");
    assert_eq!(first.1["hold_token"], "the-clients-own-secret-for-this-hold");
    assert_eq!(s.remaining("prova", "visita", "sede", SLOT).await, Some(2), "one place held, not two");
    // Whoever knows the id but not the secret cannot move the hold.
    let mut hijack = retry.clone();
    hijack["hold_token"] = json!("an-attacker-who-read-the-url-000000");
    hijack["start"] = json!("2026-12-02T09:00:00+01:00");
    let (status, body) = s.post(&s.url("prova", "/holds"), &hijack).await;
    assert_eq!((status, body["type"].as_str()), (409, Some("/problems/hold-id-taken")), "{body}");
    hijack.as_object_mut().map(|o| o.remove("hold_token"));
    assert_eq!(s.post(&s.url("prova", "/holds"), &hijack).await.0, 409, "nor without one");
    assert_eq!(s.remaining("prova", "visita", "sede", SLOT).await, Some(2), "the hold stayed where its owner put it");
    // The same id in another tenant is another hold.
    let elsewhere = json!({"service": "visita", "office": "sede", "mode": "in_person", "start": "2026-12-01T09:00:00+01:00", "hold_id": "6f1c3a52-9a53-4d2f-8f59-2f6d1c0e7b11"});
    assert_eq!(s.post(&s.url("altro", "/holds"), &elsewhere).await.0, 201);
    assert_eq!(s.remaining("prova", "visita", "sede", SLOT).await, Some(2));

    // Holds expire on their own.
    held(&s, "visita", "piccolo", "in_person", SLOT).await;
    s.clock.advance(TimeDelta::minutes(11));
    held(&s, "visita", "piccolo", "in_person", SLOT).await;

    for (start, field) in
        [("2026-12-02T08:10:00+01:00", "start"), ("yesterday", "start"), ("2026-11-30T08:00:00+01:00", "start")]
    {
        let (status, body) = s.hold("prova", "visita", "sede", "in_person", start).await;
        assert_eq!((status, field_errors(&body)), (422, vec![field.to_owned()]), "{start}: {body}");
    }
    let (status, body) = s.hold("prova", "visita", "piccolo", "teams", SLOT).await;
    assert_eq!((status, field_errors(&body)), (422, vec!["mode".to_owned()]), "piccolo has no Teams");
}

async fn booking_lifecycle(backend: Backend) {
    let s = TestServer::start(backend).await;
    let hold = held(&s, "visita", "sede", "in_person", SLOT).await;
    let (status, booking) = s.book("prova", &hold, "Maria.Bianchi@Example.it").await;
    assert_eq!(status, 201, "{booking}");
    let code = booking["code"].as_str().unwrap().to_owned();
    assert!(code.len() == 9 && code.as_bytes()[4] == b'-', "{code}");
    assert_eq!(booking["status"], "confirmed");
    assert_eq!(booking["start"], SLOT);
    assert_eq!(booking["end"], "2026-12-02T08:30:00+01:00");
    assert_eq!(booking["office"]["address"], "Via Roma 1");
    assert_eq!(booking["service"]["name"], "Visita");
    assert_eq!(booking["citizen"]["phone"], "+393337654321");
    assert_eq!(booking["privacy_notice_version"], "test-1");
    assert_eq!(s.remaining("prova", "visita", "sede", SLOT).await, Some(2));

    let lookup = |code: &str, email: &str| {
        s.http.get(s.url("prova", &format!("/bookings/{code}"))).header("Booking-Email", email).send()
    };
    let (status, found) = s.booking("prova", &code.to_lowercase().replace('-', ""), "MARIA.BIANCHI@example.it").await;
    assert_eq!((status, found["code"].as_str()), (200, Some(code.as_str())));
    let wrong_email = problem(&s, lookup(&code, "other@example.it").await.unwrap()).await;
    let unknown_code = problem(&s, lookup("ZZZZ-ZZZZ", "maria.bianchi@example.it").await.unwrap()).await;
    let malformed = problem(&s, lookup("0", "maria.bianchi@example.it").await.unwrap()).await;
    assert_eq!(wrong_email, unknown_code, "no enumeration: the same answer");
    assert_eq!(malformed, unknown_code);
    // The e-mail never goes in a URL: the old query parameter proves nothing.
    let (status, body) = s.get(&s.url("prova", &format!("/bookings/{code}?email=maria.bianchi@example.it"))).await;
    assert_eq!((status, field_errors(&body)), (422, vec!["proof".to_owned()]), "{body}");
    // The manage token the booking came with proves it too, for this booking only.
    let token = booking["manage_token"].as_str().unwrap();
    assert!(!token.contains('@') && !token.contains("maria"), "{token}");
    let (status, found) = s.get(&s.url("prova", &format!("/bookings/{code}?token={token}"))).await;
    assert_eq!((status, found["code"].as_str()), (200, Some(code.as_str())));
    let (status, _) = s.get(&s.url("prova", &format!("/bookings/ZZZZ-ZZZZ?token={token}"))).await;
    assert_eq!(status, 404, "a token proves only its own booking");
    let (status, _) = s.get(&s.url("altro", &format!("/bookings/{code}?token={token}"))).await;
    assert_eq!(status, 404, "nor in another tenant");

    let ics = s.http.get(s.url("prova", &format!("/bookings/{code}/calendar.ics?token={token}"))).send().await.unwrap();
    assert_eq!(ics.status(), 200);
    assert!(ics.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = ics.text().await.unwrap();
    assert!(
        ics.contains("BEGIN:VEVENT")
            && ics.contains("DTSTART;TZID=Europe/Rome:20261202T080000")
            && ics.contains("DTEND;TZID=Europe/Rome:20261202T083000")
            && ics.contains("SEQUENCE:0"),
        "{ics}"
    );
    assert!(ics.contains(&format!("UID:{}@prova.sportello", code.replace('-', ""))), "{ics}");
    assert!(ics.contains("LOCATION:Sede\\, Via Roma 1"), "commas escaped per RFC 5545: {ics}");

    // Reschedule to 09:00: the old place is given back, the new one taken.
    let later = "2026-12-02T09:00:00+01:00";
    let new_hold = held(&s, "visita", "sede", "in_person", later).await;
    let reschedule = move_to(&new_hold, "maria.bianchi@example.it");
    let (status, moved) = s.post(&s.url("prova", &format!("/bookings/{code}/reschedule")), &reschedule).await;
    assert_eq!((status, moved["start"].as_str()), (200, Some(later)), "{moved}");
    assert_eq!(moved["code"].as_str(), Some(code.as_str()));
    assert_eq!(s.remaining("prova", "visita", "sede", SLOT).await, Some(3));
    assert_eq!(s.remaining("prova", "visita", "sede", later).await, Some(2));
    let other_service = held(&s, "lunga", "sede", "in_person", "2026-12-03T08:00:00+01:00").await;
    let (status, body) = s
        .post(
            &s.url("prova", &format!("/bookings/{code}/reschedule")),
            &move_to(&other_service, "maria.bianchi@example.it"),
        )
        .await;
    assert_eq!((status, field_errors(&body)), (422, vec!["hold_id".to_owned()]));

    // Cancel frees the place; a second cancel is refused.
    let cancel_url = s.url("prova", &format!("/bookings/{code}/cancel"));
    let (status, body) = s.post(&cancel_url, &json!({"email": "wrong@example.it"})).await;
    assert_eq!((status, body["type"].as_str()), (404, Some("/problems/not-found")));
    let (status, cancelled) = s.post(&cancel_url, &json!({"email": "maria.bianchi@example.it"})).await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")));
    assert_eq!(s.remaining("prova", "visita", "sede", later).await, Some(3));
    let (status, body) = s.post(&cancel_url, &json!({"email": "maria.bianchi@example.it"})).await;
    assert_eq!((status, body["type"].as_str()), (409, Some("/problems/booking-not-changeable")));
    let late_hold = held(&s, "visita", "sede", "in_person", later).await;
    let (status, _) = s
        .post(
            &s.url("prova", &format!("/bookings/{code}/reschedule")),
            &move_to(&late_hold, "maria.bianchi@example.it"),
        )
        .await;
    assert_eq!(status, 409, "a cancelled booking cannot be moved");
}

async fn booking_validation(backend: Backend) {
    let s = TestServer::start(backend).await;
    let hold = held(&s, "con-cf", "sede", "in_person", SLOT).await;
    let mut request = citizen_booking(&hold, "maria@example.it");
    request["answers"] = json!({"notice_number": "1234"});
    request["citizen"]["email"] = json!("not-an-email");
    request["privacy_accepted"] = json!(false);
    let (status, body) = s.post(&s.url("prova", "/bookings"), &request).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        field_errors(&body),
        ["answers.notice_number", "citizen.email", "citizen.fiscal_code", "privacy_accepted", "reason"]
    );
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));

    // The hold survives a refused request: fixing the form books it.
    let mut fixed = citizen_booking(&hold, "maria@example.it");
    fixed["citizen"]["fiscal_code"] = json!("rssmra85t10a562s");
    fixed["answers"] = json!({"notice_number": "3020 0000 0001 2345 59"});
    fixed["reason"] = json!("rinnovo");
    fixed["details"] = json!("Porto la vecchia carta");
    fixed["locale"] = json!("en");
    let (status, booking) = s.post(&s.url("prova", "/bookings"), &fixed).await;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(booking["answers"]["notice_number"], "302000000001234559");
    assert_eq!(booking["citizen"]["fiscal_code"], "RSSMRA85T10A562S");
    assert_eq!(booking["service"]["name"], "With fiscal code", "named in the booking's language");

    // Each video mode asks for its own contact.
    let hold = held(&s, "visita", "sede", "whatsapp", SLOT).await;
    let (status, body) = s.book("prova", &hold, "w@example.it").await;
    assert_eq!((status, field_errors(&body)), (422, vec!["contact".to_owned()]));
    let mut with_contact = citizen_booking(&hold, "w@example.it");
    with_contact["contact"] = json!("+39 0584 123456");
    let (status, body) = s.post(&s.url("prova", "/bookings"), &with_contact).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("not_mobile")),
        "a landline takes no WhatsApp call"
    );
    with_contact["contact"] = json!("347 000 1111");
    let (status, booking) = s.post(&s.url("prova", "/bookings"), &with_contact).await;
    assert_eq!((status, booking["contact"].as_str()), (201, Some("+393470001111")));
    let ics_url = s.url("prova", &format!("/bookings/{}/calendar.ics", booking["code"].as_str().unwrap()));
    let ics = s.http.get(ics_url).header("Booking-Email", "w@example.it").send().await.unwrap().text().await.unwrap();
    assert!(ics.contains("LOCATION:Videochiamata WhatsApp"), "{ics}");

    let unknown = json!({"hold_id": "2b1ec1d2-0000-4000-8000-000000000000", "hold_token": "a".repeat(64)});
    let (status, body) = s.book("prova", &unknown, "x@example.it").await;
    assert_eq!((status, body["type"].as_str()), (409, Some("/problems/hold-expired")));
    let (status, body) =
        s.book("prova", &json!({"hold_id": "nope", "hold_token": "a".repeat(64)}), "x@example.it").await;
    assert_eq!((status, field_errors(&body)), (422, vec!["hold_id".to_owned()]));
    let (status, body) =
        s.book("prova", &json!({"hold_id": unknown["hold_id"], "hold_token": "short"}), "x@example.it").await;
    assert_eq!((status, field_errors(&body)), (422, vec!["hold_token".to_owned()]));
}

async fn idempotency_and_expired_holds(backend: Backend) {
    let s = TestServer::start(backend).await;
    let hold = held(&s, "visita", "sede", "in_person", SLOT).await;
    let body = citizen_booking(&hold, "idem@example.it");
    let send =
        |body: Value| s.http.post(s.url("prova", "/bookings")).header("Idempotency-Key", "abc-123").json(&body).send();
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["code"], again["code"]);
    assert_eq!(s.remaining("prova", "visita", "sede", SLOT).await, Some(2), "one booking, not two");
    let mut changed = body.clone();
    changed["citizen"]["first_name"] = json!("Other");
    let (status, problem_body) = problem(&s, send(changed).await.unwrap()).await;
    assert_eq!((status, problem_body["type"].as_str()), (422, Some("/problems/idempotency-key-reused")));

    // An expired hold still books while there is room…
    let hold = held(&s, "visita", "piccolo", "in_person", SLOT).await;
    s.clock.advance(TimeDelta::minutes(15));
    assert_eq!(s.book("prova", &hold, "late@example.it").await.0, 201);
    // …and fails cleanly when someone else took the place meanwhile.
    let later = "2026-12-02T08:30:00+01:00";
    let slow = held(&s, "visita", "piccolo", "in_person", later).await;
    s.clock.advance(TimeDelta::minutes(15));
    let fast = held(&s, "visita", "piccolo", "in_person", later).await;
    let (status, body) = s.book("prova", &slow, "slow@example.it").await;
    assert_eq!((status, body["type"].as_str()), (409, Some("/problems/slot-taken")), "{body}");
    assert_eq!(s.book("prova", &fast, "fast@example.it").await.0, 201);
}

async fn malformed_requests(backend: Backend) {
    let s = TestServer::start(backend).await;
    let post_raw = |body: String| {
        s.http.post(s.url("prova", "/bookings")).header("content-type", "application/json").body(body).send()
    };
    assert_eq!(problem(&s, post_raw("{not json".into()).await.unwrap()).await.0, 400);
    assert_eq!(problem(&s, post_raw(r#"{"hold_id": 5}"#.into()).await.unwrap()).await.0, 400);
    let wrong_type = json!({"hold_id": "x", "citizen": {"first_name": "a", "last_name": "b", "email": "c", "phone": "d"}, "privacy_accepted": "yes"});
    assert_eq!(problem(&s, post_raw(wrong_type.to_string()).await.unwrap()).await.0, 400);
    let huge = format!(r#"{{"details": "{}"}}"#, "x".repeat(100_000));
    let too_large = post_raw(huge).await.unwrap();
    assert_eq!(too_large.headers()["connection"], "close", "the unread body makes the connection unusable");
    let (status, body) = problem(&s, too_large).await;
    assert_eq!((status, body["type"].as_str()), (413, Some("/problems/payload-too-large")));
    let (status, _) = problem(&s, s.http.get(format!("{}/api/v1/nothing-here", s.base)).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, _) = problem(&s, s.http.put(s.url("prova", "/holds")).send().await.unwrap()).await;
    assert_eq!(status, 405);
    let plain =
        s.http.post(s.url("prova", "/holds")).header("content-type", "text/plain").body("hi").send().await.unwrap();
    assert!(plain.status().is_client_error());
    // Limits that the HTTP server would answer with an empty body answer with a problem.
    let long = s.http.get(format!("{}?q={}", s.url("prova", "/services"), "x".repeat(10_000))).send().await.unwrap();
    assert_eq!(problem(&s, long).await.0, 414);
    let big_header = s.http.get(s.url("prova", "/services")).header("x-padding", "y".repeat(40_000)).send();
    assert_eq!(problem(&s, big_header.await.unwrap()).await.0, 431);
}

/// Control characters are refused at the edge on every backend, never stored and never a 5xx.
async fn control_characters(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, body) = s.get(&format!("{}/api/v1/t/a%00b/services", s.base)).await;
    assert_eq!((status, body["type"].as_str()), (404, Some("/problems/not-found")), "{body}");
    let (status, _) = s.get(&format!("{}/api/v1/t/pro%1Bva", s.base)).await;
    assert_eq!(status, 404);
    let refused = [("details", "a\u{0}b"), ("details", "squillo\u{7}"), ("first_name", "Ma\u{1b}[31mria")];
    for ((field, value), start) in refused.into_iter().zip(["08:00", "08:30", "09:00"]) {
        let hold = held(&s, "visita", "sede", "in_person", &format!("2026-12-03T{start}:00+01:00")).await;
        let mut body = citizen_booking(&hold, "ctl@example.it");
        match field {
            "details" => body["details"] = json!(value),
            _ => body["citizen"][field] = json!(value),
        }
        let (status, problem) = s.post(&s.url("prova", "/bookings"), &body).await;
        let expected = if field == "details" { "details".to_owned() } else { format!("citizen.{field}") };
        assert_eq!((status, field_errors(&problem)), (422, vec![expected]), "{field}: {problem}");
    }
    // Line breaks are what a multi-line field is for.
    let hold = held(&s, "visita", "sede", "in_person", "2026-12-03T10:00:00+01:00").await;
    let mut body = citizen_booking(&hold, "ctl@example.it");
    body["details"] = json!("prima riga\nseconda riga");
    let (status, booking) = s.post(&s.url("prova", "/bookings"), &body).await;
    assert_eq!((status, booking["details"].as_str()), (201, Some("prima riga\nseconda riga")), "{booking}");
}

async fn service_endpoints(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, spec) = s.get(&format!("{}/api/v1/openapi.json", s.base)).await;
    assert_eq!(status, 200);
    assert!(spec["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/t/{tenant}/availability",
        "/t/{tenant}/holds",
        "/t/{tenant}/bookings",
        "/t/{tenant}/bookings/{code}/calendar.ics",
    ] {
        assert!(paths.contains_key(path), "{path} in {:?}", paths.keys().collect::<Vec<_>>());
    }
    let docs = s.http.get(format!("{}/api/docs", s.base)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    assert_eq!(s.http.get(format!("{}/healthz", s.base)).send().await.unwrap().text().await.unwrap(), "ok");
    let (status, ready) = s.get(&format!("{}/readyz", s.base)).await;
    assert_eq!((status, ready["checks"]["database"].as_str()), (200, Some("ok")));
}

async fn tenant_isolation(backend: Backend) {
    let s = TestServer::start(backend).await;
    let tuesday = "2026-12-01T09:00:00+01:00";
    let mut code = String::new();
    for i in 0..3 {
        let hold = held(&s, "visita", "sede", "in_person", tuesday).await;
        let (status, booking) = s.book("prova", &hold, &format!("p{i}@example.it")).await;
        assert_eq!(status, 201);
        code = booking["code"].as_str().unwrap().to_owned();
    }
    assert_eq!(s.remaining("prova", "visita", "sede", tuesday).await, None);
    assert_eq!(s.remaining("altro", "visita", "sede", tuesday).await, Some(3), "same slugs, separate capacity");

    let (status, _) = s.booking("altro", &code, "p2@example.it").await;
    assert_eq!(status, 404, "tenant B cannot read tenant A's booking");
    let (status, _) =
        s.post(&s.url("altro", &format!("/bookings/{code}/cancel")), &json!({"email": "p2@example.it"})).await;
    assert_eq!(status, 404, "tenant B cannot cancel tenant A's booking");
    let (status, still) = s.booking("prova", &code, "p2@example.it").await;
    assert_eq!((status, still["status"].as_str()), (200, Some("confirmed")));

    let hold = held(&s, "visita", "sede", "in_person", "2026-12-01T10:00:00+01:00").await;
    let (status, _) = s.book("altro", &hold, "x@example.it").await;
    assert_eq!(status, 409, "tenant A's hold is unknown to tenant B");
    assert_eq!(release(&s, "altro", &hold).await.status(), 409, "tenant B cannot release tenant A's hold");
    assert_eq!(s.book("prova", &hold, "x@example.it").await.0, 201, "the hold is intact");
}

async fn dst_week(backend: Backend) {
    // Monday 22 March 2027; clocks go forward on Sunday 28 March.
    let s = TestServer::start_with(
        backend,
        std::sync::Arc::new(sportello::holds::MemoryHolds::new()),
        "2027-03-22T06:00:00Z",
    )
    .await;
    let (status, body) = s
        .get(&s.url("prova", "/availability?service=visita&office=sede&mode=in_person&from=2027-03-27&to=2027-03-30"))
        .await;
    assert_eq!(status, 200, "{body}");
    let firsts: Vec<&str> =
        body["days"].as_array().unwrap().iter().map(|d| d["slots"][0]["start"].as_str().unwrap()).collect();
    // Monday 29 March 2027 is Easter Monday: closed.
    assert_eq!(firsts, ["2027-03-27T08:00:00+01:00", "2027-03-28T08:00:00+02:00", "2027-03-30T08:00:00+02:00"]);
    assert!(body["days"].as_array().unwrap().iter().all(|d| d["slots"].as_array().unwrap().len() == 8));
    let hold = held(&s, "visita", "sede", "in_person", "2027-03-28T08:00:00+02:00").await;
    let (status, booking) = s.book("prova", &hold, "dst@example.it").await;
    assert_eq!((status, booking["start"].as_str()), (201, Some("2027-03-28T08:00:00+02:00")));
    let ics = s
        .http
        .get(s.url("prova", &format!("/bookings/{}/calendar.ics", booking["code"].as_str().unwrap())))
        .header("Booking-Email", "dst@example.it")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The wall time with the office's zone, which another parser resolves to the right instant
    // on the day the clocks change.
    assert!(ics.contains("DTSTART;TZID=Europe/Rome:20270328T080000"), "{ics}");
    if let Some(read) = sportello_tests::ics::read_calendar(&ics) {
        assert_eq!(read["method"], "PUBLISH");
        assert_eq!(read["events"][0]["start"], "2027-03-28T06:00:00Z", "{read}");
        assert_eq!(read["events"][0]["end"], "2027-03-28T06:30:00Z", "{read}");
        assert_eq!(read["events"][0]["alarms"], serde_json::json!([-86_400]), "a reminder the day before: {read}");
    }
    assert_eq!(
        s.remaining("prova", "visita", "sede", "2027-03-27T08:00:00+01:00").await,
        Some(3),
        "the day before is untouched"
    );
}

/// `/metrics` counts holds and bookings by tenant and outcome — for real tenants only — and says
/// whether the database and the hold store answer.
async fn metrics_by_outcome(backend: Backend) {
    let s = TestServer::start(backend).await;
    let holds: Vec<Value> =
        futures::future::join_all((0..3).map(|_| held(&s, "visita", "sede", "in_person", SLOT))).await;
    let (status, _) = s.hold("prova", "visita", "sede", "in_person", SLOT).await;
    assert_eq!(status, 409, "three desks, three holds");
    let (status, body) = s.book("prova", &holds[0], "anna@example.org").await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = s.book("prova", &holds[0], "anna@example.org").await;
    assert_eq!(status, 409, "a hold books once");
    let (status, _) = s.hold("zz-nobody", "visita", "sede", "in_person", SLOT).await;
    assert_eq!(status, 404);

    let metrics = s.http.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    let value =
        |series: &str| metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse::<u64>().ok());
    assert_eq!(value("sportello_holds_total{tenant=\"prova\",outcome=\"placed\"}"), Some(3), "{metrics}");
    assert_eq!(value("sportello_holds_total{tenant=\"prova\",outcome=\"slot_taken\"}"), Some(1), "{metrics}");
    assert_eq!(value("sportello_bookings_total{tenant=\"prova\",outcome=\"confirmed\"}"), Some(1), "{metrics}");
    assert_eq!(value("sportello_bookings_total{tenant=\"prova\",outcome=\"conflict\"}"), Some(1), "{metrics}");
    assert!(!metrics.contains("zz-nobody"), "an unknown tenant is no label: {metrics}");
    assert_eq!(value("sportello_database_up"), Some(1), "{metrics}");
    assert_eq!(value("sportello_holds_up"), Some(1), "{metrics}");
    assert_eq!(value("sportello_database_connections_max"), Some(16), "{metrics}");
    assert!(value("sportello_database_connections{state=\"idle\"}").is_some(), "{metrics}");
}

on_both_backends!(
    catalog,
    availability,
    holds,
    booking_lifecycle,
    booking_validation,
    idempotency_and_expired_holds,
    malformed_requests,
    control_characters,
    service_endpoints,
    tenant_isolation,
    dst_week,
    metrics_by_outcome,
);
