//! Services and offices edited one at a time, through the admin API and through the admin forms:
//! each change a new version, validated whole, refused when stale, and held back when it would
//! strand bookings; what citizens can book follows at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use serde_json::{Value, json};
use sportello::domain::Role;
use sportello_tests::staff::Staff;
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::{TENANT, booked, status_of};

/// Wednesday 2 December 2026, 09:00 in Rome.
const WEDNESDAY_NINE: &str = "2026-12-02T09:00:00+01:00";

fn north_office() -> Value {
    json!({
        "slug": "nord", "name": "Sede nord", "address": "Via Po 2", "modes": ["in_person"], "services": ["visita"],
        "hours": {"wed": [{"from": "09:00", "to": "11:00", "desks": 2}]},
    })
}

async fn admin(s: &TestServer) -> Staff {
    s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await
}

/// Through the API: an office added with its hours is bookable at once; a stale or missing
/// `If-Match`, a body naming another part and an invalid value change nothing; removing a
/// service takes it out of every office; an office with bookings is removed only by choice.
async fn the_api_edits_services_and_offices(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = admin(&s).await;
    let base = format!("/api/v1/admin/t/{TENANT}");
    let (status, services) = s.admin_get(&admin, &format!("{base}/services")).await;
    assert_eq!(status, 200);
    assert_eq!(services[0]["slug"], "visita");
    assert_eq!(services[0]["name"]["en"], "Visit");

    let put = |path: String, if_match: Option<&'static str>, body: Value| {
        let (s, admin) = (&s, &admin);
        async move { s.admin_send(admin, "PUT", &path, if_match, Some(&body)).await }
    };
    let (status, saved) = put(format!("{base}/offices/nord"), Some("\"1\""), north_office()).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(2)), "{saved}");
    assert_eq!(saved["changes"], json!(["office nord added"]));
    assert_eq!(s.remaining(TENANT, "visita", "nord", WEDNESDAY_NINE).await, Some(2), "bookable at once");

    let (status, refused) = put(format!("{base}/offices/nord"), Some("\"1\""), north_office()).await;
    assert_eq!(status, 412, "stale: {refused}");
    assert!(refused.to_string().contains("office nord added"), "says what changed: {refused}");
    assert_eq!(put(format!("{base}/offices/nord"), None, north_office()).await.0, 428);
    let (status, refused) = put(format!("{base}/offices/sud"), Some("\"2\""), north_office()).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("slug")), "{refused}");
    let mut odd = north_office();
    odd["hours"]["wed"][0]["to"] = json!("08:00");
    let (status, refused) = put(format!("{base}/offices/nord"), Some("\"2\""), odd).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("hours.wed[0]")), "{refused}");
    let (_, services) = s.admin_get(&admin, &format!("{base}/services")).await;
    let mut long = services.as_array().unwrap().iter().find(|s| s["slug"] == "lunga").unwrap().clone();
    long["duration_minutes"] = json!(7);
    let (status, refused) = put(format!("{base}/services/lunga"), Some("\"2\""), long).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("duration_minutes")), "{refused}");

    let (status, saved) = s.admin_send(&admin, "DELETE", &format!("{base}/services/lunga"), Some("\"2\""), None).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(3)), "{saved}");
    let (_, offices) = s.admin_get(&admin, &format!("{base}/offices")).await;
    let sede = offices.as_array().unwrap().iter().find(|o| o["slug"] == "sede").unwrap();
    assert_eq!(sede["services"], json!(["visita", "con-cf", "sospeso"]), "no office offers a removed service");

    let code = booked(&s, "2026-12-02T08:00:00+01:00", "a@example.it").await;
    let path = format!("{base}/offices/sede");
    let (status, refused) = s.admin_send(&admin, "DELETE", &path, Some("\"3\""), None).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["bookings"][0]["code"], code.as_str());
    let keep = format!("{path}?stranded=keep");
    let (status, saved) = s.admin_send(&admin, "DELETE", &keep, Some("\"3\""), None).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(4)), "{saved}");
    assert_eq!(status_of(&s, &code, "a@example.it").await, "confirmed", "kept");
}

/// Two admins saving the same service from the same version at once: exactly one wins.
async fn two_admins_saving_one_service_at_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (first, second) = (admin(&s).await, s.log_in("admin@prova.example.it", sportello_tests::staff::PASSWORD).await);
    let path = format!("/api/v1/admin/t/{TENANT}/services/visita");
    let (_, services) = s.admin_get(&first, &format!("/api/v1/admin/t/{TENANT}/services")).await;
    let edit = |minutes: u16| {
        let mut visit = services[0].clone();
        visit["duration_minutes"] = json!(minutes);
        visit
    };
    let (a, b) = (edit(45), edit(60));
    let (one, two) = tokio::join!(
        s.admin_send(&first, "PUT", &path, Some("\"1\""), Some(&a)),
        s.admin_send(&second, "PUT", &path, Some("\"1\""), Some(&b)),
    );
    let mut statuses = [one.0, two.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{one:?} {two:?}");
    let (_, history) = s.admin_get(&first, &format!("/api/v1/admin/t/{TENANT}/versions")).await;
    assert_eq!(history.as_array().unwrap().len(), 2, "one new version: {history}");
}

/// The whole week grid of `sede` as the test pack has it (08:00–12:00, 3 desks, every day), in
/// the office form's fields.
fn sede_form() -> Vec<(&'static str, &'static str)> {
    let mut fields = vec![
        ("version", "1"),
        ("name", "Sede"),
        ("address", "Via Roma 1"),
        ("national_holidays", "yes"),
        ("modes", "in_person"),
        ("modes", "skype"),
        ("modes", "whatsapp"),
        ("modes", "teams"),
        ("services", "visita"),
        ("services", "lunga"),
        ("services", "con-cf"),
        ("services", "sospeso"),
    ];
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        let cell = |cell: &str| -> &'static str { Box::leak(format!("hours_{day}_{cell}").into_boxed_str()) };
        fields.extend([(cell("from"), "08:00"), (cell("to"), "12:00"), (cell("desks"), "3")]);
        fields.extend([(cell("from"), ""), (cell("to"), ""), (cell("desks"), "")]);
    }
    fields
}

/// Through the forms: a service and an office with its hours are added (what was typed is kept
/// on errors, each error beside its field), the citizen can book them, a closure over a booked
/// day lists the booking and keeps it when told to, and removing a booked service cancels its
/// bookings with the reason.
async fn the_forms_edit_services_and_offices(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = admin(&s).await;
    let t = format!("/admin/t/{TENANT}");
    let service = |duration: &'static str| {
        vec![
            ("version", "1"),
            ("slug", "anagrafe"),
            ("name_it", "Anagrafe"),
            ("name_en", "Registry office"),
            ("description_it", "Certificati"),
            ("description_en", "Certificates"),
            ("duration_minutes", duration),
            ("min_notice_hours", "2"),
            ("horizon_days", "30"),
            ("modes", "in_person"),
            ("active", "yes"),
        ]
    };
    let (status, page) = s.admin_form(&admin, &format!("{t}/new-service"), &service("mezz'ora")).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"f-duration_minutes-error\">Enter a whole number."), "{page}");
    assert!(page.contains("value=\"Registry office\"") && page.contains("value=\"mezz&#x27;ora\""), "kept: {page}");
    let (status, page) = s.admin_form(&admin, &format!("{t}/new-service"), &service("25")).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"f-duration_minutes-error\">must be a multiple of grid_minutes"), "{page}");
    let (status, page) = s.admin_form(&admin, &format!("{t}/new-service"), &service("30")).await;
    assert_eq!(status, 200);
    assert!(page.contains("version 2 is now in force") && page.contains("service anagrafe added"), "{page}");

    let mut office = vec![
        ("version", "2"),
        ("slug", "nord"),
        ("name", "Sede nord"),
        ("address", "Via Po 2"),
        ("modes", "in_person"),
        ("services", "anagrafe"),
        ("national_holidays", "yes"),
        ("hours_wed_from", "09:00"),
        ("hours_wed_to", "11:00"),
        ("hours_wed_desks", "2"),
        ("hours_thu_from", "11:00"),
        ("hours_thu_to", "09:00"),
        ("hours_thu_desks", "1"),
    ];
    let (status, page) = s.admin_form(&admin, &format!("{t}/new-office"), &office).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"f-hours_thu-error\""), "the error is on Thursday's row: {page}");
    assert!(page.contains("value=\"Sede nord\""), "kept: {page}");
    office.truncate(office.len() - 3);
    let (status, page) = s.admin_form(&admin, &format!("{t}/new-office"), &office).await;
    assert_eq!(status, 200);
    assert!(page.contains("version 3 is now in force"), "{page}");
    assert_eq!(s.remaining(TENANT, "anagrafe", "nord", WEDNESDAY_NINE).await, Some(2));

    let code = booked(&s, "2026-12-02T08:00:00+01:00", "a@example.it").await;
    let mut closed = sede_form();
    closed[0] = ("version", "3");
    closed.extend([("closure_from", "2026-12-02"), ("closure_to", ""), ("closure_reason", "Allagamento")]);
    let (status, page) = s.admin_form(&admin, &format!("{t}/offices/sede"), &closed).await;
    assert_eq!(status, 409);
    assert!(page.contains(&code) && page.contains("Office closed that day"), "{page}");
    assert!(page.contains("value=\"Allagamento\""), "the closure typed is kept: {page}");
    closed.extend([("stranded", "keep"), ("stranded_codes", code.as_str())]);
    let (status, page) = s.admin_form(&admin, &format!("{t}/offices/sede"), &closed).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("version 4 is now in force") && page.contains("office sede changed"), "{page}");
    assert_eq!(status_of(&s, &code, "a@example.it").await, "confirmed");
    assert_eq!(s.remaining(TENANT, "visita", "sede", "2026-12-02T09:00:00+01:00").await, None, "closed now");

    let (status, page) = s.admin_form(&admin, &format!("{t}/services/visita/removal"), &[("version", "4")]).await;
    assert_eq!(status, 409);
    assert!(page.contains(&code), "{page}");
    let cancel = [("version", "4"), ("stranded", "cancel"), ("cancel_reason", "Servizio soppresso")];
    let (status, page) = s.admin_form(&admin, &format!("{t}/services/visita/removal"), &cancel).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("service visita removed"), "{page}");
    assert_eq!(status_of(&s, &code, "a@example.it").await, "cancelled");
}

on_databases!(
    the_api_edits_services_and_offices,
    two_admins_saving_one_service_at_once,
    the_forms_edit_services_and_offices,
);
