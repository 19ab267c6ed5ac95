//! API keys: made by a tenant's admin, shown once, acting within their role in their tenant only,
//! unable to give anyone lasting access, revoked at once, never usable on the pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use serde_json::{Value, json};
use sportello::domain::Role;
use sportello_tests::staff::Staff;
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::TENANT;

/// A key as a client would hold it.
fn as_staff(key: &str) -> Staff {
    Staff { email: "key".into(), token: key.to_owned(), csrf: String::new() }
}

async fn make_key(s: &TestServer, admin: &Staff, body: Value) -> (u16, Value) {
    s.admin_send(admin, "POST", &format!("/api/v1/admin/t/{TENANT}/api-keys"), None, Some(&body)).await
}

async fn api_keys_act_within_their_role_and_tenant(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let (status, made) = make_key(&s, &admin, json!({"name": "Protocollo", "role": "tenant_admin"})).await;
    assert_eq!(status, 201, "{made}");
    let secret = made["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sportello_key_") && secret.len() == 14 + 64, "{secret}");
    let key = as_staff(&secret);

    let (status, me) = s.admin_get(&key, "/api/v1/admin/session").await;
    assert_eq!((status, me["api_key"].as_str()), (200, Some("Protocollo")), "{me}");
    assert_eq!(s.admin_get(&key, &format!("/api/v1/admin/t/{TENANT}/configuration")).await.0, 200);
    assert_eq!(s.admin_get(&key, "/api/v1/admin/t/altro").await.0, 404, "its own tenant only");
    assert_eq!(s.admin_get(&key, "/api/v1/admin/tenants").await.0, 403, "never the platform");

    // It edits within its role, and the history says it was the key.
    let (_, services) = s.admin_get(&key, &format!("/api/v1/admin/t/{TENANT}/services")).await;
    let mut visit = services[0].clone();
    visit["duration_minutes"] = json!(45);
    let path = format!("/api/v1/admin/t/{TENANT}/services/visita");
    assert_eq!(s.admin_send(&key, "PUT", &path, Some("\"1\""), Some(&visit)).await.0, 200);
    let (_, history) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/versions")).await;
    assert_eq!(history[0]["saved_by"], format!("API key #{} \"Protocollo\"", made["id"]), "{history}");

    // Nothing that outlasts the key: no keys, no staff, no sessions or passwords.
    let refused = [
        ("POST", format!("/api/v1/admin/t/{TENANT}/api-keys"), json!({"name": "altra", "role": "tenant_admin"})),
        (
            "POST",
            format!("/api/v1/admin/t/{TENANT}/staff/invitations"),
            json!({"email": "x@example.it", "role": "tenant_admin"}),
        ),
        ("PUT", "/api/v1/admin/session/password".into(), json!({"current_password": "x", "new_password": "y"})),
        ("DELETE", "/api/v1/admin/session".into(), json!({})),
    ];
    for (method, path, body) in refused {
        let (status, answer) = s.admin_send(&key, method, &path, None, Some(&body)).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }

    // An operator's key sees its tenant, but not what only admins see.
    let (_, made_operator) =
        make_key(&s, &admin, json!({"name": "Totem", "role": "operator", "offices": ["sede"]})).await;
    let operator_key = as_staff(made_operator["key"].as_str().unwrap());
    assert_eq!(s.admin_get(&operator_key, &format!("/api/v1/admin/t/{TENANT}")).await.0, 200);
    assert_eq!(s.admin_get(&operator_key, &format!("/api/v1/admin/t/{TENANT}/configuration")).await.0, 403);

    // Listed without secrets, with their last use; revoked at once; another tenant's id is unknown.
    let (_, list) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/api-keys")).await;
    assert!(!list.to_string().contains(&secret[14..]), "no secret in the list: {list}");
    assert!(list.as_array().unwrap().iter().any(|k| k["name"] == "Protocollo" && k["last_used_at"].is_string()));
    let revoke = format!("/api/v1/admin/t/{TENANT}/api-keys/{}", made["id"]);
    assert_eq!(s.admin_send(&admin, "DELETE", &revoke, None, None).await.0, 204);
    assert_eq!(s.admin_get(&key, "/api/v1/admin/session").await.0, 401, "revoked");
    assert_eq!(s.admin_send(&admin, "DELETE", &revoke, None, None).await.0, 204, "revoking twice changes nothing");
    let outsider = s.staff("admin@altro.example.it", Role::TenantAdmin, Some("altro"), &[]).await;
    let theirs = format!("/api/v1/admin/t/altro/api-keys/{}", made_operator["id"]);
    assert_eq!(s.admin_send(&outsider, "DELETE", &theirs, None, None).await.0, 404);
    assert_eq!(s.admin_get(&operator_key, &format!("/api/v1/admin/t/{TENANT}")).await.0, 200, "still alive");
    assert_eq!(s.admin_get(&as_staff("sportello_key_nonsense"), "/api/v1/admin/session").await.0, 401);

    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=api_key.")).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["api_key.revoked", "api_key.created", "api_key.created"]);

    // A settings change that leaves the requirement out keeps it; a key may not drop it.
    let (_, made) = make_key(&s, &admin, json!({"name": "Integrazione", "role": "tenant_admin"})).await;
    let key = as_staff(made["key"].as_str().unwrap());
    let settings_path = format!("/api/v1/admin/t/{TENANT}/settings");
    let (_, mut settings) = s.admin_get(&admin, &settings_path).await;
    settings["require_two_factor"] = json!(true);
    assert_eq!(s.admin_send(&admin, "PUT", &settings_path, None, Some(&settings)).await.0, 428);
    let (_, current) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/configuration")).await;
    let version = format!("\"{}\"", current["version"]);
    assert_eq!(s.admin_send(&admin, "PUT", &settings_path, Some(&version), Some(&settings)).await.0, 200);
    let (_, mut settings) = s.admin_get(&key, &settings_path).await;
    settings.as_object_mut().unwrap().remove("require_two_factor");
    settings["contacts"] = json!("URP");
    let (_, current) = s.admin_get(&key, &format!("/api/v1/admin/t/{TENANT}/configuration")).await;
    let version = format!("\"{}\"", current["version"]);
    assert_eq!(s.admin_send(&key, "PUT", &settings_path, Some(&version), Some(&settings)).await.0, 200);
    assert_eq!(s.admin_get(&key, &settings_path).await.1["require_two_factor"], true, "left out: kept");
    settings["require_two_factor"] = json!(false);
    let (_, current) = s.admin_get(&key, &format!("/api/v1/admin/t/{TENANT}/configuration")).await;
    let version = format!("\"{}\"", current["version"]);
    assert_eq!(s.admin_send(&key, "PUT", &settings_path, Some(&version), Some(&settings)).await.0, 403);
}

/// The pages: a key is made and shown once; a key in the session cookie signs nobody in.
async fn the_keys_page(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let page = format!("/admin/t/{TENANT}/api-keys");
    let (status, body) = s.admin_form(&admin, &page, &[("name", " "), ("role", "tenant_admin")]).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = s.admin_form(&admin, &page, &[("name", "Sito web"), ("role", "tenant_admin")]).await;
    assert_eq!(status, 201, "{body}");
    let shown = body.split("id=\"new-key\" readonly value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(shown.starts_with("sportello_key_"), "{shown}");
    let again = s.http.get(format!("{}{page}", s.base)).header("cookie", admin.cookie()).send().await.unwrap();
    let again = again.text().await.unwrap();
    assert!(again.contains("Sito web") && !again.contains(&shown), "shown once");

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let with_key = no_redirects
        .get(format!("{}{page}", s.base))
        .header("cookie", format!("__Host-sportello-staff={shown}"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status().as_u16(), 303);
    assert!(with_key.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
}

on_databases!(api_keys_act_within_their_role_and_tenant, the_keys_page);
