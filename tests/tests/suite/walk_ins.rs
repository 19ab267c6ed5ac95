//! Staff booking for a citizen (walk-ins at the counter, phone calls) through the citizen's own
//! path: the slot under way or the next free one, the channel recorded, no e-mail needed, the
//! same capacity whoever books the last place; and the office's bookings exported as CSV.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello::domain::Role;
use sportello_tests::staff::Staff;
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::TENANT;

fn bookings() -> String {
    format!("/api/v1/admin/t/{TENANT}/bookings")
}

/// A walk-in (or phone call) at `office` for the `visita` service in person; `start` absent is now.
fn walk_in(office: &str, start: Option<&str>, channel: &str, email: Option<&str>) -> Value {
    json!({
        "service": "visita", "office": office, "mode": "in_person", "start": start, "channel": channel,
        "citizen": { "first_name": "Giovanni", "last_name": "Esposito", "email": email, "phone": "+39 333 765 4321" },
        "privacy_accepted": true, "locale": "it"
    })
}

async fn book(s: &TestServer, who: &Staff, body: &Value) -> (u16, Value) {
    s.admin_send(who, "POST", &bookings(), None, Some(body)).await
}

/// `piccolo` has one desk, 08:00–10:00, half-hour slots. At 08:10 the 08:00 slot is under way:
/// a walk-in takes it, the next ones the next free slots, and when the day is full the operator
/// is told so. The channel and the operator are recorded; a citizen without e-mail is owed none.
async fn a_walk_in_takes_the_slot_under_way_then_the_next_free_one(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.clock.advance(TimeDelta::minutes(70)); // 08:10 in Rome
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["piccolo"]).await;
    let (status, hold) = s.hold(TENANT, "visita", "piccolo", "in_person", "2026-12-01T08:00:00+01:00").await;
    assert_eq!(status, 422, "a citizen cannot book a slot under way: {hold}");

    let owed = s.app.outbox_backlog().await.unwrap().waiting;
    let (status, first) = book(&s, &operator, &walk_in("piccolo", None, "counter", None)).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["start"], "2026-12-01T07:00:00+00:00", "the slot under way");
    assert_eq!((first["channel"].as_str(), first["email"].as_null()), (Some("counter"), Some(())), "{first}");
    assert_eq!(first["actions"], json!(["check-in", "no-show"]), "the citizen is here, and the time has come");
    assert_eq!(s.app.outbox_backlog().await.unwrap().waiting, owed, "no address, no e-mail owed");

    let mut starts = vec![];
    for email in ["a@example.it", "b@example.it", "c@example.it"] {
        let (status, next) = book(&s, &operator, &walk_in("piccolo", None, "counter", Some(email))).await;
        assert_eq!(status, 201, "{next}");
        starts.push(next["start"].as_str().unwrap().to_owned());
    }
    assert_eq!(starts, ["2026-12-01T07:30:00+00:00", "2026-12-01T08:00:00+00:00", "2026-12-01T08:30:00+00:00"]);
    assert_eq!(s.app.outbox_backlog().await.unwrap().waiting, owed + 3, "each with an address is owed its e-mail");
    let (status, full) = book(&s, &operator, &walk_in("piccolo", None, "counter", None)).await;
    assert_eq!(status, 409, "{full}");
    assert!(full["type"].as_str().unwrap().ends_with("nothing-free-today"), "{full}");

    // A phone call books tomorrow; the agenda says how each booking came.
    let (status, phoned) =
        book(&s, &operator, &walk_in("piccolo", Some("2026-12-02T09:00:00+01:00"), "phone", None)).await;
    assert_eq!((status, phoned["channel"].as_str()), (201, Some("phone")), "{phoned}");
    let (status, taken) =
        book(&s, &operator, &walk_in("piccolo", Some("2026-12-02T09:00:00+01:00"), "phone", None)).await;
    assert_eq!(status, 409, "one desk: {taken}");
    assert!(taken["type"].as_str().unwrap().ends_with("slot-taken"), "{taken}");

    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=booking.created")).await;
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 5, "{log}");
    assert!(entries.iter().all(|e| e["actor"] == "operatore@prova.example.it"), "{log}");
    assert_eq!(entries[0]["detail"]["channel"], "phone", "{log}");
    assert!(!log.to_string().contains("Esposito"), "no personal data in the audit");
}

/// What staff send is checked as strictly as a citizen's form, before any place is taken: the
/// channel, the time, the office (their own), the citizen's details; a retry is the same booking.
async fn a_staff_booking_is_checked_and_idempotent(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let problem = |(status, body): (u16, Value), field: &str, code: &str| {
        assert_eq!(status, 422, "{body}");
        let errors = body["errors"].as_array().unwrap();
        assert!(errors.iter().any(|e| e["field"] == field && e["code"] == code), "{field} {code}: {body}");
    };
    let tomorrow = Some("2026-12-02T09:00:00+01:00");
    problem(book(&s, &operator, &walk_in("sede", tomorrow, "web", None)).await, "channel", "not_staff_channel");
    problem(book(&s, &operator, &walk_in("sede", Some("tomorrow"), "phone", None)).await, "start", "invalid_time");
    let between = Some("2026-12-02T09:10:00+01:00");
    problem(book(&s, &operator, &walk_in("sede", between, "phone", None)).await, "start", "not_a_slot");
    let mut no_phone = walk_in("sede", tomorrow, "phone", Some("not an address"));
    no_phone["citizen"]["phone"] = json!("");
    let (status, body) = book(&s, &operator, &no_phone).await;
    problem((status, body.clone()), "citizen.phone", "required");
    problem((status, body), "citizen.email", "invalid_email");
    // A video call's link goes by e-mail: there the address is needed.
    let mut teams = walk_in("sede", tomorrow, "phone", None);
    teams["mode"] = json!("teams");
    teams["contact"] = json!("giovanni@example.it");
    problem(book(&s, &operator, &teams).await, "citizen.email", "required");
    let free = s.remaining(TENANT, "visita", "sede", "2026-12-02T09:00:00+01:00").await;
    assert_eq!(free, Some(3), "a refused form took no place");
    let (status, _) = book(&s, &operator, &walk_in("piccolo", tomorrow, "phone", None)).await;
    assert_eq!(status, 404, "not the operator's office");

    let path = bookings();
    let body = walk_in("sede", tomorrow, "phone", Some("giovanni@example.it"));
    let send = || {
        let request = s.http.post(format!("{}{path}", s.base)).header("authorization", operator.bearer());
        request.header("idempotency-key", "telefonata-1").json(&body).send()
    };
    let (first, second) = tokio::join!(send(), send());
    let (first, second) = (first.unwrap(), second.unwrap());
    let replayed = |r: &reqwest::Response| r.headers().get("idempotent-replayed").is_some();
    assert_eq!([first.status().as_u16(), second.status().as_u16()], [201, 201]);
    assert!(replayed(&first) != replayed(&second), "one made it, the other is its replay");
    let (a, b): (Value, Value) = (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(a["code"], b["code"]);
    assert_eq!(s.remaining(TENANT, "visita", "sede", "2026-12-02T09:00:00+01:00").await, Some(2), "one place taken");
}

/// The last place of a slot, wanted at once by phone bookings and by citizens online, and the
/// last place of the day by walk-ins "now": sold once, the others told clearly.
async fn staff_and_citizens_race_for_the_last_place(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operators = [
        s.staff("uno@prova.example.it", Role::Operator, Some(TENANT), &["piccolo"]).await,
        s.staff("due@prova.example.it", Role::Operator, Some(TENANT), &["piccolo"]).await,
    ];
    let start = "2026-12-02T09:00:00+01:00";
    let phoned = walk_in("piccolo", Some(start), "phone", None);
    let by_phone = (0..6).map(|i| book(&s, &operators[i % 2], &phoned));
    let online = (0..6).map(|i| {
        let s = &s;
        async move {
            let (status, hold) = s.hold(TENANT, "visita", "piccolo", "in_person", start).await;
            if status != 201 {
                return (status, hold);
            }
            s.book(TENANT, &hold, &format!("citizen{i}@example.it")).await
        }
    });
    let (staff, citizens) = tokio::join!(futures::future::join_all(by_phone), futures::future::join_all(online));
    let sold = staff.iter().chain(&citizens).filter(|(status, _)| *status == 201).count();
    assert_eq!(sold, 1, "staff {staff:?} citizens {citizens:?}");
    assert!(staff.iter().chain(&citizens).all(|(status, _)| [201, 409].contains(status)), "{staff:?} {citizens:?}");
    assert_eq!(s.remaining(TENANT, "visita", "piccolo", start).await, None, "sold out");

    // 09:40 in Rome: only the 09:30 slot is left today; eight walk-ins at once, one place.
    s.clock.advance(TimeDelta::minutes(160));
    let operators = [
        s.log_in("uno@prova.example.it", sportello_tests::staff::PASSWORD).await,
        s.log_in("due@prova.example.it", sportello_tests::staff::PASSWORD).await,
    ];
    let walked_in = walk_in("piccolo", None, "counter", None);
    let now = (0..8).map(|i| book(&s, &operators[i % 2], &walked_in));
    let answers = futures::future::join_all(now).await;
    let made: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 201).map(|(_, b)| b).collect();
    assert_eq!(made.len(), 1, "{answers:?}");
    assert_eq!(made[0]["start"], "2026-12-01T08:30:00+00:00");
    let refused = answers
        .iter()
        .filter(|(status, b)| *status == 409 && b["type"].as_str().unwrap().ends_with("nothing-free-today"));
    assert_eq!(refused.count(), 7, "{answers:?}");
}

/// The desk's page books a walk-in without JavaScript: the day's free times with "now" first,
/// the citizen's details checked with the errors beside the fields, then the new booking.
async fn the_desk_books_a_walk_in_without_javascript(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.clock.advance(TimeDelta::minutes(70)); // 08:10 in Rome
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let page = format!("/admin/t/{TENANT}/desk/sede/new");
    let get = |query: &str| {
        let request = s.http.get(format!("{}{page}{query}", s.base)).header("cookie", operator.cookie());
        async move {
            let response = request.header("accept-language", "it").send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, chooser) = get("").await;
    assert_eq!(status, 200, "{chooser}");
    assert!(chooser.contains("Prenota per un cittadino") && chooser.contains("Visita"), "{chooser}");
    assert!(!chooser.contains("name=\"first_name\""), "no form before a service is chosen");
    let (status, times) = get("?service=visita&mode=in_person").await;
    assert_eq!(status, 200);
    assert!(times.contains("value=\"now\" checked"), "now, first and chosen: {times}");
    assert!(times.contains("08:00 (posti liberi: 3)"), "the slot under way: {times}");
    assert!(!times.contains("07:30 (posti"), "nothing before opening");
    let form_id = times.split("name=\"form_id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let fields = |phone: &'static str| {
        vec![
            ("form_id", form_id.as_str()),
            ("service", "visita"),
            ("mode", "in_person"),
            ("channel", "counter"),
            ("when", "now"),
            ("first_name", "Giovanni"),
            ("last_name", "Esposito"),
            ("phone", phone),
            ("email", ""),
            ("privacy_accepted", "yes"),
        ]
    };
    let (status, refused) = s.admin_form(&operator, &page, &fields("")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("Enter the citizen&#x27;s phone number, for example 333 123 4567."), "{refused}");
    assert!(refused.contains("value=\"Esposito\""), "what was typed is kept");
    let free = s.remaining(TENANT, "visita", "sede", "2026-12-01T08:30:00+01:00").await;
    let (status, booked) = s.admin_form(&operator, &page, &fields("333 765 4321")).await;
    assert_eq!(status, 200, "{booked}");
    assert!(booked.contains("Giovanni Esposito") && booked.contains("At the counter"), "the booking's page: {booked}");
    assert!(booked.contains("Arrived"), "ready to check in: {booked}");
    // A double click sends the form twice: one booking, and the same page.
    let code = |page: &str| page.split("<code>").nth(1).unwrap().split("</code>").next().unwrap().to_owned();
    let (_, twice) = s.admin_form(&operator, &page, &fields("333 765 4321")).await;
    assert_eq!(code(&twice), code(&booked));
    let (_, log) = s.admin_get(&operator, &format!("/api/v1/admin/t/{TENANT}/bookings?office=sede")).await;
    let walk_ins = log.as_array().unwrap().iter().filter(|b| b["channel"] == "counter").count();
    assert_eq!(walk_ins, 1, "{log}");
    assert_eq!(
        s.remaining(TENANT, "visita", "sede", "2026-12-01T08:30:00+01:00").await,
        free,
        "08:00 was the one taken"
    );
}

/// The office's bookings of a range as CSV: every status, the channel, formulas defused; an
/// audited view; a range too long refused; another office's operator gets nothing.
async fn the_office_exports_its_bookings_as_csv(backend: Backend) {
    let s = TestServer::start(backend).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let other = s.staff("piccolo@prova.example.it", Role::Operator, Some(TENANT), &["piccolo"]).await;
    let mut sly = walk_in("sede", Some("2026-12-02T09:00:00+01:00"), "phone", None);
    sly["citizen"]["first_name"] = json!("=HYPERLINK(\"http://evil.example\")");
    assert_eq!(book(&s, &operator, &sly).await.0, 201);
    let code = super::admin::booked(&s, "2026-12-03T10:00:00+01:00", "lucia@example.it").await;
    super::admin::booked(&s, "2026-12-10T10:00:00+01:00", "outside@example.it").await;

    let export = |who: &Staff, query: &str| {
        let url = format!("{}/api/v1/admin/t/{TENANT}/export/bookings{query}", s.base);
        let request = s.http.get(url).header("authorization", who.bearer());
        async move {
            let response = request.send().await.unwrap();
            let disposition = response.headers().get("content-disposition").map(|h| h.to_str().unwrap().to_owned());
            (response.status().as_u16(), disposition, response.text().await.unwrap())
        }
    };
    // A bulk copy of citizens' data is for the body's admins; operators open one booking at a time.
    assert_eq!(export(&operator, "?office=sede&from=2026-12-02&to=2026-12-03").await.0, 403);
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (status, disposition, csv) = export(&admin, "?office=sede&from=2026-12-02&to=2026-12-03").await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(disposition.as_deref(), Some("attachment; filename=\"prova-sede-2026-12-02-2026-12-03.csv\""));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(&header[..6], ["date", "start", "end", "code", "status", "channel"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "the range's bookings only: {csv}");
    assert_eq!((&rows[0][0], &rows[0][1], &rows[0][5]), ("2026-12-02", "09:00", "phone"));
    assert_eq!(&rows[0][8], "'=HYPERLINK(\"http://evil.example\")", "a formula is shown, not run");
    assert_eq!(&rows[0][11], "'+393337654321", "a phone number is not a sum");
    assert_eq!((&rows[1][3], &rows[1][5], &rows[1][10]), (code.as_str(), "api", "lucia@example.it"));

    let (status, _, body) = export(&admin, "?office=sede&from=2026-12-01&to=2027-03-31").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("range_too_long"), "{body}");
    let (status, _, body) = export(&admin, "?office=sede&from=%2B262142-12-31&to=%2B262142-12-31").await;
    assert_eq!(status, 422, "a date at the end of time is refused, not a crash: {body}");
    assert_eq!(export(&other, "?office=sede&from=2026-12-02&to=2026-12-03").await.0, 404, "not their office");
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=bookings.exported")).await;
    assert_eq!(log.as_array().unwrap().len(), 1, "only the export that happened: {log}");
    assert_eq!(log[0]["detail"]["rows"], 2);

    // The page's download is the same file.
    let url = format!("{}/admin/t/{TENANT}/desk/sede/export?from=2026-12-02&to=2026-12-03", s.base);
    let response = s.http.get(url).header("cookie", admin.cookie()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(response.text().await.unwrap(), csv);
}

on_databases!(
    a_walk_in_takes_the_slot_under_way_then_the_next_free_one,
    a_staff_booking_is_checked_and_idempotent,
    staff_and_citizens_race_for_the_last_place,
    the_desk_books_a_walk_in_without_javascript,
    the_office_exports_its_bookings_as_csv
);
