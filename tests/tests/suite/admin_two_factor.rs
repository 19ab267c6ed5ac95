//! The second factor: turned on from one's account (scan, type a code, keep the recovery codes),
//! then asked at every login by the API and the pages; a code works once, a recovery code once;
//! a tenant (or the platform) can require it of its staff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use sportello::domain::Role;
use sportello_tests::staff::{PASSWORD, Staff};
use sportello_tests::{Backend, TEST_NOW, TestServer, on_databases};
use totp_rs::{Algorithm, Secret, TOTP};

use super::admin::TENANT;

/// The code an authenticator app shows at `at` for `secret`.
fn code_at(secret: &str, at: DateTime<Utc>) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).unwrap().generate(at.timestamp() as u64)
}

fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    text.split(before).nth(1).unwrap_or_else(|| panic!("no {before:?} in {text}")).split(after).next().unwrap()
}

/// The server's clock, moved along by the test.
struct Clock(DateTime<Utc>);

impl Clock {
    fn start() -> Self {
        Self(DateTime::parse_from_rfc3339(TEST_NOW).unwrap().to_utc())
    }

    /// The next 30-second step: a new code.
    fn tick(&mut self, s: &TestServer) {
        s.clock.advance(TimeDelta::seconds(30));
        self.0 += TimeDelta::seconds(30);
    }
}

async fn page(s: &TestServer, who: &Staff, path: &str) -> String {
    let response = s.http.get(format!("{}{path}?lang=en", s.base)).header("cookie", who.cookie()).send().await.unwrap();
    response.text().await.unwrap()
}

/// Turns the second factor on for `who` through the account page; its secret and recovery codes.
async fn enrol(s: &TestServer, who: &Staff, clock: &Clock) -> (String, Vec<String>) {
    let html = page(s, who, "/admin/account/two-factor").await;
    assert!(html.contains("<svg"), "a QR code is drawn: {html}");
    let secret: String = between(&html, "id=\"totp-secret\">", "<").split_whitespace().collect();
    let (status, refused) = s.admin_form(who, "/admin/account/two-factor", &[("code", "000000")]).await;
    assert_eq!(status, 422, "{refused}");
    let code = code_at(&secret, clock.0);
    let (status, html) = s.admin_form(who, "/admin/account/two-factor", &[("code", &code)]).await;
    assert_eq!(status, 200, "{html}");
    let codes: Vec<String> =
        html.split("<li><code>").skip(1).map(|rest| rest.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10, "{html}");
    (secret, codes)
}

async fn api_log_in(s: &TestServer, email: &str, totp: Option<&str>) -> (u16, Value) {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    let response = s.http.post(format!("{}/api/v1/admin/session", s.base)).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// Login by the API: without the code it says so; a wrong code fails like a wrong password; a
/// code works once (even the one that turned the factor on); a recovery code works once; turned
/// off, the password is enough again.
async fn the_api_asks_for_the_code_and_takes_each_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut clock = Clock::start();
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (secret, recovery) = enrol(&s, &admin, &clock).await;

    let (status, refused) = api_log_in(&s, &admin.email, None).await;
    assert_eq!((status, refused["type"].as_str()), (401, Some("/problems/code-required")), "{refused}");
    assert_eq!(api_log_in(&s, &admin.email, Some("123456")).await.0, 401);
    let spent = code_at(&secret, clock.0);
    assert_eq!(api_log_in(&s, &admin.email, Some(&spent)).await.0, 401, "the enrolment spent this step's code");
    clock.tick(&s);
    let fresh = code_at(&secret, clock.0);
    assert_eq!(api_log_in(&s, &admin.email, Some(&fresh)).await.0, 201);
    assert_eq!(api_log_in(&s, &admin.email, Some(&fresh)).await.0, 401, "a code works once");
    assert_eq!(api_log_in(&s, &admin.email, Some(&recovery[0].to_uppercase())).await.0, 201);
    assert_eq!(api_log_in(&s, &admin.email, Some(&recovery[0])).await.0, 401, "a recovery code works once");

    let (status, _) = api_log_in(&s, &admin.email, Some(&recovery[1])).await;
    assert_eq!(status, 201);
    clock.tick(&s);
    let off = [("password", PASSWORD), ("code", &code_at(&secret, clock.0))];
    let (status, html) = s.admin_form(&admin, "/admin/account/two-factor/removal", &off).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(api_log_in(&s, &admin.email, None).await.0, 201, "off again");
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=two_factor.")).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["two_factor.disabled", "two_factor.enabled"]);
}

/// Login on the pages: the password opens a session good only for the code's page; the code
/// signs in with a new session.
async fn the_pages_ask_for_the_code_in_a_second_step(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut clock = Clock::start();
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (secret, _) = enrol(&s, &admin, &clock).await;
    clock.tick(&s);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookie_of = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .find(|c| c.starts_with(name))
    };
    let login = client.get(format!("{}/admin/login", s.base)).send().await.unwrap();
    let login_cookie = cookie_of(&login, "sportello-login=").unwrap();
    let token = between(&login.text().await.unwrap(), "name=\"login_token\" value=\"", "\"").to_owned();
    let form = [("login_token", token.as_str()), ("next", "/admin/"), ("email", &admin.email), ("password", PASSWORD)];
    let response = client
        .post(format!("{}/admin/login", s.base))
        .header("cookie", &login_cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/admin/login/code"));
    let pending = cookie_of(&response, "__Host-sportello-staff=").unwrap();
    let dashboard = client.get(format!("{}/admin/", s.base)).header("cookie", &pending).send().await.unwrap();
    assert_eq!(dashboard.status().as_u16(), 303, "the password alone signs nobody in");

    let step = client.get(format!("{}/admin/login/code", s.base)).header("cookie", &pending).send().await.unwrap();
    let code_cookie = cookie_of(&step, "sportello-login=").unwrap();
    let token = between(&step.text().await.unwrap(), "name=\"login_token\" value=\"", "\"").to_owned();
    let both = format!("{code_cookie}; {pending}");
    let wrong = [("login_token", token.as_str()), ("next", "/admin/"), ("code", "000000")];
    let response =
        client.post(format!("{}/admin/login/code", s.base)).header("cookie", &both).form(&wrong).send().await;
    assert_eq!(response.unwrap().status().as_u16(), 401);
    let code = code_at(&secret, clock.0);
    let right = [("login_token", token.as_str()), ("next", "/admin/"), ("code", code.as_str())];
    let response =
        client.post(format!("{}/admin/login/code", s.base)).header("cookie", &both).form(&right).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let signed = cookie_of(&response, "__Host-sportello-staff=").unwrap();
    assert_ne!(signed, pending, "a new session, not the waiting one");
    let dashboard = client.get(format!("{}/admin/", s.base)).header("cookie", &signed).send().await.unwrap();
    assert_eq!(dashboard.status().as_u16(), 200);
}

/// A tenant that requires a second factor: its operator without one is sent to turn it on; with
/// one, works; its API keys still work. The platform's requirement likewise for platform admins.
async fn tenants_and_the_platform_can_require_it(backend: Backend) {
    let holds = backend.holds();
    let s = TestServer::start_configured(backend, holds, TEST_NOW, |app| app.with_platform_two_factor(true)).await;
    let clock = Clock::start();
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let (_, made) = s
        .admin_send(
            &admin,
            "POST",
            &format!("/api/v1/admin/t/{TENANT}/api-keys"),
            None,
            Some(&json!({"name": "k", "role": "operator", "offices": ["sede"]})),
        )
        .await;
    let key = Staff { email: "key".into(), token: made["key"].as_str().unwrap().to_owned(), csrf: String::new() };
    let path = format!("/api/v1/admin/t/{TENANT}/settings");
    let (_, mut settings) = s.admin_get(&admin, &path).await;
    settings["require_two_factor"] = json!(true);
    assert_eq!(s.admin_send(&admin, "PUT", &path, Some("\"1\""), Some(&settings)).await.0, 200);

    let overview = format!("/api/v1/admin/t/{TENANT}");
    let (status, refused) = s.admin_get(&operator, &overview).await;
    assert_eq!((status, refused["type"].as_str()), (403, Some("/problems/two-factor-required")), "{refused}");
    assert!(page(&s, &operator, "/admin/account/two-factor").await.contains("asks its staff for a second factor"));
    assert_eq!(s.admin_get(&key, &overview).await.0, 200, "keys have no second factor to give");
    enrol(&s, &operator, &clock).await;
    assert_eq!(s.admin_get(&operator, &overview).await.0, 200);

    let platform = s.staff("platform@example.it", Role::Platform, None, &[]).await;
    let (status, _) = s.admin_get(&platform, "/api/v1/admin/tenants").await;
    assert_eq!(status, 403, "the platform asks for a second factor");
    assert_eq!(s.admin_get(&platform, "/api/v1/admin/t/altro").await.0, 403, "in any tenant, as the platform");
    enrol(&s, &platform, &clock).await;
    assert_eq!(s.admin_get(&platform, "/api/v1/admin/tenants").await.0, 200);
}

/// What the review found: guesses of the code are counted even after a right password; a session
/// opened before the second factor was turned on is ended by it; an invitation accepted with the
/// password alone does not sign in an account that has a second factor.
async fn the_second_factor_has_no_way_around(backend: Backend) {
    let s = TestServer::start(backend).await;
    let clock = Clock::start();
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let earlier = s.log_in(&admin.email, PASSWORD).await;
    enrol(&s, &admin, &clock).await;
    assert_eq!(s.admin_get(&earlier, "/api/v1/admin/session").await.0, 401, "a password-only session ended");
    assert_eq!(s.admin_get(&admin, "/api/v1/admin/session").await.0, 200, "the one that gave the code stays");

    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for guess in ["111111", "222222", "333333", "444444", "555555", "666666", "777777"] {
            statuses.push(api_log_in(&s, &admin.email, Some(guess)).await.0);
        }
        statuses
    };
    assert_eq!(statuses.last(), Some(&429), "code guesses are throttled: {statuses:?}");

    let outsider = s.staff("admin@altro.example.it", Role::TenantAdmin, Some("altro"), &[]).await;
    let invitation = json!({"email": admin.email, "role": "tenant_admin"});
    let (_, made) =
        s.admin_send(&outsider, "POST", "/api/v1/admin/t/altro/staff/invitations", None, Some(&invitation)).await;
    let url = made["url"].as_str().unwrap_or_else(|| panic!("{made}"));
    let token = url.rsplit('/').next().unwrap();
    let response = s
        .http
        .post(format!("{}/api/v1/admin/invitations/{token}/acceptance", s.base))
        .header("x-forwarded-for", "10.9.9.9")
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401, "the password alone signs nobody in");
}

on_databases!(
    the_second_factor_has_no_way_around,
    the_api_asks_for_the_code_and_takes_each_once,
    the_pages_ask_for_the_code_in_a_second_step,
    tenants_and_the_platform_can_require_it,
);
