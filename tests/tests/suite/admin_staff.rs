//! A tenant's admins managing its staff: roles and offices, removal, disabling, and the rule that
//! a body always keeps an administrator, even when two admins demote each other at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use serde_json::{Value, json};
use sportello::domain::Role;
use sportello_tests::staff::{PASSWORD, Staff};
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::TENANT;

/// The staff list's entry for `email`.
async fn member(s: &TestServer, admin: &Staff, email: &str) -> Option<Value> {
    let (_, list) = s.admin_get(admin, &format!("/api/v1/admin/t/{TENANT}/staff")).await;
    list["members"].as_array().unwrap().iter().find(|m| m["email"] == email).cloned()
}

async fn account(s: &TestServer, admin: &Staff, email: &str) -> i64 {
    member(s, admin, email).await.unwrap()["account"].as_i64().unwrap()
}

/// Roles and offices change at once for the member's next request; an unknown office is named;
/// disabling ends the member's sessions and enabling lets them in again; an account that also
/// works elsewhere cannot be disabled by one body; removal takes the body away from them; each
/// change is in the audit log.
async fn admins_manage_their_staff(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let id = account(&s, &admin, &operator.email).await;
    let path = format!("/api/v1/admin/t/{TENANT}/staff/{id}");

    let to_piccolo = json!({"role": "operator", "offices": ["piccolo"]});
    assert_eq!(s.admin_send(&admin, "PUT", &path, None, Some(&to_piccolo)).await.0, 204);
    assert_eq!(member(&s, &admin, &operator.email).await.unwrap()["offices"], json!(["piccolo"]));
    let (_, overview) = s.admin_get(&operator, &format!("/api/v1/admin/t/{TENANT}")).await;
    let offices: Vec<&str> =
        overview["offices"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap()).collect();
    assert_eq!(offices, ["piccolo"], "the operator sees their new office at once");
    let nowhere = json!({"role": "operator", "offices": ["nowhere"]});
    let (status, refused) = s.admin_send(&admin, "PUT", &path, None, Some(&nowhere)).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (422, Some("unknown_office")), "{refused}");

    assert_eq!(s.admin_send(&admin, "PUT", &format!("{path}/disabled"), None, None).await.0, 204);
    assert_eq!(s.admin_get(&operator, "/api/v1/admin/session").await.0, 401, "disabled: the session is dead");
    assert_eq!(s.try_log_in(&operator.email, PASSWORD, "10.0.0.9").await.0, 401);
    assert_eq!(s.admin_send(&admin, "DELETE", &format!("{path}/disabled"), None, None).await.0, 204);
    assert_eq!(s.admin_get(&operator, "/api/v1/admin/session").await.0, 401, "enabled again: old sessions stay ended");
    let operator = s.log_in(&operator.email, PASSWORD).await;

    let both = s.staff("due@example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    s.app.create_account(&both.email, Role::Operator, Some("altro"), &["sede".into()], PASSWORD).await.unwrap();
    let both_id = account(&s, &admin, &both.email).await;
    let disable_both = format!("/api/v1/admin/t/{TENANT}/staff/{both_id}/disabled");
    assert_eq!(s.admin_send(&admin, "PUT", &disable_both, None, None).await.0, 403, "works for altro too");

    assert_eq!(s.admin_send(&admin, "DELETE", &path, None, None).await.0, 204);
    assert!(member(&s, &admin, &operator.email).await.is_none());
    assert_eq!(s.admin_get(&operator, &format!("/api/v1/admin/t/{TENANT}")).await.0, 404, "no longer theirs");
    assert_eq!(s.admin_get(&operator, "/api/v1/admin/session").await.0, 200, "the account itself stays");

    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=staff.")).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["staff.role_changed", "staff.disabled", "staff.enabled", "staff.removed"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

/// The last admin can neither demote nor remove themselves; two admins demoting each other at
/// the same moment leave exactly one admin.
async fn a_body_always_keeps_an_admin(backend: Backend) {
    let s = TestServer::start(backend).await;
    let first = s.staff("prima@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let own = account(&s, &first, &first.email).await;
    let own_path = format!("/api/v1/admin/t/{TENANT}/staff/{own}");
    let demote = json!({"role": "operator", "offices": ["sede"]});
    let (status, refused) = s.admin_send(&first, "PUT", &own_path, None, Some(&demote)).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (422, Some("last_admin")), "{refused}");
    assert_eq!(s.admin_send(&first, "DELETE", &own_path, None, None).await.0, 422);

    let second = s.staff("seconda@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let other = account(&s, &first, &second.email).await;
    let other_path = format!("/api/v1/admin/t/{TENANT}/staff/{other}");
    let promote = json!({"role": "tenant_admin"});
    // A race is not lost every time: several rounds, each starting from two admins.
    for round in 0..4 {
        let (one, two) = tokio::join!(
            s.admin_send(&first, "PUT", &other_path, None, Some(&demote)),
            s.admin_send(&second, "PUT", &own_path, None, Some(&demote)),
        );
        // The loser is refused as the last admin (422) or, demoted already, as an operator (403).
        let won = [one.0, two.0].iter().filter(|s| **s == 204).count();
        let refused = [one.0, two.0].iter().filter(|s| [403, 422].contains(*s)).count();
        assert_eq!((won, refused), (1, 1), "round {round}: {one:?} {two:?}");
        let (winner, demoted) = if one.0 == 204 { (&first, &other_path) } else { (&second, &own_path) };
        let (_, list) = s.admin_get(winner, &format!("/api/v1/admin/t/{TENANT}/staff")).await;
        let admins = list["members"].as_array().unwrap().iter().filter(|m| m["role"] == "tenant_admin").count();
        assert_eq!(admins, 1, "round {round}: {list}");
        assert_eq!(s.admin_send(winner, "PUT", demoted, None, Some(&promote)).await.0, 204);
    }
}

/// An admin who stops being one takes their API keys and open invitations with them; an
/// invitation never lowers a role held already.
async fn what_an_admin_gave_ends_with_their_role(backend: Backend) {
    let s = TestServer::start(backend).await;
    let first = s.staff("prima@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let second = s.staff("seconda@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let keys = format!("/api/v1/admin/t/{TENANT}/api-keys");
    let (_, made) =
        s.admin_send(&second, "POST", &keys, None, Some(&json!({"name": "k", "role": "tenant_admin"}))).await;
    let key = Staff { email: "key".into(), token: made["key"].as_str().unwrap().to_owned(), csrf: String::new() };
    let invitation = json!({"email": "nuovo@example.it", "role": "tenant_admin"});
    let invitations = format!("/api/v1/admin/t/{TENANT}/staff/invitations");
    assert_eq!(s.admin_send(&second, "POST", &invitations, None, Some(&invitation)).await.0, 201);
    assert_eq!(s.admin_get(&key, &format!("/api/v1/admin/t/{TENANT}")).await.0, 200);

    let id = account(&s, &first, &second.email).await;
    let demote = json!({"role": "operator", "offices": ["sede"]});
    let path = format!("/api/v1/admin/t/{TENANT}/staff/{id}");
    assert_eq!(s.admin_send(&first, "PUT", &path, None, Some(&demote)).await.0, 204);
    assert_eq!(s.admin_get(&key, &format!("/api/v1/admin/t/{TENANT}")).await.0, 401, "their key is revoked");
    let (_, list) = s.admin_get(&first, &format!("/api/v1/admin/t/{TENANT}/staff")).await;
    assert_eq!(list["pending_invitations"], json!([]), "their invitation is withdrawn");

    // Invited as an operator, an admin stays an admin.
    let (_, made) = s
        .admin_send(
            &first,
            "POST",
            &invitations,
            None,
            Some(&json!({"email": first.email, "role": "operator", "offices": ["sede"]})),
        )
        .await;
    let token = made["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let accepted = s
        .http
        .post(format!("{}/api/v1/admin/invitations/{token}/acceptance", s.base))
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 201);
    assert_eq!(member(&s, &first, &first.email).await.unwrap()["role"], "tenant_admin");
}

/// The member's page changes the role; a refused change is shown on the page with the reason.
async fn the_member_page(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;
    let id = account(&s, &admin, &operator.email).await;
    let page = format!("/admin/t/{TENANT}/staff/{id}");
    let (status, body) = s.admin_form(&admin, &page, &[("role", "operator")]).await;
    assert_eq!(status, 422, "an operator needs an office");
    assert!(body.contains("id=\"f-offices\"") && body.contains("Choose at least one office"), "{body}");
    let (status, body) = s.admin_form(&admin, &page, &[("role", "tenant_admin")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(member(&s, &admin, &operator.email).await.unwrap()["role"], "tenant_admin");
    let own = account(&s, &admin, &admin.email).await;
    let (status, body) = s.admin_form(&admin, &format!("/admin/t/{TENANT}/staff/{own}/removal"), &[]).await;
    assert_eq!(status, 200, "another admin exists now: {body}");
    let (status, body) = s.admin_form(&operator, &format!("/admin/t/{TENANT}/staff/{id}/removal"), &[]).await;
    assert_eq!(status, 422, "the last admin stays: {body}");
    assert!(body.contains("at least one administrator"), "{body}");
}

on_databases!(
    admins_manage_their_staff,
    a_body_always_keeps_an_admin,
    what_an_admin_gave_ends_with_their_role,
    the_member_page
);
