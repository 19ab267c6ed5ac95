//! E-mails through the outbox to a real SMTP server process (`smtp-sink`): what a citizen
//! receives, and that nothing is lost or sent twice when the server is down, refuses, or several
//! workers run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::collections::BTreeSet;

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello::mail::SmtpMailer;
use sportello_tests::mail::SmtpSink;
use sportello_tests::packs::{Office, Pack, Service};
use sportello_tests::{Backend, TestServer, citizen_booking, on_databases};

const SINK: &str = env!("CARGO_BIN_EXE_smtp-sink");

/// The `n`-th free place of `prova`'s `sede` (three desks, half-hour slots from 08:00 to 12:00),
/// from Wednesday 2 December on.
fn place(n: usize) -> String {
    let (day, rest) = (n / 24, n % 24);
    let (slot, _desk) = (rest / 3, rest % 3);
    let minutes = 8 * 60 + 30 * slot;
    // 8 December is a national holiday: the office is closed.
    let date = if 2 + day >= 8 { 3 + day } else { 2 + day };
    format!("2026-12-{date:02}T{:02}:{:02}:00+01:00", minutes / 60, minutes % 60)
}

async fn book_at(s: &TestServer, start: &str, email: &str, locale: &str) -> Value {
    let (status, hold) = s.hold("prova", "visita", "sede", "in_person", start).await;
    assert_eq!(status, 201, "{hold}");
    let mut body = citizen_booking(&hold, email);
    body["locale"] = json!(locale);
    let (status, booking) = s.post(&s.url("prova", "/bookings"), &body).await;
    assert_eq!(status, 201, "{booking}");
    booking
}

/// A booking's confirmation arrives once, in the booking's language: from the body's name, with
/// a stable Message-ID, `Auto-Submitted`, plain text and HTML, and the `.ics` attached.
async fn a_booking_is_confirmed_by_e_mail(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let booking = book_at(&s, "2026-12-02T09:00:00+01:00", "maria@example.it", "en").await;
    let code = booking["code"].as_str().unwrap().to_owned();
    let backlog = s.app.outbox_backlog().await.unwrap();
    assert_eq!((backlog.waiting, backlog.oldest.is_some()), (1, true), "owed by the booking, not yet queued");
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the confirmation; a booking two days ahead has no reminder");
    assert_eq!(s.deliver_mail(&mailer).await, 0, "nothing goes twice");
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.header("To").as_deref(), Some("maria@example.it"));
    assert_eq!(mail.header("From").as_deref(), Some("\"Comune di Prova\" <noreply@sportello.test>"));
    assert_eq!(mail.header("Auto-Submitted").as_deref(), Some("auto-generated"));
    let subject = mail.header("Subject").unwrap();
    assert!(subject.starts_with("Appointment confirmed: Visit, Wednesday 2 December 2026 at 09:00"), "{subject}");
    assert!(mail.header("Message-ID").unwrap().ends_with(".confirmation@sportello>"));
    let text = mail.part("text/plain").unwrap();
    assert!(
        text.contains(&code)
            && text.contains("Sede, Via Roma 1")
            && text.contains("https://prenota.sportello.test/t/prova/b/"),
        "{text}"
    );
    let html = mail.part("text/html").unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains(&code), "{html}");
    assert!(!html.contains("<img") && !html.contains("src=\"http"), "no remote images or trackers");
    let calendar = mail.part("text/calendar").unwrap();
    assert!(
        calendar.contains("BEGIN:VCALENDAR")
            && calendar.contains(&format!("UID:{}@prova.sportello", code.replace('-', ""))),
        "{calendar}"
    );

    // Cancelled: the citizen is told, in Italian this time for an Italian booking.
    let other = book_at(&s, "2026-12-02T09:30:00+01:00", "luca@example.it", "it").await;
    assert_eq!(s.deliver_mail(&mailer).await, 1);
    let url = s.url("prova", &format!("/bookings/{}/cancel", other["code"].as_str().unwrap()));
    assert_eq!(s.post(&url, &json!({"email": "luca@example.it"})).await.0, 200);
    assert_eq!(s.deliver_mail(&mailer).await, 1);
    let subjects: Vec<String> = sink.messages().iter().map(|m| m.header("Subject").unwrap()).collect();
    assert!(
        subjects[1].starts_with("Appuntamento confermato: Visita, mercoledì 2 dicembre 2026 alle 09:30"),
        "{subjects:?}"
    );
    assert!(subjects[2].starts_with("Appuntamento annullato"), "{subjects:?}");

    // Cancelled before its confirmation was queued (the booking's row owes it until the worker
    // queues it): only the cancellation arrives, and no confirmation is in the log.
    let hasty = book_at(&s, "2026-12-02T10:00:00+01:00", "sara@example.it", "it").await;
    let url = s.url("prova", &format!("/bookings/{}/cancel", hasty["code"].as_str().unwrap()));
    assert_eq!(s.post(&url, &json!({"email": "sara@example.it"})).await.0, 200);
    assert_eq!(s.app.outbox_backlog().await.unwrap().waiting, 1, "the cancellation; the row owes nothing more");
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the cancellation alone");
    // Cancelled after its confirmation was queued, before it went (it is composed as it goes):
    // the confirmation is recorded as not needed, not as a failure.
    let queued = book_at(&s, "2026-12-02T10:30:00+01:00", "paolo@example.it", "it").await;
    assert_eq!(s.app.queue_owed_mail().await.unwrap(), 1);
    let url = s.url("prova", &format!("/bookings/{}/cancel", queued["code"].as_str().unwrap()));
    assert_eq!(s.post(&url, &json!({"email": "paolo@example.it"})).await.0, 200);
    assert_eq!(s.deliver_mail(&mailer).await, 2, "both claimed");
    for email in ["sara@example.it", "paolo@example.it"] {
        let to: Vec<String> = sink
            .messages()
            .iter()
            .filter(|m| m.header("To").as_deref() == Some(email))
            .map(|m| m.header("Subject").unwrap())
            .collect();
        assert_eq!(to.len(), 1, "{to:?}");
        assert!(to[0].starts_with("Appuntamento annullato"), "{to:?}");
    }
    let admin = s.staff("admin@prova.example.it", sportello::domain::Role::TenantAdmin, Some("prova"), &[]).await;
    let (_, log) = s.admin_get(&admin, "/api/v1/admin/t/prova/deliveries").await;
    let confirmation_to = |email: &str| {
        log.as_array().unwrap().iter().find(|m| m["topic"] == "confirmation" && m["recipient"] == email).cloned()
    };
    assert_eq!(confirmation_to("sara@example.it"), None, "{log}");
    let confirmation = confirmation_to("paolo@example.it").unwrap_or_else(|| panic!("{log}"));
    assert_eq!(confirmation["state"], "skipped", "{confirmation}");
    assert_eq!(s.app.outbox_backlog().await.unwrap().failed, 0);
}

/// Moves `booking` of `email` to `start` by its manage token.
async fn move_to(s: &TestServer, booking: &Value, start: &str) {
    let (code, token) = (booking["code"].as_str().unwrap(), booking["manage_token"].as_str().unwrap());
    let (status, hold) = s.hold("prova", "visita", "sede", "in_person", start).await;
    assert_eq!(status, 201, "{hold}");
    let moved = json!({"token": token, "hold_id": hold["hold_id"], "hold_token": hold["hold_token"]});
    let (status, body) = s.post(&s.url("prova", &format!("/bookings/{code}/reschedule")), &moved).await;
    assert_eq!(status, 200, "{body}");
}

/// A booking moved before its confirmation was queued is confirmed once, at its new time (no "moved"
/// e-mail about a time the citizen was never written to); moved later, it gets the "moved"
/// e-mail; its reminder follows it each time, and goes once, for the last time.
async fn the_reminder_follows_a_moved_booking(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    // Made on 1 December at 07:00 in Rome, for Thursday 10 December at 09:00.
    let booking = book_at(&s, "2026-12-10T09:00:00+01:00", "anna@example.it", "it").await;
    move_to(&s, &booking, "2026-12-11T10:00:00+01:00").await;
    assert_eq!(s.deliver_mail(&mailer).await, 1, "one confirmation");
    move_to(&s, &booking, "2026-12-14T09:00:00+01:00").await;
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the move");
    // Past the reminder times of 10 and 11 December (48 hours before each).
    s.clock.advance(TimeDelta::days(8) + TimeDelta::hours(4));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "no reminder for a time the booking left");
    // 12 December 09:01 in Rome: 48 hours before 14 December at 09:00, and a minute.
    s.clock.advance(TimeDelta::days(3) - TimeDelta::hours(2) + TimeDelta::minutes(1));
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the reminder");
    s.clock.advance(TimeDelta::days(1));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "once");
    let subjects: Vec<String> = sink.messages().iter().map(|m| m.header("Subject").unwrap()).collect();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(
        subjects[0].starts_with("Appuntamento confermato: Visita, venerdì 11 dicembre 2026 alle 10:00"),
        "{subjects:?}"
    );
    assert!(
        subjects[1].starts_with("Appuntamento spostato: Visita, lunedì 14 dicembre 2026 alle 09:00"),
        "{subjects:?}"
    );
    assert!(subjects[2].starts_with("Promemoria: Visita, lunedì 14 dicembre 2026 alle 09:00"), "{subjects:?}");
}

/// The calendar entry in each e-mail, read by another parser: an invitation from the body to the
/// citizen at the office's wall time with its VTIMEZONE, replaced on a move (SEQUENCE 1) and
/// withdrawn on cancellation (METHOD:CANCEL, SEQUENCE 2), always under one UID.
async fn calendar_entries_follow_the_booking(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let booking = book_at(&s, "2026-12-02T09:00:00+01:00", "maria@example.it", "it").await;
    let (code, token) = (booking["code"].as_str().unwrap(), booking["manage_token"].as_str().unwrap());
    // Each message goes before the next change (a confirmation composed as it goes would find
    // the booking already cancelled).
    assert_eq!(s.deliver_mail(&mailer).await, 1);
    let (status, hold) = s.hold("prova", "visita", "sede", "in_person", "2026-12-03T10:30:00+01:00").await;
    assert_eq!(status, 201, "{hold}");
    let moved = json!({"token": token, "hold_id": hold["hold_id"], "hold_token": hold["hold_token"]});
    let (status, body) = s.post(&s.url("prova", &format!("/bookings/{code}/reschedule")), &moved).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.deliver_mail(&mailer).await, 1);
    let (status, body) = s.post(&s.url("prova", &format!("/bookings/{code}/cancel")), &json!({"token": token})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.deliver_mail(&mailer).await, 1);
    assert_eq!(sink.messages().len(), 3);

    let mut entries = Vec::new();
    for mail in sink.messages() {
        let ics = mail.part("text/calendar").expect("a calendar entry");
        let Some(read) = sportello_tests::ics::read_calendar(&ics) else { return };
        let method = read["method"].as_str().unwrap().to_owned();
        let part_type = mail
            .parsed()
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == "text/calendar")
            .map(|p| p.ctype.params.get("method").cloned());
        assert_eq!(part_type, Some(Some(method.clone())), "the MIME part names the method");
        assert_eq!(read["timezones"], json!(["Europe/Rome"]));
        entries.push((method, read["events"][0].clone()));
    }
    let uid = format!("{}@prova.sportello", code.replace('-', ""));
    let expected = [
        ("REQUEST", 0, "CONFIRMED", "2026-12-02T08:00:00Z", "2026-12-02T08:30:00Z"),
        ("REQUEST", 1, "CONFIRMED", "2026-12-03T09:30:00Z", "2026-12-03T10:00:00Z"),
        ("CANCEL", 2, "CANCELLED", "2026-12-03T09:30:00Z", "2026-12-03T10:00:00Z"),
    ];
    for ((method, event), (want_method, sequence, status, start, end)) in entries.iter().zip(expected) {
        assert_eq!(method, want_method, "{event}");
        assert_eq!(
            (event["uid"].as_str(), event["sequence"].as_u64(), event["status"].as_str()),
            (Some(uid.as_str()), Some(sequence), Some(status)),
            "{event}"
        );
        assert_eq!((event["start"].as_str(), event["end"].as_str()), (Some(start), Some(end)), "{event}");
        assert_eq!(event["tzid"], "Europe/Rome");
        assert_eq!(event["organizer"], "mailto:noreply@sportello.test");
        assert_eq!(event["attendee"], "mailto:maria@example.it");
        let alarms = if status == "CANCELLED" { json!([]) } else { json!([-86_400]) };
        assert_eq!(event["alarms"], alarms, "a reminder the day before, none for a cancelled one: {event}");
    }
}

/// A body's e-mails come in its own name, from its own address where the platform may send for
/// its domain (else the platform's), with its Reply-To, what to bring, and the reminder at its
/// own offset.
async fn a_body_sends_in_its_own_name(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ente = |slug: &str, sender: &str| {
        Pack::new(slug, "Ente di prova")
            .mail(&[
                "sender_name = \"Prenotazioni dell'Ente\"",
                &format!("sender_address = {sender:?}"),
                "reply_to = \"urp@ente.test\"",
                "reminder_hours = 24",
            ])
            .service(Service::new("visita", "Visita").with("bring = { it = \"Un documento di identità\" }"))
            .office(Office::new("sede", "Sede", "Via Roma 1", &["visita"]).every_day("08:00", "12:00", 1))
    };
    s.app.apply_pack(&ente("ente", "prenotazioni@ente.test").write()).await.unwrap();
    s.app.apply_pack(&ente("altro-ente", "prenotazioni@altrove.test").write()).await.unwrap();
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    for (tenant, email) in [("ente", "anna@example.it"), ("altro-ente", "bruno@example.it")] {
        let hold =
            json!({"service": "visita", "office": "sede", "mode": "in_person", "start": "2026-12-04T09:00:00+01:00"});
        let (status, hold) = s.post(&s.url(tenant, "/holds"), &hold).await;
        assert_eq!(status, 201, "{hold}");
        let (status, booking) = s.book(tenant, &hold, email).await;
        assert_eq!(status, 201, "{booking}");
    }
    assert_eq!(s.deliver_mail(&mailer).await, 2, "the confirmations; the reminders wait");
    // Sent side by side: found by recipient, not by order.
    let messages = sink.messages();
    let to = |email: &str| messages.iter().find(|m| m.header("To").as_deref() == Some(email)).unwrap();
    let own = to("anna@example.it");
    assert_eq!(own.header("From").as_deref(), Some("Prenotazioni dell'Ente <prenotazioni@ente.test>"));
    assert_eq!(own.header("Reply-To").as_deref(), Some("urp@ente.test"));
    let text = own.part("text/plain").unwrap();
    assert!(text.contains("Cosa portare") && text.contains("Un documento di identità"), "{text}");
    let elsewhere = to("bruno@example.it");
    assert_eq!(
        elsewhere.header("From").as_deref(),
        Some("Prenotazioni dell'Ente <noreply@sportello.test>"),
        "a domain the platform may not send for falls back to its own address"
    );
    // 4 December 09:00 in Rome, 24 hours ahead: 3 December 08:00 UTC, not 48 hours ahead.
    s.clock.advance(TimeDelta::hours(26));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "not two days ahead");
    s.clock.advance(TimeDelta::hours(24));
    assert_eq!(s.deliver_mail(&mailer).await, 2, "the reminders, a day ahead");
}

/// A reminder is composed when it goes: it gives the office's address as it is then, not as it
/// was when the booking was made.
async fn a_reminder_says_what_is_true_when_it_goes(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ente = |address: &str| {
        Pack::new("ente", "Ente di prova")
            .service(Service::new("visita", "Visita"))
            .office(Office::new("sede", "Sede", address, &["visita"]).every_day("08:00", "12:00", 1))
            .write()
    };
    s.app.apply_pack(&ente("Via Roma 1")).await.unwrap();
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let hold =
        json!({"service": "visita", "office": "sede", "mode": "in_person", "start": "2026-12-10T09:00:00+01:00"});
    let (status, hold) = s.post(&s.url("ente", "/holds"), &hold).await;
    assert_eq!(status, 201, "{hold}");
    let (status, booking) = s.book("ente", &hold, "anna@example.it").await;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the confirmation");
    s.app.apply_pack(&ente("Via Garibaldi 2")).await.unwrap();
    s.clock.advance(TimeDelta::days(7) + TimeDelta::hours(2));
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the reminder");
    let messages = sink.messages();
    let text = |i: usize| messages[i].part("text/plain").unwrap();
    assert!(text(0).contains("Via Roma 1"), "{}", text(0));
    assert!(messages[1].header("Subject").unwrap().starts_with("Promemoria"), "{:?}", messages[1].header("Subject"));
    assert!(text(1).contains("Via Garibaldi 2") && !text(1).contains("Via Roma 1"), "{}", text(1));
    assert!(text(1).contains(booking["code"].as_str().unwrap()), "{}", text(1));
}

/// A Jitsi booking gets a room of its own on the body's server, unguessable and different for
/// each booking, in the answer, the e-mail, its calendar entry and the booking's page; the
/// citizen leaves no contact for it. A Teams booking gets its office's meeting link; a Skype one
/// the office's Skype name.
async fn each_video_call_says_how_it_happens(backend: Backend) {
    let s = TestServer::start(backend).await;
    let pack = Pack::new("video", "Ente in video")
        .setting("jitsi_server = \"https://video.ente.test/\"")
        .service(Service::new("colloquio", "Colloquio").modes(&["jitsi"]))
        .office(
            Office::new("remoto", "Ufficio remoto", "Via Roma 1", &["colloquio"])
                .modes(&["jitsi"])
                .every_day("08:00", "12:00", 2),
        );
    s.app.apply_pack(&pack.write()).await.unwrap();
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let mut rooms = Vec::new();
    for email in ["anna@example.it", "bruno@example.it"] {
        let hold =
            json!({"service": "colloquio", "office": "remoto", "mode": "jitsi", "start": "2026-12-02T09:00:00+01:00"});
        let (status, hold) = s.post(&s.url("video", "/holds"), &hold).await;
        assert_eq!(status, 201, "{hold}");
        let (status, booking) = s.book("video", &hold, email).await;
        assert_eq!(status, 201, "{booking}");
        let link = booking["call_link"].as_str().unwrap().to_owned();
        assert!(link.starts_with("https://video.ente.test/sportello-") && link.len() == 58, "{link}");
        let page = s
            .http
            .get(format!("{}/t/video/b/{}", s.base, booking["manage_token"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert!(page.text().await.unwrap().contains(&format!("href=\"{link}\"")), "the booking's page links the room");
        rooms.push(link);
    }
    assert_ne!(rooms[0], rooms[1], "a room per booking");

    assert_eq!(s.deliver_mail(&mailer).await, 2);
    let mail = sink.messages().into_iter().find(|m| m.header("To").as_deref() == Some("anna@example.it")).unwrap();
    assert!(mail.part("text/plain").unwrap().contains(&rooms[0]), "the e-mail carries the room");
    let ics = mail.part("text/calendar").unwrap();
    if let Some(read) = sportello_tests::ics::read_calendar(&ics) {
        assert_eq!(read["events"][0]["location"], rooms[0].as_str());
    }
    // Teams: the office's meeting; Skype: the office's Skype name beside the citizen's.
    let pack = Pack::new("riunioni", "Ente in riunione")
        .service(Service::new("colloquio", "Colloquio").modes(&["teams", "skype"]))
        .office(
            Office::new("remoto", "Ufficio remoto", "Via Roma 1", &["colloquio"])
                .modes(&["teams", "skype"])
                .with("teams_link = \"https://teams.microsoft.com/l/meetup-join/ufficio\"")
                .with("skype_contact = \"ufficio.remoto\"")
                .every_day("08:00", "12:00", 2),
        );
    s.app.apply_pack(&pack.write()).await.unwrap();
    for (mode, contact, email) in
        [("teams", "carla@example.it", "carla@example.it"), ("skype", "carla.rossi85", "dario@example.it")]
    {
        let hold =
            json!({"service": "colloquio", "office": "remoto", "mode": mode, "start": "2026-12-02T09:00:00+01:00"});
        let (status, hold) = s.post(&s.url("riunioni", "/holds"), &hold).await;
        assert_eq!(status, 201, "{hold}");
        let mut body = citizen_booking(&hold, email);
        body["contact"] = json!(contact);
        let (status, booking) = s.post(&s.url("riunioni", "/bookings"), &body).await;
        assert_eq!(status, 201, "{booking}");
        let expected = (mode == "teams").then_some("https://teams.microsoft.com/l/meetup-join/ufficio");
        assert_eq!(booking["call_link"].as_str(), expected, "{booking}");
    }
    assert_eq!(s.deliver_mail(&mailer).await, 2);
    let text_to = |email: &str| {
        sink.messages()
            .into_iter()
            .find(|m| m.header("To").as_deref() == Some(email))
            .unwrap()
            .part("text/plain")
            .unwrap()
    };
    assert!(text_to("carla@example.it").contains("https://teams.microsoft.com/l/meetup-join/ufficio"));
    assert!(text_to("dario@example.it").contains("ufficio.remoto"));
}

/// A body's own e-mail templates replace the built-in ones; one that does not render gives way
/// to the built-in one rather than stop the booking.
async fn a_body_writes_its_own_e_mails(backend: Backend) {
    let s = TestServer::start(backend).await;
    let text =
        "CUSTOM {{heading}}\n{{#each details}}{{label}}: {{value}}\n{{/each}}{{#each actions}}{{url}}\n{{/each}}";
    let broken_html = "<p>{{no_such_helper heading}}</p>";
    let pack = Pack::new("proprio", "Ente con modelli")
        .service(Service::new("visita", "Visita"))
        .office(Office::new("sede", "Sede", "Via Roma 1", &["visita"]).every_day("08:00", "12:00", 1));
    let files = [
        ("templates/mail-text.hbs", text.as_bytes().to_vec()),
        ("templates/mail-html.hbs", broken_html.as_bytes().to_vec()),
    ];
    s.app.apply_pack(&pack.write_with(&files)).await.unwrap();
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let hold =
        json!({"service": "visita", "office": "sede", "mode": "in_person", "start": "2026-12-02T09:00:00+01:00"});
    let (status, hold) = s.post(&s.url("proprio", "/holds"), &hold).await;
    assert_eq!(status, 201, "{hold}");
    let (status, booking) = s.book("proprio", &hold, "anna@example.it").await;
    assert_eq!(status, 201, "a template of the body's never stops a booking: {booking}");
    assert_eq!(s.deliver_mail(&mailer).await, 1);
    let mail = &sink.messages()[0];
    let plain = mail.part("text/plain").unwrap();
    assert!(plain.starts_with("CUSTOM ") && plain.contains(booking["code"].as_str().unwrap()), "{plain}");
    assert!(plain.contains("https://prenota.sportello.test/t/proprio/b/"), "{plain}");
    let html = mail.part("text/html").unwrap();
    assert!(html.contains("<html lang=\"it\">") && !html.contains("no_such_helper"), "the built-in HTML: {html}");
}

/// The SMTP server is down while 50 bookings are made: every confirmation waits and is retried,
/// and once the server is back each arrives exactly once.
async fn nothing_is_lost_while_smtp_is_down(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut sink = SmtpSink::not_yet(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    for n in 0..50 {
        book_at(&s, &place(n), &format!("c{n}@example.it"), "it").await;
    }
    assert_eq!(s.deliver_mail(&mailer).await, 50, "each tried once");
    assert_eq!(s.deliver_mail(&mailer).await, 0, "and not again before its delay");
    let ready: Value = s.http.get(format!("{}/readyz", s.base)).send().await.unwrap().json().await.unwrap();
    // An outage shows: the messages waiting for a retry are the backlog; the reminders waiting for
    // their time are not.
    assert_eq!(ready["outbox"]["waiting"], 50, "{ready}");
    assert!(ready["outbox"]["oldest_seconds"].is_number(), "{ready}");
    s.clock.advance(TimeDelta::seconds(13));
    assert_eq!(s.deliver_mail(&mailer).await, 50, "tried again after ten seconds (and jitter)");
    sink.launch();
    assert_eq!(s.deliver_mail(&mailer).await, 0, "the next try waits thirty seconds more");
    s.clock.advance(TimeDelta::seconds(37));
    assert_eq!(s.deliver_mail(&mailer).await, 50);
    let ids: BTreeSet<String> = sink.messages().iter().map(|m| m.header("Message-ID").unwrap()).collect();
    assert_eq!((sink.messages().len(), ids.len()), (50, 50), "each once");
    let ready: Value = s.http.get(format!("{}/readyz", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (ready["outbox"]["waiting"].as_u64(), ready["outbox"]["failed"].as_u64()),
        (Some(0), Some(0)),
        "{ready}"
    );
    // Half an hour on, before the first reminders (for 3 December) are due: nothing goes again.
    s.clock.advance(TimeDelta::minutes(30));
    assert_eq!(s.deliver_mail(&mailer).await, 0);
}

/// A reminder that could not go (the server went down) counts in the backlog, aged from when it
/// was queued at its time.
async fn a_reminder_waiting_for_a_retry_shows_in_the_backlog(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    book_at(&s, "2026-12-10T09:00:00+01:00", "kept@example.it", "it").await;
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the confirmation");
    sink.stop();
    // 8 December 09:01 in Rome: the reminder is due, and the server is down.
    s.clock.advance(TimeDelta::days(7) + TimeDelta::minutes(121));
    let due = s.app.now();
    assert_eq!(s.deliver_mail(&mailer).await, 1, "tried once");
    s.clock.advance(TimeDelta::seconds(5));
    let backlog = s.app.outbox_backlog().await.unwrap();
    assert_eq!((backlog.waiting, backlog.oldest), (1, Some(due)), "waiting for its retry since it was due");
}

/// A server that refuses the recipient for good (5xx) fails the message at once: no retries.
async fn a_permanent_refusal_is_not_retried(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &["--reject-domain", "gone.example"]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    book_at(&s, &place(0), "nobody@gone.example", "it").await;
    book_at(&s, &place(1), "someone@example.it", "it").await;
    assert_eq!(s.deliver_mail(&mailer).await, 2);
    s.clock.advance(TimeDelta::hours(3));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "the refused one is failed, not retried");
    assert_eq!(sink.messages().len(), 1);
    let metrics = s.http.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("sportello_outbox_failed 1\n"), "{metrics}");
}

/// A failed reminder is sent again from the delivery log only while its booking is confirmed.
async fn a_failed_reminder_of_a_cancelled_booking_is_not_sent_again(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &["--reject-domain", "gone.example"]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let booking = book_at(&s, "2026-12-10T09:00:00+01:00", "someone@gone.example", "it").await;
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the confirmation, refused for good");
    s.clock.advance(TimeDelta::days(7) + TimeDelta::hours(3));
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the reminder, refused for good");
    // Signed in now: a session from a week ago would have lapsed.
    let admin = s.staff("admin@prova.example.it", sportello::domain::Role::TenantAdmin, Some("prova"), &[]).await;
    let (_, log) = s.admin_get(&admin, "/api/v1/admin/t/prova/deliveries").await;
    let reminder = log.as_array().unwrap().iter().find(|m| m["topic"] == "reminder").unwrap()["id"].clone();
    let retry = format!("/api/v1/admin/t/prova/deliveries/{reminder}/retry");
    let url = s.url("prova", &format!("/bookings/{}/cancel", booking["code"].as_str().unwrap()));
    assert_eq!(s.post(&url, &json!({"email": "someone@gone.example"})).await.0, 200);
    assert_eq!(s.admin_send(&admin, "POST", &retry, None, None).await.0, 404, "the booking is cancelled");
}

/// A reminder goes once, 48 hours before, only for a booking still confirmed.
async fn reminders_go_once_and_only_for_kept_bookings(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let kept = book_at(&s, "2026-12-10T09:00:00+01:00", "kept@example.it", "it").await;
    let dropped = book_at(&s, "2026-12-10T09:30:00+01:00", "dropped@example.it", "it").await;
    let url = s.url("prova", &format!("/bookings/{}/cancel", dropped["code"].as_str().unwrap()));
    assert_eq!(s.post(&url, &json!({"email": "dropped@example.it"})).await.0, 200);
    assert_eq!(
        s.deliver_mail(&mailer).await,
        2,
        "a confirmation and a cancellation (the other confirmation was not queued yet)"
    );
    // 8 December 08:59 in Rome: one minute before the reminder is due.
    s.clock.advance(TimeDelta::days(7) + TimeDelta::minutes(119));
    assert_eq!(s.deliver_mail(&mailer).await, 0);
    s.clock.advance(TimeDelta::minutes(2));
    assert_eq!(s.deliver_mail(&mailer).await, 1);
    s.clock.advance(TimeDelta::days(1));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "once");
    let reminders: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.header("Subject").is_some_and(|s| s.starts_with("Promemoria")))
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].header("To").as_deref(), Some("kept@example.it"));
    assert!(reminders[0].part("text/plain").unwrap().contains(kept["code"].as_str().unwrap()));
}

/// A worker that read a booking before it moved does not queue its e-mail on what it read: the
/// booking is read again, and its reminder follows the new time.
async fn a_worker_does_not_queue_on_a_stale_read(backend: Backend) {
    use sportello::store::{Advance, BookingMail, OwedMail};
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let booking = book_at(&s, "2026-12-10T09:00:00+01:00", "anna@example.it", "it").await;
    let now = s.app.now();
    let read = BookingMail::due(s.app.store().reader(), now, 100).await.unwrap();
    let [due] = read.as_slice() else { panic!("one booking owes its confirmation") };
    move_to(&s, &booking, "2026-12-11T10:00:00+01:00").await;
    // What the worker would have written from its read: the reminder of 10 December.
    let stale = Advance {
        id: due.id,
        revision: due.revision,
        next: Some((OwedMail::Reminder, chrono::DateTime::parse_from_rfc3339("2026-12-08T08:00:00Z").unwrap().into())),
    };
    let tx = s.app.store().begin_write().await.unwrap();
    let advanced = BookingMail::advance(tx.conn(), due.tenant, due.owed, &[stale]).await.unwrap();
    tx.commit().await.unwrap();
    assert!(advanced.is_empty(), "moved since it was read: {advanced:?}");
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the confirmation, read again");
    // 8 December 09:01 in Rome: past the old reminder time, not the new one.
    s.clock.advance(TimeDelta::days(7) + TimeDelta::hours(2) + TimeDelta::minutes(1));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "no reminder at the old time");
    s.clock.advance(TimeDelta::days(1) + TimeDelta::hours(1));
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the reminder, 48 hours before 11 December at 10:00");
}

/// A booking whose row cannot be read (here its mode mangled in the database) holds back
/// no other booking's e-mail: it is put off and tried again later, and nothing is lost.
async fn an_unreadable_booking_holds_back_no_other_e_mail(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    book_at(&s, &place(0), "anna@example.it", "it").await;
    let db = sea_orm::Database::connect(&s.database_url).await.unwrap();
    let mangle = |mode: &str| {
        let sql = format!("UPDATE bookings SET mode = '{mode}' WHERE email = 'anna@example.it'");
        Statement::from_string(db.get_database_backend(), sql)
    };
    db.execute_raw(mangle("pigeon")).await.unwrap();
    // More bookings than one batch reads, all due after the unreadable one.
    for n in 1..=120 {
        book_at(&s, &place(n), &format!("c{n}@example.it"), "it").await;
    }
    assert_eq!(s.deliver_mail(&mailer).await, 120, "every other confirmation");
    assert_eq!(s.app.outbox_backlog().await.unwrap().waiting, 0, "the unreadable one is put off");
    db.execute_raw(mangle("in_person")).await.unwrap();
    s.clock.advance(TimeDelta::minutes(16));
    assert_eq!(s.deliver_mail(&mailer).await, 1, "tried again once readable");
    assert_eq!(sink.messages().len(), 121);
}

/// Workers that were down until after an appointment began send no reminder for it.
async fn no_reminder_after_the_appointment_began(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    // Made on 1 December at 07:00 in Rome for 3 December at 09:00: reminded at 09:00 today.
    book_at(&s, "2026-12-03T09:00:00+01:00", "anna@example.it", "it").await;
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the confirmation");
    s.clock.advance(TimeDelta::days(2) + TimeDelta::hours(3));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "the appointment began an hour ago");
    assert_eq!(s.app.outbox_backlog().await.unwrap().waiting, 0, "and nothing is left owed");
    assert_eq!(sink.messages().len(), 1);
}

/// Two instances on one database, each with its worker, queue and deliver 200 confirmations at the
/// same time: each once.
async fn two_workers_share_the_outbox(backend: Backend) {
    let s = TestServer::start(backend).await;
    let other = s.another_instance().await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    for n in 0..200 {
        book_at(&s, &place(n), &format!("c{n}@example.it"), "it").await;
    }
    let (a, b) = tokio::join!(s.deliver_mail(&mailer), other.deliver_mail(&mailer));
    assert_eq!(a + b, 200, "every message claimed once ({a} + {b})");
    let ids: BTreeSet<String> = sink.messages().iter().map(|m| m.header("Message-ID").unwrap()).collect();
    assert_eq!((sink.messages().len(), ids.len()), (200, 200));
}

/// The e-mail's links carry a signed token, never the address: the manage link opens the booking;
/// the cancel link only asks when opened (a mail scanner cancels nothing), cancels once when the
/// button is pressed, and is refused when changed, replayed or expired.
async fn links_in_the_e_mail_manage_and_cancel(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let booking = book_at(&s, "2026-12-03T09:00:00+01:00", "anna@example.it", "it").await;
    let code = booking["code"].as_str().unwrap().to_owned();
    s.deliver_mail(&mailer).await;
    let text = sink.messages()[0].part("text/plain").unwrap();
    let links: Vec<&str> =
        text.split_whitespace().filter(|w| w.starts_with("https://prenota.sportello.test/")).collect();
    assert!(links.iter().all(|l| !l.contains("anna") && !l.contains("%40") && !l.contains('@')), "{links:?}");
    let path = |prefix: &str| {
        let link = links.iter().find(|l| l.contains(prefix)).unwrap_or_else(|| panic!("{prefix} in {links:?}"));
        link.trim_start_matches("https://prenota.sportello.test").to_owned()
    };
    let (manage, cancel) = (path("/t/prova/b/"), path("/t/prova/cancel/"));
    let page = |path: String| {
        let s = &s;
        async move {
            let response = s.http.get(format!("{}{path}", s.base)).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let press = |path: String| {
        let s = &s;
        async move {
            let response = s.http.post(format!("{}{path}", s.base)).form(&[("confirmed", "yes")]).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, shown) = page(manage.clone()).await;
    assert!(status == 200 && shown.contains(&code), "{shown}");
    let (status, calendar) = page(format!("{manage}/calendar.ics")).await;
    assert!(status == 200 && calendar.contains("BEGIN:VCALENDAR"), "{calendar}");
    // Opening the cancel link, as a mail scanner does, cancels nothing.
    let (status, asked) = page(cancel.clone()).await;
    assert!(status == 200 && asked.contains(&code), "{asked}");
    let manage_token = manage.rsplit('/').next().unwrap();
    assert!(!asked.contains(manage_token) && !asked.contains("/b/"), "a cancel link opens no management: {asked}");
    let (_, still) = s.booking("prova", &code, "anna@example.it").await;
    assert_eq!(still["status"], "confirmed");
    // A changed token is not ours.
    let mut forged = cancel.clone();
    forged.pop();
    forged.push(if cancel.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(press(forged).await.0, 404);
    let (status, done) = press(cancel.clone()).await;
    assert!(status == 200 && done.contains(&code), "{done}");
    let (_, gone) = s.booking("prova", &code, "anna@example.it").await;
    assert_eq!(gone["status"], "cancelled");
    assert_eq!(press(cancel.clone()).await.0, 409, "cancelled once; a replay changes nothing");
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the cancellation is told once");

    // A cancel link stops working when the appointment begins.
    let later = book_at(&s, "2026-12-03T09:30:00+01:00", "bruno@example.it", "it").await;
    s.deliver_mail(&mailer).await;
    let mail = sink
        .messages()
        .into_iter()
        .find(|m| m.part("text/plain").unwrap().contains(later["code"].as_str().unwrap()))
        .unwrap();
    let text = mail.part("text/plain").unwrap();
    let cancel = text
        .split_whitespace()
        .find(|w| w.contains("/t/prova/cancel/"))
        .unwrap()
        .trim_start_matches("https://prenota.sportello.test")
        .to_owned();
    s.clock.advance(TimeDelta::days(3));
    assert_eq!(press(cancel).await.0, 410);
}

/// Sends through the real SMTP server, then never returns: a worker that dies between handing a
/// message to SMTP and recording it.
struct DiesAfterSending(SmtpMailer);

#[async_trait::async_trait]
impl sportello::mail::Mailer for DiesAfterSending {
    async fn send(&self, mail: &sportello::mail::OutgoingMail<'_>) -> Result<(), sportello::mail::SendError> {
        self.0.send(mail).await?;
        std::future::pending().await
    }
}

/// A worker dies while delivering: its claims lapse after two minutes and another worker sends the
/// messages again. None is lost; those SMTP had already taken arrive twice, with the same
/// Message-ID (as much as SMTP allows), and nothing more.
async fn a_worker_that_dies_loses_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    for n in 0..5 {
        book_at(&s, &place(n), &format!("c{n}@example.it"), "it").await;
    }
    let dying = DiesAfterSending(SmtpMailer::new(&sink.url()).unwrap());
    let died = tokio::time::timeout(std::time::Duration::from_secs(2), s.deliver_mail(&dying)).await;
    assert!(died.is_err(), "the worker never recorded its sends");
    assert_eq!(sink.messages().len(), 5, "SMTP took them");
    assert_eq!(s.deliver_mail(&mailer).await, 0, "still claimed by the dead worker");
    s.clock.advance(TimeDelta::minutes(2) + TimeDelta::seconds(1));
    assert_eq!(s.deliver_mail(&mailer).await, 5, "the lapsed claims are taken over");
    let received = sink.messages();
    let ids: BTreeSet<String> = received.iter().map(|m| m.header("Message-ID").unwrap()).collect();
    assert_eq!((received.len(), ids.len()), (10, 5), "each twice, under one Message-ID");
    s.clock.advance(TimeDelta::minutes(10));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "and then recorded as sent");
}

/// Holds every send until let go; then sends through `then`, or reports a temporary failure: a
/// worker on a slow SMTP server.
struct Stalled(std::sync::Arc<tokio::sync::Notify>, Option<SmtpMailer>);

#[async_trait::async_trait]
impl sportello::mail::Mailer for Stalled {
    async fn send(&self, mail: &sportello::mail::OutgoingMail<'_>) -> Result<(), sportello::mail::SendError> {
        self.0.notified().await;
        match &self.1 {
            Some(then) => then.send(mail).await,
            None => Err(sportello::mail::SendError::Transient("timed out".into())),
        }
    }
}

/// Starts `mailer`'s worker round in the background, and lets it claim before going on.
async fn stalled_round(s: &TestServer, mailer: Stalled) -> tokio::task::JoinHandle<usize> {
    let app = s.app.clone();
    let round = tokio::spawn(async move { app.deliver_due(&mailer).await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    round
}

/// A slow worker's claim lapses and a second worker takes the message over; the first then
/// reports a failure while the second is still sending. Only the claim in force counts: the
/// message ends sent, and goes once.
async fn a_lapsed_claim_is_settled_only_by_its_new_worker(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    book_at(&s, &place(0), "slow@example.it", "it").await;
    let (first, second) =
        (std::sync::Arc::new(tokio::sync::Notify::new()), std::sync::Arc::new(tokio::sync::Notify::new()));
    let slow = stalled_round(&s, Stalled(first.clone(), None)).await;
    s.clock.advance(TimeDelta::minutes(2) + TimeDelta::seconds(1));
    let takeover = stalled_round(&s, Stalled(second.clone(), Some(SmtpMailer::new(&sink.url()).unwrap()))).await;
    first.notify_waiters();
    assert_eq!(slow.await.unwrap(), 1);
    second.notify_waiters();
    assert_eq!(takeover.await.unwrap(), 1, "taken over");
    s.clock.advance(TimeDelta::hours(1));
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    assert_eq!(s.deliver_mail(&mailer).await, 0, "the stale failure did not put it back to retry");
    assert_eq!(sink.messages().len(), 1);
}

/// A reminder being sent when its booking is cancelled is never retried or taken over, and does
/// not hold back the cancellation.
async fn a_reminder_in_flight_is_dropped_with_its_booking(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sink = SmtpSink::start(SINK, &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    let booking = book_at(&s, "2026-12-10T09:00:00+01:00", "late@example.it", "it").await;
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the confirmation");
    s.clock.advance(TimeDelta::days(7) + TimeDelta::hours(3));
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let slow = stalled_round(&s, Stalled(gate.clone(), None)).await;
    let url = s.url("prova", &format!("/bookings/{}/cancel", booking["code"].as_str().unwrap()));
    assert_eq!(s.post(&url, &json!({"email": "late@example.it"})).await.0, 200);
    gate.notify_waiters();
    assert_eq!(slow.await.unwrap(), 1, "the reminder was in flight");
    assert_eq!(s.deliver_mail(&mailer).await, 1, "the cancellation goes at once");
    s.clock.advance(TimeDelta::hours(3));
    assert_eq!(s.deliver_mail(&mailer).await, 0, "the reminder is not retried");
    let subjects: Vec<String> = sink.messages().iter().map(|m| m.header("Subject").unwrap()).collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[1].starts_with("Appuntamento annullato"), "{subjects:?}");
}

on_databases!(
    a_reminder_waiting_for_a_retry_shows_in_the_backlog,
    a_failed_reminder_of_a_cancelled_booking_is_not_sent_again,
    a_body_writes_its_own_e_mails,
    each_video_call_says_how_it_happens,
    a_body_sends_in_its_own_name,
    a_reminder_says_what_is_true_when_it_goes,
    calendar_entries_follow_the_booking,
    a_lapsed_claim_is_settled_only_by_its_new_worker,
    a_reminder_in_flight_is_dropped_with_its_booking,
    a_worker_that_dies_loses_nothing,
    links_in_the_e_mail_manage_and_cancel,
    a_booking_is_confirmed_by_e_mail,
    the_reminder_follows_a_moved_booking,
    no_reminder_after_the_appointment_began,
    a_worker_does_not_queue_on_a_stale_read,
    an_unreadable_booking_holds_back_no_other_e_mail,
    nothing_is_lost_while_smtp_is_down,
    a_permanent_refusal_is_not_retried,
    reminders_go_once_and_only_for_kept_bookings,
    two_workers_share_the_outbox,
);
