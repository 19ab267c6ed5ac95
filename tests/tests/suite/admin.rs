//! Staff: who may reach which admin route (generated from the route tables), sessions, CSRF,
//! login throttling, invitations, the audit log and suspending a tenant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello::domain::Role;
use sportello::web::{Need, admin_route_table};
use sportello_tests::packs::{Office, Pack, Service};
use sportello_tests::staff::{PASSWORD, Staff};
use sportello_tests::{Backend, TestServer, on_databases};

/// The tenant under test and what of it must never show to outsiders.
pub(super) const TENANT: &str = "prova";
const TENANT_NAME: &str = "Comune di Prova";

/// Everyone the isolation checks need: a platform admin, prova's admin and operator, and the
/// admin of another tenant.
struct Cast {
    platform: Staff,
    admin: Staff,
    operator: Staff,
    outsider: Staff,
    /// The operator's account id, for the routes about one member of the staff.
    account: String,
    /// A booking at the operator's office, for the desk's routes about one booking.
    code: String,
}

async fn cast(s: &TestServer) -> Cast {
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let (_, list) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/staff")).await;
    let members = list["members"].as_array().unwrap();
    let account = members.iter().find(|m| m["email"] == operator.email.as_str()).unwrap()["account"].to_string();
    Cast {
        platform: s.staff("platform@example.it", Role::Platform, None, &[]).await,
        admin,
        operator,
        outsider: s.staff("admin@altro.example.it", Role::TenantAdmin, Some("altro"), &[]).await,
        account,
        code: booked(s, "2026-12-01T08:00:00+01:00", "desk@example.it").await,
    }
}

/// A path of a route table with its parameters filled in.
fn fill(path: &str) -> String {
    let secret = "0".repeat(64);
    let mut filled = path.to_owned();
    for (names, value) in [
        (["{tenant}", ":tenant"], TENANT),
        (["{token}", ":token"], &secret),
        (["{version}", ":version"], "1"),
        (["{service}", ":service"], "visita"),
        (["{office}", ":office"], "sede"),
        (["{key}", ":key"], "1"),
        (["{name}", ":name"], "avvisi"),
        (["{plugin}", ":plugin"], "regola"),
        (["{webhook}", ":webhook"], "1"),
        (["{message}", ":message"], "1"),
        (["{table}", ":table"], "over-time"),
    ] {
        for name in names {
            filled = filled.replace(name, value);
        }
    }
    filled
}

/// A body the admin operation on `path` accepts the shape of (unknown fields are ignored).
fn any_body(path: &str) -> Value {
    if path.ends_with("/webhooks") {
        return json!({"url": "https://crm.ente.example/hooks", "events": ["booking.created"]});
    }
    if path.contains("/services/") {
        return json!({"slug": "visita", "name": {"it": "Visita"}, "description": {"it": "Una visita"},
                      "duration_minutes": 30, "modes": ["in_person"]});
    }
    if path.ends_with("/bookings") {
        return json!({"service": "visita", "office": "sede", "mode": "in_person", "channel": "phone",
                      "start": "2026-12-02T09:00:00+01:00", "privacy_accepted": true,
                      "citizen": {"first_name": "Nuovo", "last_name": "Cittadino", "phone": "333 123 4567"}});
    }
    if path.contains("/offices/") {
        return json!({"slug": "sede", "name": "Sede", "address": "Via Roma 1", "modes": ["in_person"],
                      "services": ["visita"], "hours": {"mon": [{"from": "08:00", "to": "12:00"}]}});
    }
    json!({"email": "nuovo@example.it", "password": "x", "role": "operator", "offices": ["sede"], "pack": "x",
           "current_password": "x", "new_password": "x", "slug": "nuovo", "name": "Nuovo", "admin_email": "a@example.it",
           "timezone": "Europe/Rome", "locales": ["it"], "privacy_notice_version": "1", "primary_color": "#000000",
           "reason": "x", "note": "x", "desk": "Sportello 1", "service": "lunga"})
}

async fn api_call(s: &TestServer, method: &str, path: &str, who: Option<&Staff>) -> (u16, String) {
    let url = format!("{}/api/v1{}", s.base, fill(path));
    let mut request = s.http.request(method.to_uppercase().parse().unwrap(), url);
    let binary =
        path.ends_with("/logo") || path.ends_with("/pack") || path.contains("/datasets/") || path.contains("/plugins/");
    if binary && method == "put" {
        request = request.header("content-type", "application/octet-stream").body("<svg/>");
    } else if method != "get" {
        request = request.json(&any_body(path));
    }
    if let Some(who) = who {
        request = request.header("authorization", who.bearer());
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Every operation of the admin API, read from the OpenAPI document: no credentials → 401; the
/// admin of another tenant → 404 and nothing of this tenant; an operator or a tenant admin beyond
/// their role → 403; the rightful role → 200 on reads. An operation without a role tag fails.
async fn every_admin_api_route_checks_credentials_tenant_and_role(backend: Backend) {
    let s = TestServer::start(backend).await;
    let c = cast(&s).await;
    let (status, spec) = s.get(&format!("{}/api/v1/openapi.json", s.base)).await;
    assert_eq!(status, 200);
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/admin") {
            continue;
        }
        let path = &path.replace("{account}", &c.account).replace("{code}", &c.code);
        for (method, operation) in operations.as_object().unwrap() {
            let tags: Vec<&str> = operation["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
            let [tag] = tags.as_slice() else { panic!("{method} {path} needs exactly one role tag, has {tags:?}") };
            let what = format!("{method} {path}");
            let read = method == "get";
            match *tag {
                "Session" => continue,
                "Account" => {
                    assert_eq!(api_call(&s, method, path, None).await.0, 401, "{what} without credentials");
                    if read {
                        assert_eq!(api_call(&s, method, path, Some(&c.operator)).await.0, 200, "{what}");
                    }
                }
                "Platform" => {
                    assert_eq!(api_call(&s, method, path, None).await.0, 401, "{what} without credentials");
                    assert_eq!(api_call(&s, method, path, Some(&c.admin)).await.0, 403, "{what} by a tenant admin");
                    assert_eq!(api_call(&s, method, path, Some(&c.operator)).await.0, 403, "{what} by an operator");
                    if read {
                        assert_eq!(api_call(&s, method, path, Some(&c.platform)).await.0, 200, "{what}");
                    }
                }
                "TenantAdmin" | "TenantStaff" => {
                    assert!(path.contains("{tenant}"), "{what}: a tenant route names its tenant");
                    assert_eq!(api_call(&s, method, path, None).await.0, 401, "{what} without credentials");
                    let (status, body) = api_call(&s, method, path, Some(&c.outsider)).await;
                    assert_eq!(status, 404, "{what} by another tenant's admin: {body}");
                    assert!(!body.contains(TENANT_NAME) && !body.contains("sede"), "{what} leaks: {body}");
                    if *tag == "TenantAdmin" {
                        let (status, body) = api_call(&s, method, path, Some(&c.operator)).await;
                        assert_eq!(status, 403, "{what} by an operator: {body}");
                    }
                    if read {
                        let who = if *tag == "TenantStaff" { &c.operator } else { &c.admin };
                        assert_eq!(api_call(&s, method, path, Some(who)).await.0, 200, "{what}");
                    }
                }
                other => panic!("{what} has an unknown role tag {other:?}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} admin operations were found");
}

async fn page_call(s: &TestServer, method: &str, path: &str, who: Option<&Staff>) -> (u16, String, String) {
    let url = format!("{}{}", s.base, fill(path));
    let mut request = s.http.request(method.parse().unwrap(), url);
    if method == "POST" {
        let csrf = who.map(|w| w.csrf.clone()).unwrap_or_default();
        request = request.form(&[
            ("csrf", csrf.as_str()),
            ("email", "nuovo@example.it"),
            ("role", "operator"),
            ("offices", "sede"),
            ("suspended", "yes"),
        ]);
    }
    if let Some(who) = who {
        request = request.header("cookie", who.cookie());
    }
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.execute(request.build().unwrap()).await.unwrap();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status().as_u16(), location, response.text().await.unwrap())
}

/// Every admin page, from the table the router is built from: no session → the login page; the
/// admin of another tenant → 404 and nothing of this tenant; a lesser role → 403; the rightful
/// role → 200 on reads.
async fn every_admin_page_checks_session_tenant_and_role(backend: Backend) {
    let s = TestServer::start(backend).await;
    let c = cast(&s).await;
    let table = admin_route_table();
    assert!(table.len() >= 10, "the admin page table has only {} routes", table.len());
    for (path, method, need) in table {
        let path = &path.replace(":account", &c.account).replace(":code", &c.code);
        let method = method.as_str();
        let what = format!("{method} {path}");
        if need == Need::Public {
            continue;
        }
        let (status, location, _) = page_call(&s, method, path, None).await;
        assert_eq!(status, 303, "{what} without a session");
        assert!(location.starts_with("/admin/login"), "{what} sends to {location}");
        if path == "/admin/logout" {
            continue;
        }
        match need {
            Need::Public => unreachable!(),
            Need::Signed => {
                if method == "GET" {
                    assert_eq!(page_call(&s, method, path, Some(&c.operator)).await.0, 200, "{what}");
                }
            }
            Need::Platform => {
                assert_eq!(page_call(&s, method, path, Some(&c.admin)).await.0, 403, "{what} by a tenant admin");
                assert_eq!(page_call(&s, method, path, Some(&c.operator)).await.0, 403, "{what} by an operator");
                if method == "GET" {
                    assert_eq!(page_call(&s, method, path, Some(&c.platform)).await.0, 200, "{what}");
                }
            }
            Need::TenantAdmin | Need::TenantStaff => {
                assert!(path.contains(":tenant"), "{what}: a tenant page names its tenant");
                let (status, _, body) = page_call(&s, method, path, Some(&c.outsider)).await;
                assert_eq!(status, 404, "{what} by another tenant's admin");
                assert!(!body.contains(TENANT_NAME) && !body.contains("Via Roma"), "{what} leaks: {body}");
                if need == Need::TenantAdmin {
                    let (status, _, body) = page_call(&s, method, path, Some(&c.operator)).await;
                    assert_eq!(status, 403, "{what} by an operator: {body}");
                }
                if method == "GET" {
                    let who = if need == Need::TenantStaff { &c.operator } else { &c.admin };
                    assert_eq!(page_call(&s, method, path, Some(who)).await.0, 200, "{what}");
                }
            }
        }
    }
    // Still signed in: no check above spent a session.
    assert_eq!(s.admin_get(&c.operator, "/api/v1/admin/session").await.0, 200);
}

/// Guesses at one account: five go through, then each waits longer (429 with Retry-After), and
/// while it waits even the right password is refused, so that guessing learns nothing. Ten guesses
/// sent at once count as ten. Many accounts guessed from one address are slowed too.
async fn login_is_throttled(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(s.try_log_in("admin@prova.example.it", "wrong password!", "198.51.100.1").await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    let (status, body) = s.try_log_in("admin@prova.example.it", PASSWORD, "198.51.100.2").await;
    assert_eq!((status, body["type"].as_str()), (429, Some("/problems/rate-limited")), "{body}");
    s.clock.advance(TimeDelta::seconds(1));
    assert_eq!(s.try_log_in("admin@prova.example.it", PASSWORD, "198.51.100.2").await.0, 201);
    // A successful login starts the account afresh.
    assert_eq!(s.try_log_in("admin@prova.example.it", "wrong password!", "198.51.100.2").await.0, 401);

    s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let guesses =
        (0..10).map(|i| s.try_log_in("operatore@prova.example.it", "guess", if i % 2 == 0 { "a" } else { "b" }));
    let statuses: Vec<u16> = futures::future::join_all(guesses).await.into_iter().map(|(status, _)| status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5, "{statuses:?}");

    // One address trying many accounts: 30 attempts, then it waits.
    let mut refused = 0;
    for i in 0..31 {
        let (status, _) = s.try_log_in(&format!("nobody{i}@example.it"), "guess", "192.0.2.99").await;
        refused += usize::from(status == 429);
    }
    assert_eq!(refused, 1);
    let response = s
        .http
        .post(format!("{}/api/v1/admin/session", s.base))
        .header("x-forwarded-for", "192.0.2.99")
        .json(&json!({"email": "nobody@example.it", "password": "guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u32 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");

    // An IPv6 client rotating its addresses inside its /64 is one client.
    let mut refused = 0;
    for i in 0..31 {
        let (status, _) =
            s.try_log_in(&format!("nessuno{i}@example.it"), "guess", &format!("2001:db8:5:6::{i:x}")).await;
        refused += usize::from(status == 429);
    }
    assert_eq!(refused, 1, "one line, one budget");
    assert_eq!(s.try_log_in("nessuno@example.it", "guess", "2001:db8:5:7::1").await.0, 401, "the next /64 is another");

    // A day later the counts are forgotten, and the next login prunes them: sprayed guesses do not
    // pile up in the database.
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&s.database_url).await.unwrap();
    let counts = || async {
        let sql = Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM login_attempts");
        db.query_one_raw(sql).await.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
    };
    assert!(counts().await > 30);
    s.clock.advance(TimeDelta::hours(25));
    assert_eq!(s.try_log_in("admin@prova.example.it", PASSWORD, "203.0.113.5").await.0, 201);
    assert_eq!(counts().await, 1, "only the count of the address that just signed in is left");
}

/// Sessions live in the database: a logout on one instance ends the session on the other at once;
/// a password change ends every other session of the account; an idle session ends after an hour.
async fn sessions_end_on_every_instance(backend: Backend) {
    let first = TestServer::start(backend).await;
    let second = first.another_instance().await;
    let admin = first.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    assert_eq!(second.admin_get(&admin, "/api/v1/admin/session").await.0, 200);
    let response = first
        .http
        .delete(format!("{}/api/v1/admin/session", first.base))
        .header("authorization", admin.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(second.admin_get(&admin, "/api/v1/admin/session").await.0, 401);

    let (kept, other) = (first.log_in(&admin.email, PASSWORD).await, second.log_in(&admin.email, PASSWORD).await);
    let new_password = "un'altra frase lunga";
    let response = second
        .http
        .put(format!("{}/api/v1/admin/session/password", second.base))
        .header("authorization", kept.bearer())
        .json(&json!({"current_password": PASSWORD, "new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(first.admin_get(&other, "/api/v1/admin/session").await.0, 401, "the other session ended");
    assert_eq!(first.admin_get(&kept, "/api/v1/admin/session").await.0, 200, "the changing session lives on");
    assert_eq!(first.try_log_in(&admin.email, PASSWORD, "127.0.0.9").await.0, 401);
    let fresh = first.log_in(&admin.email, new_password).await;

    first.clock.advance(TimeDelta::minutes(61));
    assert_eq!(first.admin_get(&fresh, "/api/v1/admin/session").await.0, 401, "idle for an hour");
}

/// A session token planted in the browser before login is never the one signed in: login sets a
/// new token and ends the planted one.
async fn login_never_keeps_a_planted_session(backend: Backend) {
    let s = TestServer::start(backend).await;
    let attacker = s.staff("attacker@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    s.app.create_account("victim@prova.example.it", Role::TenantAdmin, Some(TENANT), &[], PASSWORD).await.unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{}/admin/login", s.base)).send().await.unwrap();
    let login_cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let token = html.split("name=\"login_token\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let response = client
        .post(format!("{}/admin/login", s.base))
        .header("cookie", format!("{login_cookie}; {}", attacker.cookie()))
        .form(&[
            ("login_token", token),
            ("next", "/admin/"),
            ("email", "victim@prova.example.it"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let set: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = set.iter().find(|c| c.starts_with("__Host-sportello-staff=")).expect("a session cookie");
    assert!(!session.contains(&attacker.token));
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    assert_eq!(s.admin_get(&attacker, "/api/v1/admin/session").await.0, 401, "the planted session ended");
}

/// Forms without their session's token are refused and change nothing; so is a login form whose
/// token is not the cookie's.
async fn forms_need_their_csrf_token(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let other_session = s.log_in(&admin.email, PASSWORD).await;
    for csrf in ["", "0000", other_session.csrf.as_str()] {
        let response = s
            .http
            .post(format!("{}/admin/t/{TENANT}/staff", s.base))
            .header("cookie", admin.cookie())
            .form(&[("csrf", csrf), ("email", "forged@example.it"), ("role", "tenant_admin")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "csrf {csrf:?}");
    }
    let (_, staff) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/staff")).await;
    assert_eq!(staff["pending_invitations"], json!([]), "no forged invitation");
    let response = s
        .http
        .post(format!("{}/admin/login", s.base))
        .form(&[("login_token", "1234"), ("email", admin.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403, "a login form without its cookie");
}

async fn accept(s: &TestServer, url: &str, password: &str) -> (u16, Value) {
    let token = url.rsplit('/').next().unwrap();
    let endpoint = format!("/api/v1/admin/invitations/{token}/acceptance");
    s.post(&format!("{}{endpoint}", s.base), &json!({"password": password})).await
}

/// An admin invites an operator; the link sets a password once (five clicks at once: one wins);
/// an existing account proves itself with its own password and gains the role.
async fn invitations_work_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let invite = |email: &str, tenant: &str, role: &str, who: &Staff| {
        let request = s
            .http
            .post(format!("{}/api/v1/admin/t/{tenant}/staff/invitations", s.base))
            .header("authorization", who.bearer())
            .json(&json!({"email": email, "role": role, "offices": ["sede"]}));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = invite("Nuova.Operatrice@Example.it", TENANT, "operator", &admin).await;
    assert_eq!(status, 201, "{body}");
    let url = body["url"].as_str().unwrap().to_owned();
    let page = s.http.get(format!("{}{url}", s.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let new_account_page = page.text().await.unwrap();
    assert!(new_account_page.contains("nuova.operatrice@example.it"));
    // The page does not say whether the address has an account: whoever holds the link (the
    // inviting admin too) would learn it for any address.
    let (_, existing) = invite(&admin.email, TENANT, "operator", &admin).await;
    let existing = s.http.get(format!("{}{}", s.base, existing["url"].as_str().unwrap())).send().await.unwrap();
    let existing_page = existing.text().await.unwrap();
    let form = |page: &str| {
        let form = page.split("<form").nth(1).unwrap().split("</form>").next().unwrap();
        form.split_once('>').unwrap().1.to_owned()
    };
    assert_eq!(
        form(&existing_page).replace(&admin.email, ""),
        form(&new_account_page).replace("nuova.operatrice@example.it", "")
    );

    let (status, body) = accept(&s, &url, "123456789012").await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("password_common")), "{body}");
    let attempts = (0..5).map(|_| accept(&s, &url, "la roggia del mulino"));
    let results = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = results.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 404), "{statuses:?}");
    let operator = s.log_in("nuova.operatrice@example.it", "la roggia del mulino").await;
    let (status, overview) = s.admin_get(&operator, &format!("/api/v1/admin/t/{TENANT}")).await;
    assert_eq!((status, overview["role"].as_str()), (200, Some("operator")));
    let offices: Vec<&str> =
        overview["offices"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap()).collect();
    assert_eq!(offices, ["sede"], "an operator sees their own offices");

    // An operator cannot invite; a tenant admin cannot invite into another tenant or a platform admin.
    assert_eq!(invite("x@example.it", TENANT, "operator", &operator).await.0, 403);
    assert_eq!(invite("x@example.it", "altro", "operator", &admin).await.0, 404);
    assert_eq!(invite("x@example.it", TENANT, "platform", &admin).await.0, 403);

    // The platform invites prova's admin to altro: the existing account proves itself.
    let platform = s.staff("platform@example.it", Role::Platform, None, &[]).await;
    let (status, body) = invite("admin@prova.example.it", "altro", "tenant_admin", &platform).await;
    assert_eq!(status, 201, "{body}");
    let url = body["url"].as_str().unwrap().to_owned();
    let (status, body) = accept(&s, &url, "not my password").await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("wrong_password")), "{body}");
    // Guessing an account's password through an invitation is throttled like a login.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(accept(&s, &url, "another guess").await.0);
    }
    assert_eq!(statuses, [422, 422, 422, 422, 429]);
    assert_eq!(accept(&s, &url, PASSWORD).await.0, 429, "even the right password waits");
    s.clock.advance(TimeDelta::seconds(1));
    assert_eq!(accept(&s, &url, PASSWORD).await.0, 201);
    let (_, me) = s.admin_get(&admin, "/api/v1/admin/session").await;
    let mut tenants: Vec<&str> =
        me["roles"].as_array().unwrap().iter().map(|r| r["tenant"].as_str().unwrap()).collect();
    tenants.sort();
    assert_eq!(tenants, ["altro", "prova"]);
}

/// The audit log says who did what, when and from where, per tenant; it keeps no password, no
/// token, and not what a failed login typed.
async fn the_audit_log_records_staff_actions(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let platform = s.staff("platform@example.it", Role::Platform, None, &[]).await;
    assert_eq!(s.try_log_in("admin@prova.example.it", "wrong password!", "203.0.113.7").await.0, 401);
    let typed = "my secret passphrase@example.it";
    assert_eq!(s.try_log_in(typed, "whatever", "203.0.113.8").await.0, 401);
    s.log_in("admin@prova.example.it", PASSWORD).await;
    let response = s
        .http
        .post(format!("{}/api/v1/admin/t/{TENANT}/staff/invitations", s.base))
        .header("authorization", admin.bearer())
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"email": "new@example.it", "role": "tenant_admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let invitation_url = response.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();

    let (status, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit")).await;
    assert_eq!(status, 200);
    let entries = log.as_array().unwrap();
    let find =
        |action: &str| entries.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action}: {log}"));
    let failed = find("login.failed");
    assert_eq!(
        (failed["actor"].as_str(), failed["client_address"].as_str()),
        (Some("admin@prova.example.it"), Some("203.0.113.7"))
    );
    assert_eq!(failed["detail"]["reason"], "wrong password");
    let invited = find("staff.invited");
    assert_eq!(invited["client_address"], "203.0.113.9");
    assert_eq!(invited["detail"]["email"], "new@example.it");
    find("login");
    let text = log.to_string();
    for secret in [PASSWORD, admin.token.as_str(), invitation_url.rsplit('/').next().unwrap()] {
        assert!(!text.contains(secret), "the log holds a secret");
    }
    let (_, logins) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=login")).await;
    assert!(logins.as_array().unwrap().iter().all(|e| e["action"].as_str().unwrap().starts_with("login")));
    assert!(logins.as_array().unwrap().len() >= 3);

    let (_, platform_log) = s.admin_get(&platform, "/api/v1/admin/audit").await;
    assert!(!platform_log.to_string().contains("my secret passphrase"), "what a failed login typed is not kept");
    assert!(platform_log.as_array().unwrap().iter().any(|e| e["actor"] == "unknown account"));
    assert!(!platform_log.to_string().contains("staff.invited"), "tenant events stay in the tenant's log");
}

/// A suspended tenant's public pages and API say it is temporarily unavailable; its staff still
/// reach it; reactivating brings it back; nothing is lost.
async fn suspending_a_tenant(backend: Backend) {
    let s = TestServer::start(backend).await;
    let platform = s.staff("platform@example.it", Role::Platform, None, &[]).await;
    let admin = s.staff("admin@altro.example.it", Role::TenantAdmin, Some("altro"), &[]).await;
    let suspension = format!("{}/api/v1/admin/tenants/altro/suspension", s.base);
    let response = s.http.put(&suspension).header("authorization", platform.bearer()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let (status, body) = s.get(&s.url("altro", "")).await;
    assert_eq!((status, body["type"].as_str()), (503, Some("/problems/tenant-suspended")), "{body}");
    let page = s.http.get(format!("{}/t/altro/", s.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 503);
    let home = s.http.get(format!("{}/", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("Altro Ente"), "a suspended body is not listed");
    assert_eq!(s.admin_get(&admin, "/api/v1/admin/t/altro").await.0, 200, "staff still reach it");
    let (_, tenants) = s.admin_get(&platform, "/api/v1/admin/tenants").await;
    let altro = tenants.as_array().unwrap().iter().find(|t| t["slug"] == "altro").unwrap();
    assert_eq!(altro["suspended"], true);

    let response = s.http.delete(&suspension).header("authorization", platform.bearer()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(s.get(&s.url("altro", "")).await.0, 200);
    let (_, log) = s.admin_get(&admin, "/api/v1/admin/t/altro/audit?action=tenant.").await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["tenant.reactivated", "tenant.suspended"]);
}

on_databases!(
    every_admin_api_route_checks_credentials_tenant_and_role,
    every_admin_page_checks_session_tenant_and_role,
    login_is_throttled,
    sessions_end_on_every_instance,
    login_never_keeps_a_planted_session,
    forms_need_their_csrf_token,
    invitations_work_once,
    the_audit_log_records_staff_actions,
    suspending_a_tenant,
    the_configuration_is_versioned,
    onboarding_a_public_body,
    changes_that_strand_bookings_need_a_choice,
    the_configuration_page_lists_stranded_bookings,
);

/// `PUT …/configuration` with `If-Match`: the answer and its status.
async fn put_configuration(s: &TestServer, who: &Staff, if_match: Option<&str>, pack: &str) -> (u16, Value) {
    let mut request = s
        .http
        .put(format!("{}/api/v1/admin/t/{TENANT}/configuration", s.base))
        .header("authorization", who.bearer())
        .json(&json!({ "pack": pack }));
    if let Some(version) = if_match {
        request = request.header("if-match", version);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// The configuration is saved whole, validated, versioned and audited: a save without `If-Match`
/// or with an invalid configuration changes nothing; of two admins saving the same version at once
/// exactly one wins and the other is told what changed; an old version can be restored; a change
/// that would strand bookings is refused.
async fn the_configuration_is_versioned(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let other = s.staff("altra.admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let response = s
        .http
        .get(format!("{}/api/v1/admin/t/{TENANT}/configuration", s.base))
        .header("authorization", admin.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let original = response.json::<Value>().await.unwrap()["pack"].as_str().unwrap().to_owned();
    assert!(original.contains(TENANT_NAME));

    let renamed = |to: &str| original.replacen(&format!("name = \"{TENANT_NAME}\""), &format!("name = \"{to}\""), 1);
    assert_eq!(put_configuration(&s, &admin, None, &renamed("Nuovo nome")).await.0, 428);
    let broken = original.replacen("slug = \"prova\"", "slug = \"prova\"\nhold_minutes = 600", 1);
    let (status, body) = put_configuration(&s, &admin, Some("\"1\""), &broken).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("hold_minutes")), "{body}");
    let (status, body) = put_configuration(&s, &admin, Some("\"1\""), "slug = \"altro\"").await;
    assert_eq!(status, 422, "{body}");

    // Two admins save version 1 at once: one wins, the other learns what changed.
    let (first, second) = futures::future::join(
        put_configuration(&s, &admin, Some("\"1\""), &renamed("Comune di Prova A")),
        put_configuration(&s, &other, Some("\"1\""), &renamed("Comune di Prova B")),
    )
    .await;
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "{first:?} {second:?}");
    let (won, lost) = if first.0 == 200 { (&first.1, &second.1) } else { (&second.1, &first.1) };
    assert_eq!(won["version"], 2);
    assert_eq!(won["changes"], json!(["tenant settings changed"]));
    assert_eq!(lost["type"], "/problems/stale-version");
    assert!(lost["detail"].as_str().unwrap().contains("tenant settings changed (version 2,"), "{lost}");
    let (_, tenant) = s.get(&s.url(TENANT, "")).await;
    assert!(tenant["name"].as_str().unwrap().starts_with("Comune di Prova "), "{tenant}");

    let (_, history) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/versions")).await;
    let versions: Vec<i64> = history.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [2, 1]);
    assert!(history[0]["saved_by"].as_str().unwrap().ends_with("@prova.example.it"));

    // Back to version 1, as version 3; a restore from a stale version is refused.
    let restore = |current: &str| {
        s.http
            .post(format!("{}/api/v1/admin/t/{TENANT}/versions/1/restore", s.base))
            .header("authorization", admin.bearer())
            .header("if-match", current)
            .send()
    };
    assert_eq!(restore("\"1\"").await.unwrap().status().as_u16(), 412);
    let response = restore("\"2\"").await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["etag"], "\"3\"");
    let (_, tenant) = s.get(&s.url(TENANT, "")).await;
    assert_eq!(tenant["name"], TENANT_NAME);
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=configuration.")).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    let saved = "configuration.saved";
    assert_eq!(actions, ["configuration.restored", saved, saved, saved]);
    assert_eq!(log[1]["detail"], json!({"version": 3, "changes": ["tenant settings changed"]}));
    assert_eq!((log[3]["actor"].as_str(), &log[3]["detail"]["changes"]), (Some("console"), &json!(["tenant created"])));

    // A booking at `piccolo` keeps its office from being removed.
    let (status, hold) = s.hold(TENANT, "visita", "piccolo", "in_person", "2026-12-02T07:00:00Z").await;
    assert_eq!(status, 201, "{hold}");
    assert_eq!(s.book(TENANT, &hold, "maria@example.it").await.0, 201);
    let (_, current) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/configuration")).await;
    let text = current["pack"].as_str().unwrap();
    let at = text.find("[[offices]]\nslug = \"piccolo\"").expect("the office piccolo in the pack");
    assert!(!text[at + 1..].contains("[[offices]]"), "piccolo is the last office of the test pack");
    let without_piccolo = &text[..at];
    let (status, body) = put_configuration(&s, &admin, Some("\"3\""), without_piccolo).await;
    assert_eq!((status, body["bookings"][0]["reason"].as_str()), (409, Some("office_removed")), "{body}");
}

/// A platform admin onboards a public body; its first admin accepts the invitation, adds a
/// service and an office with hours; a citizen books it; the admin sees the booking in the office.
async fn onboarding_a_public_body(backend: Backend) {
    let s = TestServer::start(backend).await;
    let platform = s.staff("platform@example.it", Role::Platform, None, &[]).await;
    let prova_admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let create = |who: &Staff, body: Value| {
        let request =
            s.http.post(format!("{}/api/v1/admin/tenants", s.base)).header("authorization", who.bearer()).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let body = json!({"slug": "nuovo-ente", "name": "Consorzio Nuovo", "admin_email": "capo@nuovo.example.it"});
    assert_eq!(create(&prova_admin, body.clone()).await.0, 403);
    let (status, created) = create(&platform, body.clone()).await;
    assert_eq!(status, 201, "{created}");
    let (status, again) = create(&platform, body).await;
    assert_eq!((status, again["errors"][0]["code"].as_str()), (422, Some("slug_taken")), "{again}");
    let bad = json!({"slug": "Bad Slug", "name": "", "timezone": "Mars/Base", "locales": ["xx"], "admin_email": "x"});
    let (status, refused) = create(&platform, bad).await;
    let fields: Vec<&str> =
        refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((status, fields), (422, vec!["slug", "name", "timezone", "locales", "admin_email"]));
    let (status, tenant) = s.get(&s.url("nuovo-ente", "")).await;
    assert_eq!((status, tenant["name"].as_str()), (200, Some("Consorzio Nuovo")));

    let url = created["invitation"]["url"].as_str().unwrap();
    assert_eq!(accept(&s, url, "le idrovore di nuovo").await.0, 201);
    let admin = s.log_in("capo@nuovo.example.it", "le idrovore di nuovo").await;
    let (_, current) = s.admin_get(&admin, "/api/v1/admin/t/nuovo-ente/configuration").await;
    assert_eq!(current["version"], 1);
    let office = Office::new("sede", "Sede", "Via del Fosso 1", &["visita"]).open(&["wed"], "08:30", "12:30", 1);
    let pack =
        Pack::new("nuovo-ente", "Consorzio Nuovo").service(Service::new("visita", "Visita")).office(office).toml();
    let response = s
        .http
        .put(format!("{}/api/v1/admin/t/nuovo-ente/configuration", s.base))
        .header("authorization", admin.bearer())
        .header("if-match", "\"1\"")
        .json(&json!({ "pack": pack }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let saved: Value = response.json().await.unwrap();
    let changes: Vec<&str> = saved["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changes.contains(&"service visita added") && changes.contains(&"office sede added"), "{changes:?}");

    let (status, hold) = s.hold("nuovo-ente", "visita", "sede", "in_person", "2026-12-02T08:30:00+01:00").await;
    assert_eq!(status, 201, "{hold}");
    assert_eq!(s.book("nuovo-ente", &hold, "cittadino@example.it").await.0, 201);
    let (_, overview) = s.admin_get(&admin, "/api/v1/admin/t/nuovo-ente").await;
    assert_eq!(overview["offices"], json!([{"slug": "sede", "name": "Sede", "upcoming_bookings": 1}]));
    let (_, log) = s.admin_get(&platform, "/api/v1/admin/audit?action=tenant.created").await;
    assert_eq!(log[0]["detail"]["tenant"], "nuovo-ente");
}

/// Books `start` at prova's `sede` for `email`; the booking's code.
pub(super) async fn booked(s: &TestServer, start: &str, email: &str) -> String {
    let (status, hold) = s.hold(TENANT, "visita", "sede", "in_person", start).await;
    assert_eq!(status, 201, "{hold}");
    let (status, booking) = s.book(TENANT, &hold, email).await;
    assert_eq!(status, 201, "{booking}");
    booking["code"].as_str().unwrap().to_owned()
}

pub(super) async fn status_of(s: &TestServer, code: &str, email: &str) -> String {
    let (_, booking) = s.booking(TENANT, code, email).await;
    booking["status"].as_str().unwrap().to_owned()
}

/// A closure over booked days and fewer desks than bookings are refused with the list of what
/// they would strand; "keep" keeps them with exact capacity; "cancel" cancels exactly them, with the
/// reason; other days' bookings are untouched.
async fn changes_that_strand_bookings_need_a_choice(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let wednesday = [
        booked(&s, "2026-12-02T08:00:00+01:00", "a@example.it").await,
        booked(&s, "2026-12-02T08:30:00+01:00", "b@example.it").await,
    ];
    let thursday = booked(&s, "2026-12-03T09:00:00+01:00", "c@example.it").await;
    let (_, current) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/configuration")).await;
    let original = current["pack"].as_str().unwrap().to_owned();
    let closure = "[[offices.closures]]\nfrom = \"2026-12-02\"\nto = \"2026-12-02\"\nreason = \"Allagamento\"\n";
    let closed =
        original.replacen("[[offices]]\nslug = \"piccolo\"", &format!("{closure}[[offices]]\nslug = \"piccolo\""), 1);
    assert_ne!(closed, original);
    let save = |pack: &str, version: i64, choice: Value| {
        let mut body = json!({ "pack": pack });
        body.as_object_mut().unwrap().extend(choice.as_object().unwrap().clone());
        let request = s
            .http
            .put(format!("{}/api/v1/admin/t/{TENANT}/configuration", s.base))
            .header("authorization", admin.bearer())
            .header("if-match", format!("\"{version}\""))
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };

    let (status, refused) = save(&closed, 1, json!({})).await;
    assert_eq!((status, refused["type"].as_str()), (409, Some("/problems/strands-bookings")), "{refused}");
    let mut listed: Vec<&str> =
        refused["bookings"].as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap()).collect();
    listed.sort();
    let mut expected = wednesday.iter().map(String::as_str).collect::<Vec<_>>();
    expected.sort();
    assert_eq!(listed, expected, "exactly Wednesday's bookings");
    assert!(refused["bookings"].as_array().unwrap().iter().all(|b| b["reason"] == "closed"));
    assert!(!refused.to_string().contains("a@example.it"), "no personal data in the list");

    // Keep: saved; they stay; the day is closed to new bookings; the ledger still counts them.
    assert_eq!(save(&closed, 1, json!({"stranded": "keep"})).await.0, 200);
    assert_eq!(status_of(&s, &wednesday[0], "a@example.it").await, "confirmed");
    assert_eq!(s.remaining(TENANT, "visita", "sede", "2026-12-02T09:00:00+01:00").await, None);
    // Reopened: capacity is exact, counting the kept bookings.
    assert_eq!(save(&original, 2, json!({})).await.0, 200);
    assert_eq!(s.remaining(TENANT, "visita", "sede", "2026-12-02T08:00:00+01:00").await, Some(2));

    // Cancel: a reason is required; then exactly the stranded bookings are cancelled, with it.
    let (status, body) = save(&closed, 3, json!({"stranded": "cancel"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("cancel_reason")), "{body}");
    let (status, body) =
        save(&closed, 3, json!({"stranded": "cancel", "cancel_reason": "Allagamento della sede"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of(&s, &wednesday[0], "a@example.it").await, "cancelled");
    assert_eq!(status_of(&s, &wednesday[1], "b@example.it").await, "cancelled");
    assert_eq!(status_of(&s, &thursday, "c@example.it").await, "confirmed");
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=configuration.saved")).await;
    assert_eq!(log[0]["detail"]["stranded"]["reason"], "Allagamento della sede");
    assert_eq!(log[0]["detail"]["stranded"]["cancelled"].as_array().unwrap().len(), 2);
    // Each citizen is told, with the reason (their confirmations, not yet gone, are not sent).
    let sink = sportello_tests::mail::SmtpSink::start(env!("CARGO_BIN_EXE_smtp-sink"), &[]);
    s.deliver_mail(&sportello::mail::SmtpMailer::new(&sink.url()).unwrap()).await;
    let mut told: Vec<String> = sink.messages().iter().map(|m| m.header("To").unwrap()).collect();
    told.sort();
    assert_eq!(told, ["a@example.it", "b@example.it", "c@example.it"], "two cancellations, one confirmation");
    let cancellation = sink.messages().into_iter().find(|m| m.header("To").as_deref() == Some("a@example.it")).unwrap();
    assert!(cancellation.part("text/plain").unwrap().contains("Allagamento della sede"), "the reason is said");
    // Their places were given back: reopened, the slot is whole again.
    assert_eq!(save(&original, 4, json!({})).await.0, 200);
    assert_eq!(s.remaining(TENANT, "visita", "sede", "2026-12-02T08:00:00+01:00").await, Some(3));

    // Fewer desks than bookings: the newest are the ones listed; kept, the slot stays full.
    booked(&s, "2026-12-03T09:00:00+01:00", "d@example.it").await;
    let newest = booked(&s, "2026-12-03T09:00:00+01:00", "e@example.it").await;
    let fewer = original.replace("desks = 3", "desks = 2");
    let (status, refused) = save(&fewer, 5, json!({})).await;
    assert_eq!(status, 409, "{refused}");
    let listed: Vec<(&str, &str)> = refused["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["code"].as_str().unwrap(), b["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [(newest.as_str(), "over_capacity")]);
    assert_eq!(save(&fewer, 5, json!({"stranded": "keep"})).await.0, 200);
    assert_eq!(s.remaining(TENANT, "visita", "sede", "2026-12-03T09:00:00+01:00").await, None, "full, never negative");
    let (status, _) = s.hold(TENANT, "visita", "sede", "in_person", "2026-12-03T09:00:00+01:00").await;
    assert_eq!(status, 409, "no place is sold beyond the new desks");
}

/// The configuration page lists the bookings a closure would strand, keeps the typed text, and
/// cancels them with the reason when asked.
async fn the_configuration_page_lists_stranded_bookings(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let code = booked(&s, "2026-12-02T08:00:00+01:00", "a@example.it").await;
    let (_, current) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/configuration")).await;
    let closure = "[[offices.closures]]\nfrom = \"2026-12-02\"\nto = \"2026-12-02\"\nreason = \"Allagamento\"\n";
    let closed = current["pack"].as_str().unwrap().replacen(
        "[[offices]]\nslug = \"piccolo\"",
        &format!("{closure}[[offices]]\nslug = \"piccolo\""),
        1,
    );
    let post = |extra: &[(&str, &str)]| {
        let mut form = vec![("csrf", admin.csrf.as_str()), ("version", "1"), ("pack", closed.as_str())];
        form.extend_from_slice(extra);
        let request = s
            .http
            .post(format!("{}/admin/t/{TENANT}/configuration?lang=en", s.base))
            .header("cookie", admin.cookie())
            .form(&form);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, page) = post(&[]).await;
    assert_eq!(status, 409);
    assert!(page.contains(&code) && page.contains("Office closed that day"), "{page}");
    assert!(page.contains("Allagamento"), "the typed text is kept");
    // "Cancel" without a reason: the list again, the reason asked for, nothing cancelled.
    let (status, page) = post(&[("stranded", "cancel"), ("cancel_reason", " ")]).await;
    assert_eq!(status, 409);
    assert!(page.contains("Give the reason for cancelling") && page.contains(&code), "{page}");
    assert_eq!(status_of(&s, &code, "a@example.it").await, "confirmed");
    // The choice applies to the bookings shown: a list that no longer matches is shown again.
    let (status, page) =
        post(&[("stranded", "cancel"), ("cancel_reason", "Allagamento"), ("stranded_codes", "OTHER")]).await;
    assert_eq!(status, 409);
    assert!(page.contains(&format!("name=\"stranded_codes\" value=\"{code}\"")), "{page}");
    assert_eq!(status_of(&s, &code, "a@example.it").await, "confirmed");
    let (status, page) =
        post(&[("stranded", "cancel"), ("cancel_reason", "Allagamento della sede"), ("stranded_codes", code.as_str())])
            .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("version 2 is now in force"));
    assert_eq!(status_of(&s, &code, "a@example.it").await, "cancelled");
}
