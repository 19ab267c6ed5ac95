//! Retention: once a booking ended more than the body's retention period ago, a pass anonymises
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
    let page = s
        .http
        .get(format!("{}/admin/t/{TENANT}/desk/sede?date=2026-12-01", s.base))
        .header("cookie", admin.cookie())
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.text().await.unwrap().matches("Personal data anonymised").count(), 6);
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

on_databases!(past_retention_nothing_personal_is_left);
