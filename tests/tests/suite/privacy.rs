//! Privacy operations. Retention: once a booking ended more than the body's retention period ago, a pass anonymises
//! it — every personal datum of it is looked for afterwards in every text column of every table
//! of the database, and none is left — while the statistics are the same as before, the bookings
//! still in their period keep their data, and a second pass finds nothing to do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::DateTime;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use sportello::app::{Clock, RetentionPass};
use sportello::domain::Role;
use sportello::mail::SmtpMailer;
use sportello_tests::mail::SmtpSink;
use sportello_tests::staff::Staff;
use sportello_tests::{Backend, TestServer, citizen_booking, on_databases};

use super::admin::TENANT;
use super::statistics::a_day_at_the_counter;

fn admin_path(rest: &str) -> String {
    format!("/api/v1/admin/t/{TENANT}{rest}")
}

/// Books `start` of `service` in `mode` for a citizen of the given names and e-mail, with
/// `extra` fields added to the request; the booking as the API answers it.
async fn book_as(
    s: &TestServer,
    (service, mode, start): (&str, &str, &str),
    names: (&str, &str, &str),
    extra: Value,
) -> Value {
    let (status, hold) = s.hold(TENANT, service, "sede", mode, start).await;
    assert_eq!(status, 201, "{hold}");
    let mut request = citizen_booking(&hold, names.2);
    request["citizen"]["first_name"] = json!(names.0);
    request["citizen"]["last_name"] = json!(names.1);
    if let (Value::Object(request), Value::Object(extra)) = (&mut request, extra) {
        for (key, value) in extra {
            match (request.get_mut(&key), value) {
                (Some(Value::Object(inner)), Value::Object(more)) => inner.extend(more),
                (_, value) => {
                    request.insert(key, value);
                }
            }
        }
    }
    let (status, booking) = s.post(&s.url(TENANT, "/bookings"), &request).await;
    assert_eq!(status, 201, "{booking}");
    booking
}

/// Every text column of every table of the test's database (both backends), as `(table, column)`.
async fn text_columns(db: &impl ConnectionTrait) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
    };
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
    rows.iter().map(|r| (r.try_get("", "t").unwrap(), r.try_get("", "c").unwrap())).collect()
}

/// The `(table, column)`s where `needle` is found (any case), anywhere in the database.
async fn found_in_database(db: &impl ConnectionTrait, needle: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let mut found = Vec::new();
    for (table, column) in text_columns(db).await {
        let sql = match backend {
            DbBackend::Postgres => format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE \"{column}\"::text ILIKE $1"),
            _ => format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE ?1"),
        };
        let pattern = format!("%{needle}%");
        let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, [pattern.into()])).await.unwrap();
        let n: i64 = row.unwrap().try_get("", "n").unwrap();
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

/// The staff page `/admin/t/prova{rest}` in English, as `staff` sees it.
async fn staff_page(s: &TestServer, staff: &Staff, rest: &str) -> (u16, String) {
    let url = format!("{}/admin/t/{TENANT}{rest}", s.base);
    let page = s.http.get(url).header("cookie", staff.cookie()).header("accept-language", "en").send().await.unwrap();
    (page.status().as_u16(), page.text().await.unwrap())
}

async fn set_retention(s: &TestServer, admin: &Staff, days: u16) {
    let path = admin_path("/settings");
    let (status, mut settings) = s.admin_get(admin, &path).await;
    assert_eq!(status, 200, "{settings}");
    settings["retention_days"] = json!(0);
    let (status, refused) = s.admin_send(admin, "PUT", &path, Some("\"1\""), Some(&settings)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("retention_days")), "{refused}");
    settings["retention_days"] = json!(days);
    let (status, saved) = s.admin_send(admin, "PUT", &path, Some("\"1\""), Some(&settings)).await;
    assert_eq!(status, 200, "{saved}");
    let (_, read) = s.admin_get(admin, &path).await;
    assert_eq!(read["retention_days"], days, "{read}");
}

async fn past_retention_nothing_personal_is_left(backend: Backend) {
    let s = TestServer::start(backend).await;
    // Two citizens with rarer data than the counter's day has: a fiscal code, a payment notice,
    // a reason; a WhatsApp number to call.
    let fiscal = book_as(
        &s,
        ("con-cf", "in_person", "2026-12-01T10:00:00+01:00"),
        ("Zeferina", "Quagliotti", "zeferina@example.it"),
        json!({
            "citizen": {"fiscal_code": "RSSMRA85T10A562S"},
            "answers": {"notice_number": "3020 0000 0001 2345 59"},
            "reason": "rinnovo",
        }),
    )
    .await;
    let call = book_as(
        &s,
        ("visita", "whatsapp", "2026-12-01T11:00:00+01:00"),
        ("Ottavio", "Brambillasca", "ottavio@example.it"),
        json!({"contact": "+39 347 555 0001"}),
    )
    .await;
    // Ottavio cancels: the cancellation's text, kept in the outbox, greets him by name.
    let cancel = json!({"email": "ottavio@example.it"});
    let (status, body) =
        s.post(&s.url(TENANT, &format!("/bookings/{}/cancel", call["code"].as_str().unwrap())), &cancel).await;
    assert_eq!(status, 200, "{body}");
    let sink = SmtpSink::start(env!("CARGO_BIN_EXE_smtp-sink"), &[]);
    let mailer = SmtpMailer::new(&sink.url()).unwrap();
    assert_eq!(s.deliver_mail(&mailer).await, 2, "a confirmation and a cancellation, kept in the outbox");
    let (admin, codes) = a_day_at_the_counter(&s).await;
    let [a, _, _, d, _, _] = codes.as_slice() else { panic!("six bookings") };
    let note = json!({"note": "Nota riservata Pelagatti"});
    let (status, _) = s.admin_send(&admin, "PUT", &admin_path(&format!("/bookings/{a}/note")), None, Some(&note)).await;
    assert_eq!(status, 204);
    let reason = json!({"reason": "Motivo Scarpantibus"});
    let (status, body) =
        s.admin_send(&admin, "POST", &admin_path(&format!("/bookings/{d}/cancel")), None, Some(&reason)).await;
    assert_eq!(status, 200, "{body}");
    assert!(s.deliver_mail(&mailer).await > 0, "the day's e-mails went out too");
    set_retention(&s, &admin, 1).await;

    let period = admin_path("/statistics?from=2026-12-01&to=2026-12-07");
    let (status, before) = s.admin_get(&admin, &period).await;
    assert_eq!(status, 200, "{before}");
    let db = Database::connect(&s.database_url).await.unwrap();
    // Of the first of December (past the one day kept by noon of the 2nd), and of the 2nd and 3rd.
    let gone = [
        "Zeferina",
        "Quagliotti",
        "RSSMRA85T10A562S",
        "302000000001234559",
        "Ottavio",
        "Brambillasca",
        "393475550001",
        "a@example.it",
        "b@example.it",
        "c@example.it",
        "Franca",
        "393331112222",
        "Pelagatti",
    ];
    let kept = ["d@example.it", "e@example.it"];
    for needle in gone.iter().chain(&kept) {
        assert!(!found_in_database(&db, needle).await.is_empty(), "{needle} is in the database before the pass");
    }

    let now = s.clock.now();
    let noon_of_the_2nd = DateTime::parse_from_rfc3339("2026-12-02T12:00:00+01:00").unwrap().to_utc();
    s.clock.advance(noon_of_the_2nd - now);
    // One booking per transaction: the pass goes on until none is left.
    let pass = s.app.apply_retention(1).await.unwrap();
    // A day later the first session has lapsed: another admin signs in.
    let admin = s.staff("admin2@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    assert_eq!((pass.bookings, pass.messages > 0), (6, true), "{pass:?}");

    for needle in gone {
        assert_eq!(found_in_database(&db, needle).await, Vec::<String>::new(), "{needle} is left");
    }
    for needle in kept {
        assert!(!found_in_database(&db, needle).await.is_empty(), "{needle} is still in its period");
    }
    // The reason D was cancelled stays with D and its e-mail, and not in the append-only audit log.
    let reason = found_in_database(&db, "Scarpantibus").await;
    assert!(reason.contains(&"bookings.cancel_reason".to_owned()), "{reason:?}");
    assert!(!reason.iter().any(|at| at.starts_with("audit")), "{reason:?}");

    let (_, after) = s.admin_get(&admin, &period).await;
    assert_eq!(after, before, "the statistics count the same");
    let again = s.app.apply_retention(500).await.unwrap();
    assert_eq!(again, RetentionPass::default(), "a second pass has nothing to do");

    // Staff still see the day, without anyone's data; the citizen's link says what happened.
    let (status, day) = s.admin_get(&admin, &admin_path("/bookings?office=sede&date=2026-12-01")).await;
    assert_eq!(status, 200, "{day}");
    let items = day.as_array().unwrap();
    assert_eq!(items.len(), 6, "{day}");
    for item in items {
        assert!(item["anonymised_at"].is_string(), "{item}");
        assert_eq!((item["first_name"].as_str(), item["phone"].as_str()), (Some(""), Some("")), "{item}");
        assert_eq!((item["fiscal_code"].clone(), item["answers"].clone()), (Value::Null, json!({})), "{item}");
    }
    let (status, agenda) = staff_page(&s, &admin, "/desk/sede?date=2026-12-01").await;
    assert_eq!(status, 200);
    assert_eq!(agenda.matches("Personal data anonymised").count(), 6);
    let token = fiscal["manage_token"].as_str().unwrap();
    let code = fiscal["code"].as_str().unwrap();
    let (status, mine) = s.get(&s.url(TENANT, &format!("/bookings/{code}?token={token}"))).await;
    assert_eq!(status, 200, "{mine}");
    assert!(mine["anonymised_at"].is_string(), "{mine}");
    assert_eq!((mine["citizen"]["last_name"].as_str(), mine["status"].as_str()), (Some(""), Some("confirmed")));
    let (status, _) = s.booking(TENANT, call["code"].as_str().unwrap(), "ottavio@example.it").await;
    assert_eq!(status, 404, "the e-mail address proves nothing once it is gone");
    let html = s
        .http
        .get(format!("{}/t/{TENANT}/b/{token}", s.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("personal data were anonymised"), "{html}");
    assert!(!html.contains("Zeferina"));
}

/// `GET …/personal-data` proved by `email`: the status, the headers that matter, the document.
async fn copy_of(s: &TestServer, code: &str, email: &str) -> (u16, Option<String>, Option<String>, Value) {
    let response = s
        .http
        .get(s.url(TENANT, &format!("/bookings/{code}/personal-data")))
        .header("Booking-Email", email)
        .send()
        .await
        .unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, cache, disposition) =
        (response.status().as_u16(), header("cache-control"), header("content-disposition"));
    let body = response.text().await.unwrap();
    (status, cache, disposition, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// A citizen takes a copy of everything held about their booking — with who at the office
/// opened it — and then erases it: the appointment still to come is cancelled (the place freed,
/// the e-mail sent), the data are gone at once, and the cancellation's text once it went.
async fn a_citizen_copies_then_erases_their_data(backend: Backend) {
    let s = TestServer::start(backend).await;
    let start = "2026-12-02T09:00:00+01:00";
    let free = s.remaining(TENANT, "visita", "sede", start).await.unwrap();
    let booking =
        book_as(&s, ("visita", "in_person", start), ("Gilda", "Sparapani", "gilda@example.it"), json!({})).await;
    let code = booking["code"].as_str().unwrap();
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (status, _) = s.admin_get(&admin, &admin_path(&format!("/bookings/{code}"))).await;
    assert_eq!(status, 200);

    let (status, cache, disposition, copy) = copy_of(&s, code, "gilda@example.it").await;
    assert_eq!(status, 200, "{copy}");
    assert_eq!(cache.as_deref(), Some("no-store"));
    assert_eq!(disposition, Some(format!("attachment; filename=\"{code}-personal-data.json\"")));
    assert_eq!(
        (copy["booking"]["first_name"].as_str(), copy["booking"]["last_name"].as_str()),
        (Some("Gilda"), Some("Sparapani"))
    );
    assert_eq!(copy["controller"]["name"], "Comune di Prova", "{copy}");
    assert_eq!(copy["retention"]["days_after_the_appointment"], 90, "{copy}");
    assert_eq!(copy["retention"]["anonymised_after"], "2027-03-02T08:30:00Z", "{copy}");
    let opened: Vec<&Value> =
        copy["staff_access"].as_array().unwrap().iter().filter(|a| a["action"] == "booking.opened").collect();
    assert_eq!(opened.len(), 1, "{copy}");
    assert_eq!(opened[0]["by"], "admin@prova.example.it");
    assert!(copy["messages"].as_array().unwrap().iter().all(|m| m["kind"] == "email"), "{copy}");
    assert_eq!(copy_of(&s, code, "someone@example.it").await.0, 404, "the same proof as the booking");

    let erase = s.url(TENANT, &format!("/bookings/{code}/personal-data/erase"));
    let (status, erased) = s.post(&erase, &json!({"email": "gilda@example.it"})).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!((erased["status"].as_str(), erased["citizen"]["first_name"].as_str()), (Some("cancelled"), Some("")));
    assert!(erased["anonymised_at"].is_string(), "{erased}");
    assert_eq!(s.remaining(TENANT, "visita", "sede", start).await, Some(free), "the place is free again");
    let db = Database::connect(&s.database_url).await.unwrap();
    // Gone at once but from the cancellation still to go (its calendar file names her).
    let left = found_in_database(&db, "Sparapani").await;
    assert!(left.iter().all(|at| at.starts_with("outbox_messages.")), "{left:?}");
    let to = found_in_database(&db, "gilda@example.it").await;
    assert!(to.contains(&"outbox_messages.recipient".to_owned()), "the cancellation still to go: {to:?}");
    assert!(to.iter().all(|at| at.starts_with("outbox_messages.")), "{to:?}");

    let sink = SmtpSink::start(env!("CARGO_BIN_EXE_smtp-sink"), &[]);
    s.deliver_mail(&SmtpMailer::new(&sink.url()).unwrap()).await;
    let sent = sink.messages();
    let cancellation =
        sent.iter().find(|m| m.header("To").is_some_and(|to| to.contains("gilda@example.it"))).expect("told");
    assert!(cancellation.part("text/plain").unwrap().contains("Gilda"), "greeted by name before it was erased");
    let pass = s.app.apply_retention(500).await.unwrap();
    assert_eq!((pass.bookings, pass.messages), (0, 1), "the sent cancellation cleared: {pass:?}");
    for needle in ["Gilda", "Sparapani", "gilda@example.it"] {
        assert_eq!(found_in_database(&db, needle).await, Vec::<String>::new(), "{needle} is left");
    }
    let token = erased["manage_token"].as_str().unwrap();
    let (status, again) = s.post(&erase, &json!({"token": token})).await;
    assert_eq!(
        (status, again["anonymised_at"].clone()),
        (200, erased["anonymised_at"].clone()),
        "asked again, the same"
    );
    assert_eq!(s.post(&erase, &json!({"email": "gilda@example.it"})).await.0, 404, "the address proves nothing now");
}

/// The same through the pages: the booking page offers the copy and the erasure; erasure asks
/// first, then says it is done.
async fn the_pages_offer_the_copy_and_the_erasure(backend: Backend) {
    let s = TestServer::start(backend).await;
    let booking = book_as(
        &s,
        ("visita", "in_person", "2026-12-02T10:00:00+01:00"),
        ("Ugo", "Pirandelli", "ugo@example.it"),
        json!({}),
    )
    .await;
    let code = booking["code"].as_str().unwrap();
    let page = |path: &str, form: Vec<(&'static str, String)>| {
        let request = s.http.post(format!("{}/t/{TENANT}{path}", s.base)).header("accept-language", "en").form(&form);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind =
                response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (status, kind, response.text().await.unwrap())
        }
    };
    let found = page("/booking", vec![("code", code.to_owned()), ("email", "ugo@example.it".to_owned())]).await;
    assert_eq!(found.0, 200);
    assert!(found.2.contains("Download my data") && found.2.contains("Erase my data"), "{}", found.2);
    let token = booking["manage_token"].as_str().unwrap().to_owned();
    let proof = || vec![("code", code.to_owned()), ("token", token.clone())];
    let (status, kind, json) = page("/booking/data", proof()).await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{json}");
    assert!(json.contains("Pirandelli"), "{json}");
    let (status, _, asked) = page("/booking/erase", proof()).await;
    assert_eq!(status, 200);
    assert!(
        asked.contains("Do you want to erase your personal data?") && asked.contains("will be cancelled"),
        "{asked}"
    );
    let (_, _, still) = page("/booking/data", proof()).await;
    assert!(still.contains("Pirandelli"), "asking erased nothing");
    let mut confirmed = proof();
    confirmed.push(("confirmed", "yes".to_owned()));
    let (status, _, done) = page("/booking/erase", confirmed).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Your personal data were erased.") && !done.contains("Pirandelli"), "{done}");
    assert!(!done.contains("Erase my data"), "nothing left to erase");
}

/// The record of processing (art. 30) is generated from the configuration: what each service
/// collects, what each plugin sees, the retention period, and who else receives data — a webhook
/// added shows up at once. As JSON in the API and the download, and as a page.
async fn the_record_of_processing_follows_the_configuration(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.app.apply_pack(&sportello_tests::demo_packs_dir().join("cbtoscananord")).await.unwrap();
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let hook = json!({"url": "https://protocollo.ente.example/prenotazioni", "events": ["booking.created"], "personal_data": true});
    let (status, made) = s.admin_send(&admin, "POST", &admin_path("/webhooks"), None, Some(&hook)).await;
    assert_eq!(status, 201, "{made}");
    let (status, record) = s.admin_get(&admin, &admin_path("/processing")).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!((record["controller"].as_str(), record["retention_days"].as_u64()), (Some("Comune di Prova"), Some(90)));
    let service =
        |slug: &str| record["services"].as_array().unwrap().iter().find(|s| s["service"] == slug).cloned().unwrap();
    let with_code = service("con-cf");
    let collected: Vec<&str> = with_code["collected"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(collected.contains(&"fiscal_code") && collected.contains(&"reason"), "{collected:?}");
    assert_eq!(with_code["answers"], json!([["notice_number", "Numero avviso"]]));
    let visit = service("visita");
    let collected: Vec<&str> = visit["collected"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(collected.contains(&"contact.whatsapp") && !collected.contains(&"fiscal_code"), "{collected:?}");
    let recipients: Vec<(String, bool)> = record["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r["personal_data"].as_bool().unwrap()))
        .collect();
    assert!(recipients.contains(&("https://protocollo.ente.example/prenotazioni".to_owned(), true)), "{recipients:?}");
    assert!(recipients.iter().any(|(name, _)| name.starts_with("WhatsApp")), "{recipients:?}");

    // A body whose plugin sees only the fiscal code.
    let consortium = s.staff("admin@cbtoscananord.example.it", Role::TenantAdmin, Some("cbtoscananord"), &[]).await;
    let (status, theirs) = s.admin_get(&consortium, "/api/v1/admin/t/cbtoscananord/processing").await;
    assert_eq!(status, 200, "{theirs}");
    let notices = theirs["services"].as_array().unwrap().iter().find(|s| s["service"] == "avvisi-pagamento").unwrap();
    assert_eq!(notices["plugin"], json!({"plugin": "pagopa-notice", "citizen_fields": ["fiscal_code"]}), "{notices}");
    let (status, _) = s.admin_get(&consortium, &admin_path("/processing")).await;
    assert_eq!(status, 404, "another body's record is not theirs to see");

    let (status, html) = staff_page(&s, &admin, "/processing").await;
    assert_eq!(status, 200);
    for text in
        ["Record of processing", "Fiscal code", "Answer: Numero avviso", "WhatsApp number", "protocollo.ente.example"]
    {
        assert!(html.contains(text), "{text}: {html}");
    }
    let download = s
        .http
        .get(format!("{}/admin/t/{TENANT}/processing.json", s.base))
        .header("cookie", admin.cookie())
        .send()
        .await
        .unwrap();
    assert!(download.headers()["content-disposition"].to_str().unwrap().contains("record-of-processing.json"));
    let downloaded: Value = download.json().await.unwrap();
    assert_eq!(downloaded["services"], record["services"]);
}

on_databases!(
    the_record_of_processing_follows_the_configuration,
    past_retention_nothing_personal_is_left,
    a_citizen_copies_then_erases_their_data,
    the_pages_offer_the_copy_and_the_erasure,
);
