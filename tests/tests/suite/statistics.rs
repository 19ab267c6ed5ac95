//! Statistics of a populated tenant: figures worked out by hand from a day at the counter, and
//! checked again against the bookings the agenda lists one by one (an independent path from the
//! grouped queries); the page with its charts, tables and CSV; operators limited to their
//! offices; and the open data a body may publish.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::{DateTime, TimeDelta};
use serde_json::{Value, json};
use sportello::app::Clock;
use sportello::domain::Role;
use sportello_tests::staff::Staff;
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::TENANT;

fn admin_path(rest: &str) -> String {
    format!("/api/v1/admin/t/{TENANT}{rest}")
}

async fn book(s: &TestServer, service: &str, office: &str, start: &str, email: &str) -> String {
    let (status, hold) = s.hold(TENANT, service, office, "in_person", start).await;
    assert_eq!(status, 201, "{hold}");
    let (status, booking) = s.book(TENANT, &hold, email).await;
    assert_eq!(status, 201, "{booking}");
    booking["code"].as_str().unwrap().to_owned()
}

async fn step(s: &TestServer, who: &Staff, code: &str, action: &str) {
    let (status, body) =
        s.admin_send(who, "POST", &admin_path(&format!("/bookings/{code}/{action}")), None, None).await;
    assert_eq!(status, 200, "{action} {code}: {body}");
}

/// Moves the test clock to `hh:mm` in Rome on 1 December 2026 (it only goes forward).
fn at(s: &TestServer, hh_mm: &str) {
    let target = DateTime::parse_from_rfc3339(&format!("2026-12-01T{hh_mm}:00+01:00")).unwrap();
    let by = target.to_utc() - s.clock.now();
    assert!(by >= TimeDelta::zero(), "the clock only goes forward");
    s.clock.advance(by);
}

/// The first of December at the counter: A, B and a walk-in F served (waits of 7, 26 and 20
/// minutes; services of 12, 20 and 15), C (one hour) missed, E cancelled, D still to come.
pub(super) async fn a_day_at_the_counter(s: &TestServer) -> (Staff, Vec<String>) {
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let a = book(s, "visita", "sede", "2026-12-01T08:00:00+01:00", "a@example.it").await;
    let b = book(s, "visita", "sede", "2026-12-01T08:30:00+01:00", "b@example.it").await;
    let c = book(s, "lunga", "sede", "2026-12-01T09:00:00+01:00", "c@example.it").await;
    let d = book(s, "visita", "sede", "2026-12-03T10:00:00+01:00", "d@example.it").await;
    let e = book(s, "visita", "piccolo", "2026-12-02T08:00:00+01:00", "e@example.it").await;
    let (status, cancelled) =
        s.post(&s.url(TENANT, &format!("/bookings/{e}/cancel")), &json!({"email": "e@example.it"})).await;
    assert_eq!(status, 200, "{cancelled}");

    at(s, "07:55");
    step(s, &admin, &a, "check-in").await;
    at(s, "08:02");
    step(s, &admin, &a, "call?desk=1").await;
    at(s, "08:14");
    step(s, &admin, &a, "complete").await;
    step(s, &admin, &b, "check-in").await;
    let walk_in = json!({
        "service": "visita", "office": "sede", "mode": "in_person", "channel": "counter",
        "citizen": { "first_name": "Franca", "last_name": "Rossi", "phone": "+39 333 111 2222" },
        "privacy_accepted": true
    });
    let (status, f) = s.admin_send(&admin, "POST", &admin_path("/bookings"), None, Some(&walk_in)).await;
    assert_eq!(status, 201, "{f}");
    let f = f["code"].as_str().unwrap().to_owned();
    at(s, "08:15");
    step(s, &admin, &f, "check-in").await;
    at(s, "08:35");
    step(s, &admin, &f, "call?desk=2").await;
    at(s, "08:40");
    step(s, &admin, &b, "call?desk=1").await;
    at(s, "08:50");
    step(s, &admin, &f, "complete").await;
    at(s, "09:00");
    step(s, &admin, &b, "complete").await;
    at(s, "09:20");
    step(s, &admin, &c, "no-show").await;
    (admin, vec![a, b, c, d, e, f])
}

fn bucket_counts(distribution: &Value) -> Vec<u64> {
    distribution["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).collect()
}

async fn figures_add_up_to_what_happened(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (admin, _) = a_day_at_the_counter(&s).await;
    let (status, stats) = s.admin_get(&admin, &admin_path("/statistics?from=2026-12-01&to=2026-12-07")).await;
    assert_eq!(status, 200, "{stats}");

    let total = &stats["total"];
    assert_eq!(
        [&total["made"], &total["cancelled"], &total["completed"], &total["no_show"], &total["open"]],
        [6, 1, 3, 1, 1],
        "{total}"
    );
    // A, B, F and D half an hour each, C an hour; every day sede's 3 desks × 4 h and piccolo's 2 h.
    assert_eq!((total["booked_minutes"].as_u64(), total["offered_minutes"].as_u64()), (Some(180), Some(7 * 840)));
    assert_eq!(stats["step"], "day");
    let first = &stats["over_time"][0];
    assert_eq!(
        (first["from"].as_str(), first["made"].as_u64(), first["booked_minutes"].as_u64()),
        (Some("2026-12-01"), Some(4), Some(150))
    );
    assert_eq!(
        (stats["over_time"][1]["cancelled"].as_u64(), stats["over_time"][2]["open"].as_u64()),
        (Some(1), Some(1))
    );
    let channels: Vec<(String, u64)> = stats["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["channel"].as_str().unwrap().to_owned(), c["made"].as_u64().unwrap()))
        .collect();
    assert_eq!(channels, [("web".into(), 0), ("api".into(), 5), ("counter".into(), 1), ("phone".into(), 0)]);
    // Waits 7, 26, 20 minutes; services 12, 20, 15.
    assert_eq!(bucket_counts(&stats["waiting_time"]), [0, 1, 0, 2, 0, 0]);
    assert_eq!(bucket_counts(&stats["service_time"]), [0, 0, 1, 2, 0, 0]);
    let average = |d: &Value| (d["average"].as_f64().unwrap() * 100.0).round() / 100.0;
    assert_eq!(average(&stats["waiting_time"]), 17.67);
    assert_eq!(average(&stats["service_time"]), 15.67);
    // Booked an hour or two ahead (and the walk-in after its slot began), E a day, D two.
    assert_eq!(bucket_counts(&stats["lead_time"]), [4, 1, 1, 0, 0, 0, 0]);
    let services: Vec<(String, u64)> = stats["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["service"].as_str().unwrap().to_owned(), c["made"].as_u64().unwrap()))
        .collect();
    assert_eq!(services, [("lunga".into(), 1), ("visita".into(), 5)]);

    // The same again from the agenda's rows, one booking at a time.
    let mut rows: Vec<Value> = Vec::new();
    for office in ["sede", "piccolo"] {
        let (_, week) =
            s.admin_get(&admin, &admin_path(&format!("/bookings?office={office}&date=2026-12-01&week=true"))).await;
        rows.extend(week.as_array().unwrap().iter().cloned());
    }
    let count = |status: &str| rows.iter().filter(|r| r["status"] == status).count() as u64;
    assert_eq!(rows.len() as u64, total["made"].as_u64().unwrap());
    for status in ["cancelled", "completed", "no_show"] {
        assert_eq!(count(status), total[status].as_u64().unwrap(), "{status}");
    }
    let minutes = |r: &Value, from: &str, to: &str| {
        let t = |k: &str| DateTime::parse_from_rfc3339(r[k].as_str()?).ok();
        Some((t(to)? - t(from)?).num_seconds() as f64 / 60.0)
    };
    let waits: Vec<f64> = rows.iter().filter_map(|r| minutes(r, "checked_in_at", "called_at")).collect();
    let mean = waits.iter().sum::<f64>() / waits.len() as f64;
    assert_eq!((waits.len() as u64, (mean * 100.0).round() / 100.0), (3, average(&stats["waiting_time"])));
    let counter = rows.iter().filter(|r| r["channel"] == "counter").count() as u64;
    assert_eq!(counter, 1);

    // One service, one office.
    let (_, long) = s.admin_get(&admin, &admin_path("/statistics?from=2026-12-01&to=2026-12-07&service=lunga")).await;
    assert_eq!((long["total"]["made"].as_u64(), long["total"]["no_show"].as_u64()), (Some(1), Some(1)), "{long}");
    let (_, small) = s.admin_get(&admin, &admin_path("/statistics?from=2026-12-01&to=2026-12-07&office=piccolo")).await;
    assert_eq!((small["total"]["made"].as_u64(), small["total"]["offered_minutes"].as_u64()), (Some(1), Some(7 * 120)));

    // A year is counted week by week; more is refused, as are dates that are not dates.
    let (status, year) = s.admin_get(&admin, &admin_path("/statistics?from=2026-01-01&to=2026-12-31")).await;
    assert_eq!((status, year["step"].as_str(), year["total"]["made"].as_u64()), (200, Some("week"), Some(6)), "{year}");
    let (status, long) = s.admin_get(&admin, &admin_path("/statistics?from=2025-01-01&to=2026-12-31")).await;
    assert_eq!(status, 422, "{long}");
    assert_eq!(long["errors"][0]["field"], "to", "{long}");
    let (status, bad) = s.admin_get(&admin, &admin_path("/statistics?from=yesterday")).await;
    assert_eq!((status, bad["errors"][0]["field"].as_str()), (422, Some("from")), "{bad}");
}

/// An operator sees their offices' figures only; another office is not there for them.
async fn operators_see_their_offices(backend: Backend) {
    let s = TestServer::start(backend).await;
    a_day_at_the_counter(&s).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["piccolo"]).await;
    let (status, own) = s.admin_get(&operator, &admin_path("/statistics?from=2026-12-01&to=2026-12-07")).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!((own["total"]["made"].as_u64(), own["total"]["cancelled"].as_u64()), (Some(1), Some(1)), "{own}");
    let (status, other) = s.admin_get(&operator, &admin_path("/statistics?office=sede")).await;
    assert_eq!(status, 404, "{other}");
}

/// The page: tiles, an SVG chart per figure with its table and CSV, in the visitor's language.
async fn the_page_shows_charts_tables_and_csv(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (admin, _) = a_day_at_the_counter(&s).await;
    let get = |path: String| {
        let request = s.http.get(format!("{}{path}", s.base)).header("cookie", admin.cookie());
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
            (status, kind, response.text().await.unwrap())
        }
    };
    let (status, _, page) = get(format!("/admin/t/{TENANT}/statistics?from=2026-12-01&to=2026-12-07")).await;
    assert_eq!(status, 200, "{page}");
    for needle in [
        "<svg class=\"chart\"",
        "chart-bookings-title",
        "chart-waiting",
        "Prenotazioni per giorno",
        "<th scope=\"row\">1 dic</th>",
    ] {
        assert!(page.contains(needle), "{needle} in the page");
    }
    // One bar per kind of booking on the first day: served (3) and missed (1), none still to come.
    assert!(page.contains("1 dic – Servite: 3"), "the first day's served bar");
    assert!(page.contains("1 dic – Non presentati: 1"), "the first day's missed bar");

    let (status, kind, csv) =
        get(format!("/admin/t/{TENANT}/statistics/waiting-time?from=2026-12-01&to=2026-12-07")).await;
    assert_eq!((status, kind.as_deref()), (200, Some("text/csv; charset=utf-8")), "{csv}");
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        ["from_minutes,below_minutes,count", "0,5,0", "5,10,1", "10,20,0", "20,30,2", "30,60,0", "60,,0"]
    );
    let (status, _, csv) = get(format!("/admin/t/{TENANT}/statistics/over-time?from=2026-12-01&to=2026-12-02")).await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().nth(1), Some("2026-12-01,4,0,4,3,1,150,840,0.179"), "{csv}");
    let (status, _, _) = get(format!("/admin/t/{TENANT}/statistics/nothing")).await;
    assert_eq!(status, 404);
    // Another body's admin learns nothing, not even that the date was wrong.
    let outsider = s.staff("admin@altro.example.it", Role::TenantAdmin, Some("altro"), &[]).await;
    let url = format!("{}/admin/t/{TENANT}/statistics/over-time?from=ieri", s.base);
    let response = s.http.get(url).header("cookie", outsider.cookie()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);

    // A period the page cannot show: said, and the default one shown.
    let (status, _, page) = get(format!("/admin/t/{TENANT}/statistics?from=2026-12-09&to=2026-12-01")).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("L&#x27;ultimo giorno non può venire prima del primo.")
            || page.contains("L'ultimo giorno non può venire prima del primo."),
        "{page}"
    );
    assert!(page.contains("<svg class=\"chart\""));
}

/// Open data: off until the body switches it on; then per office and service the next free
/// date and the average wait, from 5 bookings up, as JSON and CSV, without personal data.
async fn open_data_publishes_aggregates_only(backend: Backend) {
    let s = TestServer::start(backend).await;
    let url = s.url(TENANT, "/open-data/availability");
    let (status, off) = s.get(&url).await;
    assert_eq!(status, 404, "{off}");

    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (_, settings) = s.admin_get(&admin, &admin_path("/settings")).await;
    let mut changed = settings;
    changed["publish_open_data"] = json!(true);
    let (status, saved) = s.admin_send(&admin, "PUT", &admin_path("/settings"), Some("\"1\""), Some(&changed)).await;
    assert_eq!(status, 200, "{saved}");

    // piccolo has one desk from 08:00 to 10:00, four half hours: filled today, it is next free tomorrow.
    for (i, start) in ["08:00", "08:30", "09:00", "09:30"].iter().enumerate() {
        book(&s, "visita", "piccolo", &format!("2026-12-01T{start}:00+01:00"), &format!("p{i}@example.it")).await;
    }
    // At sede four bookings of visita, two and four days ahead: not yet five.
    for (i, day) in ["03", "03", "05", "05"].iter().enumerate() {
        book(&s, "visita", "sede", &format!("2026-12-{day}T09:00:00+01:00"), &format!("s{i}@example.it")).await;
    }
    let (status, open) = s.get(&url).await;
    assert_eq!(status, 200, "{open}");
    let item = |doc: &Value, office: &str, service: &str| {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["office"] == office && i["service"] == service)
            .cloned()
            .unwrap()
    };
    let small = item(&open, "piccolo", "visita");
    assert_eq!(small["next_free_date"], "2026-12-02", "{small}");
    assert_eq!(
        (small["bookings_counted"].as_u64(), small["average_waiting_days"].as_f64()),
        (Some(4), None),
        "{small}"
    );
    let sede = item(&open, "sede", "visita");
    assert_eq!((sede["next_free_date"].as_str(), sede["bookings_counted"].as_u64()), (Some("2026-12-01"), Some(4)));
    assert!(
        open["items"].as_array().unwrap().iter().all(|i| i["service"] != "sospeso"),
        "inactive services are left out"
    );
    assert!(!open.to_string().contains("example.it"), "no personal data: {open}");

    // A fifth booking at sede: the average appears, after the five minutes the figures are kept.
    book(&s, "visita", "sede", "2026-12-05T10:00:00+01:00", "s5@example.it").await;
    let (_, cached) = s.get(&url).await;
    assert_eq!(item(&cached, "sede", "visita")["bookings_counted"], 4, "kept for five minutes");
    s.clock.advance(TimeDelta::minutes(6));
    let (_, fresh) = s.get(&url).await;
    let sede = item(&fresh, "sede", "visita");
    // All booked at 07:00, for 09:00 two and four days later, and 10:00 four days later.
    let hours = [2.0 * 24.0 + 2.0, 2.0 * 24.0 + 2.0, 4.0 * 24.0 + 2.0, 4.0 * 24.0 + 2.0, 4.0 * 24.0 + 3.0];
    let expected = (hours.iter().sum::<f64>() / 5.0 / 24.0 * 10.0).round() / 10.0;
    assert_eq!(
        (sede["bookings_counted"].as_u64(), sede["average_waiting_days"].as_f64()),
        (Some(5), Some(expected)),
        "{sede}"
    );

    let response = s.http.get(format!("{url}.csv")).send().await.unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "office,office_name,service,service_name,next_free_date,average_waiting_days,bookings_counted"
    );
    assert!(lines.contains(&format!("sede,Sede,visita,Visita,2026-12-01,{expected:.1},5").as_str()), "{csv}");
    assert_eq!(lines.len() - 1, fresh["items"].as_array().unwrap().len());
}

on_databases!(
    figures_add_up_to_what_happened,
    operators_see_their_offices,
    the_page_shows_charts_tables_and_csv,
    open_data_publishes_aggregates_only,
);
