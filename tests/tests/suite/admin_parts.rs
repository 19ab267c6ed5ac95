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
    // Left out of a PUT, a service's reasons stay.
    let mut with_reasons = services.as_array().unwrap().iter().find(|s| s["slug"] == "con-cf").unwrap().clone();
    let reasons = with_reasons.as_object_mut().unwrap().remove("reasons").unwrap();
    with_reasons.as_object_mut().unwrap().remove("fields");
    assert_eq!(reasons[0]["key"], "rinnovo");
    with_reasons["duration_minutes"] = json!(45);
    let (status, saved) = put(format!("{base}/services/con-cf"), Some("\"2\""), with_reasons).await;
    assert_eq!((status, saved["changes"].clone()), (200, json!(["service con-cf changed: duration"])), "{saved}");
    let (_, services) = s.admin_get(&admin, &format!("{base}/services")).await;
    let kept = services.as_array().unwrap().iter().find(|s| s["slug"] == "con-cf").unwrap();
    assert_eq!(kept["reasons"], reasons);
    assert_eq!(kept["fields"][0]["key"], "notice_number", "its questions too");
    let mut long = services.as_array().unwrap().iter().find(|s| s["slug"] == "lunga").unwrap().clone();
    long["duration_minutes"] = json!(7);
    let (status, refused) = put(format!("{base}/services/lunga"), Some("\"3\""), long).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("duration_minutes")), "{refused}");

    let (status, saved) = s.admin_send(&admin, "DELETE", &format!("{base}/services/lunga"), Some("\"3\""), None).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(4)), "{saved}");
    let (_, offices) = s.admin_get(&admin, &format!("{base}/offices")).await;
    let sede = offices.as_array().unwrap().iter().find(|o| o["slug"] == "sede").unwrap();
    assert_eq!(sede["services"], json!(["visita", "con-cf", "sospeso"]), "no office offers a removed service");

    let code = booked(&s, "2026-12-02T08:00:00+01:00", "a@example.it").await;
    let path = format!("{base}/offices/sede");
    let (status, refused) = s.admin_send(&admin, "DELETE", &path, Some("\"4\""), None).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["bookings"][0]["code"], code.as_str());
    let keep = format!("{path}?stranded=keep");
    let (status, saved) = s.admin_send(&admin, "DELETE", &keep, Some("\"4\""), None).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(5)), "{saved}");
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
            ("reason_key", "certificato"),
            ("reason_it", "Certificato"),
            ("reason_en", "Certificate"),
            ("reason_key", ""),
            ("reason_it", ""),
            ("reason_en", ""),
            ("question_key", "pratica"),
            ("question_it", "Numero pratica"),
            ("question_en", "Case number"),
            ("question_help_it", ""),
            ("question_help_en", ""),
            ("question_kind", "digits"),
            ("question_min", "6"),
            ("question_max", "6"),
            ("question_required", "0"),
            ("question_key", ""),
            ("question_it", ""),
            ("question_en", ""),
            ("question_help_it", ""),
            ("question_help_en", ""),
            ("question_kind", "text"),
            ("question_min", ""),
            ("question_max", ""),
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
    let (_, services) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/services")).await;
    let added = services.as_array().unwrap().iter().find(|s| s["slug"] == "anagrafe").unwrap();
    assert_eq!(added["reasons"], json!([{"key": "certificato", "label": {"it": "Certificato", "en": "Certificate"}}]));
    let question = &added["fields"][0];
    assert_eq!(
        (
            question["key"].as_str(),
            question["kind"].as_str(),
            question["required"].as_bool(),
            question["max_length"].as_i64()
        ),
        (Some("pratica"), Some("digits"), Some(true), Some(6)),
        "{added}"
    );

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
    assert!(page.contains("version 4 is now in force") && page.contains("office sede changed: closures"), "{page}");
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

const SAFE_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#005a8c"/></svg>"##;
const SCRIPTED_SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#;

/// `PUT` of a file (a logo, a pack archive, a dataset) at `path` of a tenant's admin API.
async fn put_file(s: &TestServer, who: &Staff, path: &str, if_match: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = s
        .http
        .put(format!("{}/api/v1/admin/t/{path}", s.base))
        .header("authorization", who.bearer())
        .header("if-match", if_match)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn put_logo(s: &TestServer, admin: &Staff, if_match: &str, bytes: Vec<u8>) -> (u16, Value) {
    put_file(s, admin, &format!("{TENANT}/logo"), if_match, bytes).await
}

/// Through the API: the settings are read and saved as a new version (a mistake named by its
/// key); a logo is judged by its content (an SVG with a script refused, one too large refused
/// before it is read), served with a policy that lets it run nothing, and removed.
async fn settings_and_logo_through_the_api(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = admin(&s).await;
    let path = format!("/api/v1/admin/t/{TENANT}/settings");
    let (status, mut settings) = s.admin_get(&admin, &path).await;
    assert_eq!((status, settings["name"].as_str()), (200, Some("Comune di Prova")), "{settings}");
    settings["name"] = json!("Comune di Prova Nuova");
    settings["hold_minutes"] = Value::Null;
    settings["hold_seconds"] = json!(90);
    let (status, saved) = s.admin_send(&admin, "PUT", &path, Some("\"1\""), Some(&settings)).await;
    assert_eq!((status, saved["changes"].clone()), (200, json!(["tenant settings changed"])), "{saved}");
    let (_, tenant) = s.get(&s.url(TENANT, "")).await;
    assert_eq!(tenant["name"], "Comune di Prova Nuova", "{tenant}");
    settings["primary_color"] = json!("rosso");
    let (status, refused) = s.admin_send(&admin, "PUT", &path, Some("\"2\""), Some(&settings)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("branding.primary_color")), "{refused}");
    settings["primary_color"] = json!("#123456");

    // E-mails: its own sender only in a domain the platform may send for.
    settings["mail"] = json!({"sender_address": "prenotazioni@altrove.test", "reminder_hours": 24});
    let (status, refused) = s.admin_send(&admin, "PUT", &path, Some("\"2\""), Some(&settings)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("sender_address")), "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("ente.test"), "{refused}");
    settings["mail"] = json!({"sender_address": "prenotazioni@ente.test", "reply_to": "urp", "reminder_hours": 24});
    let (status, refused) = s.admin_send(&admin, "PUT", &path, Some("\"2\""), Some(&settings)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("mail.reply_to")), "{refused}");
    settings["mail"]["reply_to"] = json!("urp@ente.test");
    let (status, saved) = s.admin_send(&admin, "PUT", &path, Some("\"2\""), Some(&settings)).await;
    assert_eq!(status, 200, "{saved}");
    let (_, read) = s.admin_get(&admin, &path).await;
    assert_eq!(read["mail"]["reminder_hours"], 24, "{read}");
    assert_eq!(read["mail"]["reply_to"], "urp@ente.test", "{read}");

    let (status, refused) = put_logo(&s, &admin, "\"3\"", SCRIPTED_SVG.into()).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("logo")), "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("a script"), "{refused}");
    let (status, _) = put_logo(&s, &admin, "\"3\"", vec![b' '; 600 * 1024]).await;
    assert_eq!(status, 413, "refused by its declared length, before it is read");
    let (status, saved) = put_logo(&s, &admin, "\"3\"", SAFE_SVG.into()).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(4)), "{saved}");
    let logo = s.http.get(s.url(TENANT, "/logo")).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    assert!(logo.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(logo.text().await.unwrap(), SAFE_SVG);
    let (status, _) =
        s.admin_send(&admin, "DELETE", &format!("/api/v1/admin/t/{TENANT}/logo"), Some("\"4\""), None).await;
    assert_eq!(status, 200);
    assert_eq!(s.http.get(s.url(TENANT, "/logo")).send().await.unwrap().status().as_u16(), 404);
}

/// The privacy notice's text is part of the configuration: a new text needs a new version (each
/// booking records the version accepted), every version's text stays in the history, and the
/// citizen reads it on the tenant's pages, marked with the language it is written in.
async fn the_privacy_notice_text_has_versions(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = admin(&s).await;
    let path = format!("/api/v1/admin/t/{TENANT}/settings");
    let (_, mut settings) = s.admin_get(&admin, &path).await;
    assert_eq!(settings["privacy_notice"], json!({}), "{settings}");
    let version = settings["privacy_notice_version"].clone();
    let words = "Titolare del trattamento: Comune di Prova.\nVia Roma 1.\n\nBase giuridica: art. 6(1)(e) GDPR.";
    settings["privacy_notice"] = json!({"it": words});
    let (status, refused) = s.admin_send(&admin, "PUT", &path, Some("\"1\""), Some(&settings)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("privacy_notice_version")), "{refused}");
    settings["privacy_notice_version"] = json!("2026-12");
    settings["privacy_notice"] = json!({"it": "Suona\u{7}"});
    let (status, refused) = s.admin_send(&admin, "PUT", &path, Some("\"1\""), Some(&settings)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("privacy_notice.it")), "{refused}");
    settings["privacy_notice"] = json!({"it": words});
    let (status, saved) = s.admin_send(&admin, "PUT", &path, Some("\"1\""), Some(&settings)).await;
    assert_eq!((status, saved["changes"].clone()), (200, json!(["privacy notice changed"])), "{saved}");
    // Left out, the text stays.
    settings.as_object_mut().unwrap().remove("privacy_notice");
    settings["name"] = json!("Comune di Prova Nuova");
    assert_eq!(s.admin_send(&admin, "PUT", &path, Some("\"2\""), Some(&settings)).await.0, 200);
    let (_, now) = s.admin_get(&admin, &path).await;
    assert_eq!(now["privacy_notice"], json!({"it": words}), "{now}");

    let page =
        s.http.get(format!("{}/t/{TENANT}/privacy", s.base)).header("accept-language", "en").send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Version 2026-12") && html.contains("written in Italian only"), "{html}");
    assert!(html.contains("lang=\"it\"") && html.contains("<p>Base giuridica: art. 6(1)(e) GDPR.</p>"), "{html}");
    let home = s.http.get(format!("{}/t/{TENANT}/", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(&format!("href=\"/t/{TENANT}/privacy\"")), "the footer links the text: {home}");

    // The first version's notice (a version, no text) is still in the history, and restoring it
    // brings its version back with it.
    let (_, first) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/versions/1")).await;
    assert!(!first["pack"].as_str().unwrap().contains("privacy_notice]"), "{first}");
    let (_, second) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/versions/2")).await;
    assert!(second["pack"].as_str().unwrap().contains("Base giuridica"), "{second}");
    let restore = format!("/api/v1/admin/t/{TENANT}/versions/1/restore");
    assert_eq!(s.admin_send(&admin, "POST", &restore, Some("\"3\""), None).await.0, 200);
    let (_, restored) = s.admin_get(&admin, &path).await;
    assert_eq!((restored["privacy_notice_version"].clone(), restored["privacy_notice"].clone()), (version, json!({})));
    let gone = s.http.get(format!("{}/t/{TENANT}/privacy", s.base)).send().await.unwrap();
    assert_eq!(gone.status().as_u16(), 404, "no text and no link: nothing to show");
}

/// Through the pages: a mistake in the settings is named beside its field with what was typed
/// kept; an uploaded SVG with a script is refused with the reason; a PNG is taken.
async fn settings_and_logo_through_the_pages(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = admin(&s).await;
    let t = format!("/admin/t/{TENANT}");
    let settings = [
        ("version", "1"),
        ("name", "Comune di Prova"),
        ("timezone", "Europe/Rome"),
        ("default_locale", "it"),
        ("both_locales", "yes"),
        ("hold_minutes", "10"),
        ("privacy_notice_version", "2026-02"),
        ("primary_color", "rosso"),
        ("contacts", "URP 0583 000000"),
    ];
    let (status, page) = s.admin_form(&admin, &format!("{t}/settings"), &settings).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"f-primary_color-error\""), "{page}");
    assert!(page.contains("value=\"URP 0583 000000\"") && page.contains("value=\"rosso\""), "kept: {page}");
    // The retention period: out of its range it is named beside its field; in it, it is saved.
    let mut retained = settings.to_vec();
    retained.retain(|(name, _)| *name != "primary_color");
    retained.extend([("primary_color", "#123456"), ("retention_days", "4000")]);
    let (status, page) = s.admin_form(&admin, &format!("{t}/settings"), &retained).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"f-retention_days-error\"") && page.contains("value=\"4000\""), "{page}");

    let logo_path = format!("{t}/logo");
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part("logo", reqwest::multipart::Part::bytes(bytes).file_name(name));
        s.admin_upload(&admin, &logo_path, "1", form)
    };
    let (status, page) = upload("logo.svg", SCRIPTED_SVG.into()).await;
    assert_eq!(status, 422);
    assert!(page.contains("contains a script or an event handler"), "{page}");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let (status, page) = upload("logo.png", png.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("version 2 is now in force"));
    let logo = s.http.get(s.url(TENANT, "/logo")).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().to_vec(), png);

    retained.pop();
    retained.push(("retention_days", "30"));
    retained[0] = ("version", "2");
    let (status, page) = s.admin_form(&admin, &format!("{t}/settings"), &retained).await;
    assert_eq!(status, 200, "{page}");
    let (_, read) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/settings")).await;
    assert_eq!(read["retention_days"], 30, "{read}");
}

async fn get_pack(s: &TestServer, who: &Staff, tenant: &str) -> Vec<u8> {
    let response = s
        .http
        .get(format!("{}/api/v1/admin/t/{tenant}/pack", s.base))
        .header("authorization", who.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/gzip");
    response.bytes().await.unwrap().to_vec()
}

async fn put_pack(s: &TestServer, who: &Staff, if_match: &str, archive: Vec<u8>) -> (u16, Value) {
    put_file(s, who, &format!("{TENANT}/pack"), if_match, archive).await
}

/// A tenant goes out as a pack archive and comes back: applied on another installation it gives
/// the same configuration; imported here it is a new version, checked like any save; another
/// tenant's pack and an archive that leaves its folder are refused and change nothing.
async fn packs_go_out_and_come_back(backend: Backend) {
    use sportello::packs::{pack_archive, unpack_archive};
    let s = TestServer::start(backend).await;
    let admin = admin(&s).await;
    let path = format!("/api/v1/admin/t/{TENANT}/offices/nord");
    assert_eq!(s.admin_send(&admin, "PUT", &path, Some("\"1\""), Some(&north_office())).await.0, 200);
    let archive = get_pack(&s, &admin, TENANT).await;
    let (folder, files) = unpack_archive(&archive).unwrap();
    let (_, current) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/configuration")).await;
    assert_eq!(folder, TENANT);
    assert_eq!(String::from_utf8(files["tenant.toml"].clone()).unwrap(), current["pack"].as_str().unwrap());

    // Another installation, with the test packs as they were: the archive brings office nord.
    let elsewhere = TestServer::start(Backend::sqlite()).await;
    let file = std::env::temp_dir().join(format!("{}-{TENANT}.tar.gz", uuid::Uuid::new_v4()));
    std::fs::write(&file, &archive).unwrap();
    let applied = elsewhere.app.apply_pack_with(&file, &sportello::app::StrandPolicy::Refuse).await.unwrap();
    assert_eq!(applied.changes.iter().map(ToString::to_string).collect::<Vec<_>>(), ["office nord added"]);
    assert_eq!(elsewhere.remaining(TENANT, "visita", "nord", WEDNESDAY_NINE).await, Some(2));

    // Imported here: a new version; an old If-Match is stale.
    let mut edited = files.clone();
    let text = String::from_utf8(edited["tenant.toml"].clone()).unwrap().replace("Sede nord", "Sede settentrionale");
    edited.insert("tenant.toml".into(), text.into_bytes());
    let (status, saved) = put_pack(&s, &admin, "\"2\"", pack_archive(TENANT, &edited).unwrap()).await;
    assert_eq!((status, saved["changes"].clone()), (200, json!(["office nord changed: name"])), "{saved}");
    assert_eq!(put_pack(&s, &admin, "\"2\"", archive.clone()).await.0, 412);

    // Another tenant's pack, through this tenant: refused, and that tenant is untouched.
    let outsider = s.staff("admin@altro.example.it", Role::TenantAdmin, Some("altro"), &[]).await;
    let theirs = get_pack(&s, &outsider, "altro").await;
    let (status, refused) = put_pack(&s, &admin, "\"3\"", theirs).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (422, Some("other_tenant_pack")), "{refused}");
    let (_, altro) = s.admin_get(&outsider, "/api/v1/admin/t/altro/versions").await;
    assert_eq!(altro.as_array().unwrap().len(), 1, "{altro}");

    // Its files pass the same checks as uploads: a logo with a script is refused.
    let mut scripted = edited.clone();
    let text = String::from_utf8(edited["tenant.toml"].clone()).unwrap().replacen(
        "[branding]\n",
        "[branding]\nlogo = \"logo.svg\"\n",
        1,
    );
    scripted.insert("tenant.toml".into(), text.into_bytes());
    scripted.insert("logo.svg".into(), SCRIPTED_SVG.as_bytes().to_vec());
    let (status, refused) = put_pack(&s, &admin, "\"3\"", pack_archive(TENANT, &scripted).unwrap()).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("script"), "{refused}");
    assert_eq!(put_pack(&s, &admin, "\"3\"", b"not an archive".to_vec()).await.0, 422);
    // Without credentials, no large body is read at all.
    let anonymous = s.http.put(format!("{}/api/v1/admin/t/{TENANT}/pack", s.base)).body(vec![0u8; 2 << 20]).send();
    match anonymous.await {
        Ok(response) => assert_eq!(response.status().as_u16(), 413),
        // Refused before the body was read: the server stopped listening to it.
        Err(error) => assert!(error.is_request(), "{error}"),
    }
}

/// Datasets and plugin modules uploaded one at a time: a CSV checked line by line (added or
/// replaced), a module compiled before it is taken, each a new version with its own audit entry.
async fn datasets_and_plugins_are_uploaded(backend: Backend) {
    use sportello_tests::packs::{Office, Pack, Service};
    let s = TestServer::start(backend).await;
    let ok = super::plugins::rule(r#"{"ok":true}"#, "");
    let pack = Pack::new("moduli", "Ente con moduli")
        .plugin("regola", &[])
        .service(Service::new("ok", "Con regola").with("plugin = \"regola\""))
        .office(Office::new("sede", "Sede", "Via Roma 1", &["ok"]).every_day("08:00", "12:00", 1));
    s.app.apply_pack(&pack.write_with(&[("plugins/regola.wasm", ok.clone())])).await.unwrap();
    let admin = s.staff("admin@moduli.example.it", Role::TenantAdmin, Some("moduli"), &[]).await;
    let put = |what: &'static str, if_match: &'static str, bytes: Vec<u8>| {
        let (s, admin) = (&s, &admin);
        async move { put_file(s, admin, &format!("moduli/{what}"), if_match, bytes).await }
    };
    let (status, refused) = put("datasets/avvisi", "\"1\"", b"numero,titolare\n1,A\n1,B\n".to_vec()).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("line 3"), "{refused}");
    let (status, saved) = put("datasets/avvisi", "\"1\"", b"numero,titolare\n1,A\n2,B\n".to_vec()).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(2)), "{saved}");
    let (_, current) = s.admin_get(&admin, "/api/v1/admin/t/moduli/configuration").await;
    assert!(current["pack"].as_str().unwrap().contains("name = \"avvisi\""), "{current}");

    let (status, refused) = put("plugins/regola", "\"2\"", b"not a module".to_vec()).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("file")), "{refused}");
    let newer = super::plugins::rule(r#"{"ok":true,"summary":[]}"#, "");
    let (status, saved) = put("plugins/regola", "\"2\"", newer).await;
    assert_eq!((status, saved["changes"].clone()), (200, json!(["pack files changed (plugins, datasets, templates)"])));
    let (_, log) = s.admin_get(&admin, "/api/v1/admin/t/moduli/audit").await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"plugin.uploaded") && actions.contains(&"dataset.uploaded"), "{actions:?}");

    // The page says which line is wrong.
    let form = reqwest::multipart::Form::new()
        .text("name", "avvisi")
        .part("file", reqwest::multipart::Part::bytes(b"numero,titolare\n,A\n".to_vec()).file_name("avvisi.csv"));
    let (status, page) = s.admin_upload(&admin, "/admin/t/moduli/datasets", "3", form).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"f-file-error\""), "{page}");
}

/// A plugin added with what it may see of the citizen, bound to a service with its settings (the
/// citizen's booking then goes through it), unbound, and removed; each a version, each audited.
async fn a_plugin_is_added_bound_and_removed(backend: Backend) {
    use sportello_tests::citizen_booking;
    use sportello_tests::packs::{Office, Pack, Service};
    let s = TestServer::start(backend).await;
    let pack = Pack::new("moduli", "Ente con moduli")
        .service(Service::new("visita", "Visita"))
        .office(Office::new("sede", "Sede", "Via Roma 1", &["visita"]).every_day("08:00", "12:00", 2));
    s.app.apply_pack(&pack.write()).await.unwrap();
    let admin = s.staff("admin@moduli.example.it", Role::TenantAdmin, Some("moduli"), &[]).await;
    let refusing = super::plugins::rule(
        r#"{"ok":false,"errors":[{"field":"citizen.fiscal_code","message":{"it":"Non in elenco","en":"Not listed"}}]}"#,
        "",
    );
    let path = "moduli/plugins/elenco?citizen_fields=fiscal_code,telepathy";
    let (status, refused) = put_file(&s, &admin, path, "\"1\"", refusing.clone()).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("citizen_fields")), "{refused}");
    let path = "moduli/plugins/elenco?citizen_fields=fiscal_code,email";
    let (status, saved) = put_file(&s, &admin, path, "\"1\"", refusing).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(2)), "{saved}");
    let (_, current) = s.admin_get(&admin, "/api/v1/admin/t/moduli/configuration").await;
    let text = current["pack"].as_str().unwrap();
    assert!(
        text.contains("id = \"elenco\"") && text.contains("citizen_fields = [\"fiscal_code\", \"email\"]"),
        "{text}"
    );

    // Bound through the API, with settings; a setting that cannot be TOML is refused.
    let (_, services) = s.admin_get(&admin, "/api/v1/admin/t/moduli/services").await;
    let mut service = services[0].clone();
    assert_eq!(service["plugin"], Value::Null, "{service}");
    service["plugin"] = json!({"id": "elenco", "config": {"strict": null}});
    let url = "/api/v1/admin/t/moduli/services/visita";
    let (status, refused) = s.admin_send(&admin, "PUT", url, Some("\"2\""), Some(&service)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("plugin.config")), "{refused}");
    service["plugin"] = json!({"id": "altro", "config": {}});
    let (status, refused) = s.admin_send(&admin, "PUT", url, Some("\"2\""), Some(&service)).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("plugin")), "{refused}");
    service["plugin"] = json!({"id": "elenco", "config": {"strict": true, "regions": ["09"]}});
    let (status, saved) = s.admin_send(&admin, "PUT", url, Some("\"2\""), Some(&service)).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(3)), "{saved}");
    let (_, services) = s.admin_get(&admin, "/api/v1/admin/t/moduli/services").await;
    assert_eq!(services[0]["plugin"], json!({"id": "elenco", "config": {"strict": true, "regions": ["09"]}}));
    // A `PUT` without `plugin` keeps it.
    let mut renamed = services[0].clone();
    renamed.as_object_mut().unwrap().remove("plugin");
    renamed["name"] = json!({"it": "Visita tecnica"});
    assert_eq!(s.admin_send(&admin, "PUT", url, Some("\"3\""), Some(&renamed)).await.0, 200);
    let (_, services) = s.admin_get(&admin, "/api/v1/admin/t/moduli/services").await;
    assert_eq!(services[0]["plugin"]["id"], "elenco", "{services}");

    // The citizen's booking now goes through the plugin, which refuses it.
    let (status, hold) = s.hold("moduli", "visita", "sede", "in_person", "2026-12-02T08:00:00+01:00").await;
    assert_eq!(status, 201, "{hold}");
    let (status, problem) = s.post(&s.url("moduli", "/bookings"), &citizen_booking(&hold, "c@example.it")).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("citizen.fiscal_code")), "{problem}");

    // Removal waits until no service uses it.
    let (status, refused) =
        s.admin_send(&admin, "DELETE", "/api/v1/admin/t/moduli/plugins/elenco", Some("\"4\""), None).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (422, Some("plugin_in_use")), "{refused}");
    let mut unbound = services[0].clone();
    unbound["plugin"] = Value::Null;
    assert_eq!(s.admin_send(&admin, "PUT", url, Some("\"4\""), Some(&unbound)).await.0, 200);
    let (status, _) =
        s.admin_send(&admin, "DELETE", "/api/v1/admin/t/moduli/plugins/elenco", Some("\"5\""), None).await;
    assert_eq!(status, 200);
    let (status, _) =
        s.admin_send(&admin, "DELETE", "/api/v1/admin/t/moduli/plugins/elenco", Some("\"6\""), None).await;
    assert_eq!(status, 404);
    let (status, booking) = s.post(&s.url("moduli", "/bookings"), &citizen_booking(&hold, "c@example.it")).await;
    assert_eq!(status, 201, "without the plugin the same hold books: {booking}");

    let (_, log) = s.admin_get(&admin, "/api/v1/admin/t/moduli/audit").await;
    let added = log.as_array().unwrap().iter().find(|e| e["action"] == "plugin.uploaded").unwrap();
    assert_eq!(added["detail"]["citizen_fields"], json!(["fiscal_code", "email"]), "{added}");
    assert!(log.as_array().unwrap().iter().any(|e| e["action"] == "plugin.removed"), "{log}");
}

/// The service form binds a plugin with its settings (TOML, a mistake named beside the box);
/// the configuration page adds a plugin with what it sees and removes a dataset.
async fn plugins_through_the_pages(backend: Backend) {
    use sportello_tests::packs::{Office, Pack, Service};
    let s = TestServer::start(backend).await;
    let ok = super::plugins::rule(r#"{"ok":true}"#, "");
    let pack = Pack::new("moduli", "Ente con moduli")
        .service(Service::new("visita", "Visita"))
        .office(Office::new("sede", "Sede", "Via Roma 1", &["visita"]).every_day("08:00", "12:00", 2));
    s.app.apply_pack(&pack.write()).await.unwrap();
    let admin = s.staff("admin@moduli.example.it", Role::TenantAdmin, Some("moduli"), &[]).await;
    let plugin = reqwest::multipart::Form::new()
        .text("adding", "yes")
        .text("name", "controllo")
        .text("sees_fiscal_code", "yes")
        .part("file", reqwest::multipart::Part::bytes(ok).file_name("controllo.wasm"));
    let (status, page) = s.admin_upload(&admin, "/admin/t/moduli/plugins", "1", plugin).await;
    assert!(status == 200 && page.contains("version 2 is now in force"), "{page}");
    let (_, current) = s.admin_get(&admin, "/api/v1/admin/t/moduli/configuration").await;
    assert!(current["pack"].as_str().unwrap().contains("citizen_fields = [\"fiscal_code\"]"), "{current}");
    let csv = reqwest::multipart::Part::bytes(b"numero,titolare\n1,A\n".to_vec()).file_name("avvisi.csv");
    let dataset = reqwest::multipart::Form::new().text("name", "avvisi").part("file", csv);
    let (status, page) = s.admin_upload(&admin, "/admin/t/moduli/datasets", "2", dataset).await;
    assert!(status == 200 && page.contains("version 3 is now in force"), "{page}");

    let service = |config: &'static str| {
        vec![
            ("version", "3"),
            ("name_it", "Visita"),
            ("name_en", ""),
            ("description_it", "Una visita"),
            ("description_en", ""),
            ("duration_minutes", "30"),
            ("min_notice_hours", "0"),
            ("horizon_days", "60"),
            ("max_active_bookings_per_person", ""),
            ("modes", "in_person"),
            ("active", "yes"),
            ("plugin", "controllo"),
            ("plugin_config", config),
        ]
    };
    let (status, page) = s.admin_form(&admin, "/admin/t/moduli/services/visita", &service("strict = yes")).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"f-plugin_config-error\">Write the settings as TOML"), "{page}");
    assert!(page.contains("strict &#x3D; yes</textarea>"), "kept: {page}");
    let (status, page) = s.admin_form(&admin, "/admin/t/moduli/services/visita", &service("strict = true")).await;
    assert!(status == 200 && page.contains("version 4 is now in force"), "{page}");
    let (_, services) = s.admin_get(&admin, "/api/v1/admin/t/moduli/services").await;
    assert_eq!(services[0]["plugin"], json!({"id": "controllo", "config": {"strict": true}}));

    // The page says what each plugin sees and which services it checks; one in use has no
    // removal button, a dataset has one.
    let response = s
        .http
        .get(format!("{}/admin/t/moduli/configuration", s.base))
        .header("cookie", admin.cookie())
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let page = response.text().await.unwrap();
    assert!(page.contains("<td>fiscal code</td>") && page.contains("<td>visita</td>"), "{page}");
    assert!(!page.contains("/plugins/controllo/removal") && page.contains("/datasets/avvisi/removal"), "{page}");
    let (status, page) = s.admin_form(&admin, "/admin/t/moduli/plugins/controllo/removal", &[("version", "4")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("Used by visita"), "{page}");
    let (status, page) = s.admin_form(&admin, "/admin/t/moduli/datasets/avvisi/removal", &[("version", "4")]).await;
    assert!(status == 200 && page.contains("version 5 is now in force"), "{page}");
}

on_databases!(
    a_plugin_is_added_bound_and_removed,
    the_privacy_notice_text_has_versions,
    plugins_through_the_pages,
    datasets_and_plugins_are_uploaded,
    packs_go_out_and_come_back,
    settings_and_logo_through_the_api,
    settings_and_logo_through_the_pages,
    the_api_edits_services_and_offices,
    two_admins_saving_one_service_at_once,
    the_forms_edit_services_and_offices,
);
