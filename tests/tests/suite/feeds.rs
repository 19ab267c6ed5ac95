//! An office's private calendar feed: at its secret address, its appointments with what the
//! operator needs and no more, read back by another parser; any wrong part of the address, a
//! replaced or a revoked one, gets 404.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use serde_json::json;
use sportello::domain::Role;
use sportello_tests::{Backend, TestServer, citizen_booking, on_databases};

const TENANT: &str = "prova";

async fn feed(s: &TestServer, path: &str) -> (u16, String) {
    let response = s.http.get(format!("{}{path}", s.base)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn an_office_feed_shows_its_appointments_at_a_secret_address(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (status, hold) = s.hold(TENANT, "visita", "sede", "in_person", "2026-12-02T09:00:00+01:00").await;
    assert_eq!(status, 201);
    let (status, in_person) = s.book(TENANT, &hold, "lucia.verdi@example.it").await;
    assert_eq!(status, 201, "{in_person}");
    let (status, hold) = s.hold(TENANT, "visita", "sede", "whatsapp", "2026-12-03T10:00:00+01:00").await;
    assert_eq!(status, 201);
    let mut body = citizen_booking(&hold, "w@example.it");
    body["contact"] = json!("347 000 1111");
    let (status, video) = s.post(&s.url(TENANT, "/bookings"), &body).await;
    assert_eq!(status, 201, "{video}");

    let make = format!("/api/v1/admin/t/{TENANT}/feeds/sede");
    let (status, made) = s.admin_send(&admin, "POST", &make, None, None).await;
    assert_eq!(status, 201, "{made}");
    let url = made["url"].as_str().unwrap();
    let path = url.strip_prefix("https://prenota.sportello.test").expect("on the public address").to_owned();
    assert!(path.starts_with("/t/prova/feeds/sede/") && path.ends_with(".ics"), "{path}");
    let (status, ics) = feed(&s, &path).await;
    assert_eq!(status, 200, "{ics}");
    assert!(!ics.contains("example.it") && !ics.contains("RSSMRA"), "no e-mail or fiscal code: {ics}");
    assert!(ics.contains("+393470001111"), "the number to call on WhatsApp: {ics}");
    if let Some(read) = sportello_tests::ics::read_calendar(&ics) {
        let events = read["events"].as_array().unwrap();
        assert_eq!(events.len(), 2, "{read}");
        assert_eq!(events[0]["start"], "2026-12-02T08:00:00Z");
        assert!(events[0]["summary"].as_str().unwrap().starts_with("Visita – "), "{read}");
        assert_eq!(events[0]["location"], "Sede, Via Roma 1");
    }

    // A cancelled appointment leaves the feed.
    let cancel = s.url(TENANT, &format!("/bookings/{}/cancel", video["code"].as_str().unwrap()));
    assert_eq!(s.post(&cancel, &json!({"email": "w@example.it"})).await.0, 200);
    assert_eq!(feed(&s, &path).await.1.matches("BEGIN:VEVENT").count(), 1);

    // Any wrong part of the address is not found.
    let token = path.rsplit('/').next().unwrap().trim_end_matches(".ics");
    let mut changed = token.to_owned();
    changed.replace_range(0..1, if token.starts_with('a') { "b" } else { "a" });
    for wrong in [
        format!("/t/prova/feeds/sede/{changed}.ics"),
        format!("/t/prova/feeds/nord/{token}.ics"),
        format!("/t/altro/feeds/sede/{token}.ics"),
        format!("/t/prova/feeds/sede/{token}"),
        "/t/prova/feeds/sede/short.ics".to_owned(),
    ] {
        assert_eq!(feed(&s, &wrong).await.0, 404, "{wrong}");
    }

    // A new address revokes the old one; revoking leaves none.
    let (_, again) = s.admin_send(&admin, "POST", &make, None, None).await;
    let newer = again["url"].as_str().unwrap().strip_prefix("https://prenota.sportello.test").unwrap().to_owned();
    assert_eq!(feed(&s, &path).await.0, 404, "the old address");
    assert_eq!(feed(&s, &newer).await.0, 200);
    assert_eq!(s.admin_send(&admin, "DELETE", &make, None, None).await.0, 204);
    assert_eq!(feed(&s, &newer).await.0, 404, "revoked");
    let (_, listed) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/feeds")).await;
    assert_eq!(listed, json!([]));
    let (_, audit) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit")).await;
    assert!(audit.to_string().contains("feed.made") && audit.to_string().contains("feed.revoked"), "{audit}");

    // The page shows a new address once.
    let (status, page) = s.admin_form(&admin, &format!("/admin/t/{TENANT}/feeds/sede"), &[]).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("id=\"new-feed\" readonly value=\"https://prenota.sportello.test/t/prova/feeds/sede/"),
        "{page}"
    );

    // An office removed takes its feed with it: added again, it starts without one.
    let (status, small) =
        s.admin_send(&admin, "POST", &format!("/api/v1/admin/t/{TENANT}/feeds/piccolo"), None, None).await;
    assert_eq!(status, 201, "{small}");
    let small = small["url"].as_str().unwrap().strip_prefix("https://prenota.sportello.test").unwrap().to_owned();
    let (_, tenant) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}")).await;
    let version = format!("\"{}\"", tenant["config_version"]);
    let office = format!("/api/v1/admin/t/{TENANT}/offices/piccolo");
    let (status, body) = s.admin_send(&admin, "DELETE", &office, Some(&version), None).await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/feeds")).await;
    assert!(!listed.to_string().contains("piccolo"), "{listed}");
    let (_, tenant) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}")).await;
    let version = format!("\"{}\"", tenant["config_version"]);
    let again = json!({"slug": "piccolo", "name": "Sportello piccolo", "address": "Via Verdi 2", "modes": ["in_person"],
        "services": ["visita"], "hours": {"wed": [{"from": "08:00", "to": "10:00", "desks": 1}]}});
    let (status, body) = s.admin_send(&admin, "PUT", &office, Some(&version), Some(&again)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(feed(&s, &small).await.0, 404, "the old address does not come back with the slug");
}

on_databases!(an_office_feed_shows_its_appointments_at_a_secret_address);
