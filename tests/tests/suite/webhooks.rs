//! Webhooks to a real receiver process that verifies each signature with the Standard Webhooks
//! reference library: events of a booking arrive signed, once delivered, after a retry when the
//! receiver fails; a rotated secret keeps working beside the new one for a day; payloads carry
//! personal data only when asked; 410 Gone switches a subscription off; private targets are
//! refused unless the platform allows them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use chrono::TimeDelta;
use serde_json::{Value, json};
use sportello::domain::Role;
use sportello::mail::MailboxMailer;
use sportello::webhooks::{TargetPolicy, WebhookClient};
use sportello_tests::staff::Staff;
use sportello_tests::webhooks::Receiver;
use sportello_tests::{Backend, TEST_NOW, TestServer, on_databases};

const TENANT: &str = "prova";

async fn tenant_admin(s: &TestServer) -> Staff {
    s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await
}

fn mailbox() -> MailboxMailer {
    MailboxMailer::new(std::env::temp_dir().join(format!("sportello-mailbox-{}", uuid::Uuid::new_v4())))
}

async fn subscribe(s: &TestServer, admin: &Staff, body: Value) -> (u16, Value) {
    s.admin_send(admin, "POST", &format!("/api/v1/admin/t/{TENANT}/webhooks"), None, Some(&body)).await
}

async fn book(s: &TestServer, start: &str, email: &str) -> Value {
    let (status, hold) = s.hold(TENANT, "visita", "sede", "in_person", start).await;
    assert_eq!(status, 201, "{hold}");
    let (status, booking) = s.book(TENANT, &hold, email).await;
    assert_eq!(status, 201, "{booking}");
    booking
}

async fn events_arrive_signed_retried_and_rotated(backend: Backend) {
    let Some(receiver) = Receiver::start(&["--fail-first", "1"]) else { return };
    let s = TestServer::start(backend).await;
    let admin = tenant_admin(&s).await;
    let mailer = mailbox();
    let events = json!(["booking.created", "booking.cancelled"]);
    let (status, made) = subscribe(&s, &admin, json!({"url": receiver.url, "events": events})).await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{made}");
    receiver.trust(secret);

    let booking = book(&s, "2026-12-02T09:00:00+01:00", "anna@example.it").await;
    let code = booking["code"].as_str().unwrap();
    s.deliver_mail(&mailer).await;
    let first = receiver.received();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!((first[0]["verified"].as_bool(), first[0]["status"].as_u64()), (Some(true), Some(500)), "{first:?}");
    s.deliver_mail(&mailer).await;
    assert_eq!(receiver.received().len(), 1, "not again before its retry delay");
    s.clock.advance(TimeDelta::seconds(13));
    s.deliver_mail(&mailer).await;
    let received = receiver.received();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[1]["status"], 204);
    assert_eq!(received[0]["id"], received[1]["id"], "a retry is the same message");
    let payload = &received[1]["payload"];
    assert_eq!(payload["type"], "booking.created");
    assert_eq!(payload["data"]["code"], code);
    assert_eq!(payload["data"]["start"], "2026-12-02T09:00:00+01:00");
    assert!(payload["data"].get("citizen").is_none() && !received[1].to_string().contains("anna"), "{payload}");

    // Rotated: for a day both secrets sign, so a receiver still on the old one loses nothing.
    let path = format!("/api/v1/admin/t/{TENANT}/webhooks/{}/secret", made["webhook"]["id"]);
    let (status, rotated) = s.admin_send(&admin, "POST", &path, None, None).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let (status, _) =
        s.post(&s.url(TENANT, &format!("/bookings/{code}/cancel")), &json!({"email": "anna@example.it"})).await;
    assert_eq!(status, 200);
    s.deliver_mail(&mailer).await;
    let cancelled = receiver.received().pop().unwrap();
    assert_eq!((cancelled["verified"].as_bool(), cancelled["status"].as_u64()), (Some(true), Some(204)), "{cancelled}");
    assert_eq!(cancelled["payload"]["type"], "booking.cancelled");
    assert_eq!(cancelled["signatures"].as_str().unwrap().split(' ').count(), 2, "{cancelled}");
    receiver.trust(new_secret);
    book(&s, "2026-12-02T09:30:00+01:00", "bruno@example.it").await;
    s.deliver_mail(&mailer).await;
    assert_eq!(receiver.received().pop().unwrap()["verified"], true);
    let (_, listed) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/webhooks")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains("whsec_"), "secrets are shown once: {listed}");
    // A day later the old secret no longer signs.
    s.clock.advance(TimeDelta::hours(25));
    receiver.trust(secret);
    book(&s, "2026-12-03T09:00:00+01:00", "carla@example.it").await;
    s.deliver_mail(&mailer).await;
    let late = receiver.received().pop().unwrap();
    assert_eq!((late["verified"].as_bool(), late["status"].as_u64()), (Some(false), Some(401)), "{late}");
}

async fn personal_data_when_asked_and_gone_switches_off(backend: Backend) {
    let Some(receiver) = Receiver::start(&["--gone"]) else { return };
    let s = TestServer::start(backend).await;
    let admin = tenant_admin(&s).await;
    let mailer = mailbox();
    let body = json!({"url": receiver.url, "events": ["booking.created"], "personal_data": true});
    let (status, made) = subscribe(&s, &admin, body).await;
    assert_eq!(status, 201, "{made}");
    receiver.trust(made["secret"].as_str().unwrap());
    book(&s, "2026-12-02T09:00:00+01:00", "anna@example.it").await;
    s.deliver_mail(&mailer).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["payload"]["data"]["citizen"]["email"], "anna@example.it", "{received:?}");
    assert_eq!(received[0]["status"], 410);
    let (_, listed) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/webhooks")).await;
    assert!(listed[0]["disabled_at"].is_string(), "{listed}");
    // Switched off: later events are not sent, nor retried.
    book(&s, "2026-12-02T09:30:00+01:00", "bruno@example.it").await;
    s.clock.advance(TimeDelta::minutes(30));
    s.deliver_mail(&mailer).await;
    assert_eq!(receiver.received().len(), 1);
    let (_, audit) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit")).await;
    assert!(
        audit.to_string().contains("webhook.added") && audit.to_string().contains("\"personal_data\":true"),
        "{audit}"
    );
}

/// Admins changing subscriptions at the same moment: five added at once beside eight never pass
/// the limit of ten; two rotations at once each hand out a secret that signs.
async fn changes_at_once_keep_the_limit_and_every_secret(backend: Backend) {
    let Some(receiver) = Receiver::start(&[]) else { return };
    let s = TestServer::start(backend).await;
    let admin = tenant_admin(&s).await;
    let (status, made) = subscribe(&s, &admin, json!({"url": receiver.url, "events": ["booking.created"]})).await;
    assert_eq!(status, 201, "{made}");
    for n in 1..8 {
        // Not told of bookings made below: nothing is sent to these names.
        let body = json!({"url": format!("https://crm{n}.ente.example/hooks"), "events": ["booking.rescheduled"]});
        assert_eq!(subscribe(&s, &admin, body).await.0, 201);
    }
    let bodies: Vec<Value> = (0..5)
        .map(|n| json!({"url": format!("https://late{n}.ente.example/hooks"), "events": ["booking.rescheduled"]}))
        .collect();
    let answers = futures::future::join_all(bodies.iter().map(|body| subscribe(&s, &admin, body.clone()))).await;
    let added = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(added, 2, "{answers:?}");
    assert!(answers.iter().all(|(status, _)| [201, 422].contains(status)), "{answers:?}");
    let (_, listed) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/webhooks")).await;
    assert_eq!(listed.as_array().unwrap().len(), 10);

    let path = format!("/api/v1/admin/t/{TENANT}/webhooks/{}/secret", made["webhook"]["id"]);
    let (a, b) =
        tokio::join!(s.admin_send(&admin, "POST", &path, None, None), s.admin_send(&admin, "POST", &path, None, None));
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    let mailer = mailbox();
    for (n, secret) in [a.1["secret"].as_str().unwrap(), b.1["secret"].as_str().unwrap()].into_iter().enumerate() {
        receiver.trust(secret);
        book(&s, &format!("2026-12-02T0{}:00:00+01:00", 8 + n), &format!("c{n}@example.it")).await;
        s.deliver_mail(&mailer).await;
        let last = receiver.received().pop().unwrap();
        assert_eq!(last["verified"], true, "the secret given to each admin signs: {last}");
    }
}

/// The desk's steps reach the body's systems too: arrived, served, did not come (a call does not).
async fn the_desk_tells_webhooks_who_came(backend: Backend) {
    let Some(receiver) = Receiver::start(&[]) else { return };
    let s = TestServer::start(backend).await;
    let admin = tenant_admin(&s).await;
    let events = json!(["booking.checked_in", "booking.completed", "booking.no_show"]);
    let (status, made) = subscribe(&s, &admin, json!({"url": receiver.url, "events": events})).await;
    assert_eq!(status, 201, "{made}");
    receiver.trust(made["secret"].as_str().unwrap());
    let came = book(&s, "2026-12-01T08:00:00+01:00", "anna@example.it").await;
    let missed = book(&s, "2026-12-01T08:30:00+01:00", "bruno@example.it").await;
    let step = |code: &Value, action: &'static str| {
        let path = format!("/api/v1/admin/t/{TENANT}/bookings/{}/{action}", code["code"].as_str().unwrap());
        let (s, admin) = (&s, &admin);
        async move { assert_eq!(s.admin_send(admin, "POST", &path, None, None).await.0, 200, "{action}") }
    };
    step(&came, "check-in").await;
    step(&came, "call").await;
    step(&came, "complete").await;
    s.clock.advance(TimeDelta::hours(2));
    let admin = s.log_in("admin@prova.example.it", sportello_tests::staff::PASSWORD).await;
    let path = format!("/api/v1/admin/t/{TENANT}/bookings/{}/no-show", missed["code"].as_str().unwrap());
    assert_eq!(s.admin_send(&admin, "POST", &path, None, None).await.0, 200);
    s.deliver_mail(&mailbox()).await;
    let received = receiver.received();
    let of = |kind: &str| received.iter().find(|r| r["payload"]["type"] == kind).unwrap_or_else(|| panic!("{kind}"));
    assert_eq!(received.len(), 3, "no event for the call: {received:?}");
    assert!(received.iter().all(|r| r["verified"] == true), "{received:?}");
    assert_eq!(of("booking.checked_in")["payload"]["data"]["status"], "checked_in");
    assert_eq!(of("booking.completed")["payload"]["data"]["code"], came["code"]);
    assert_eq!(of("booking.no_show")["payload"]["data"]["code"], missed["code"]);
}

/// A body's admin cannot point webhooks at the platform's own network: loopback, private and
/// metadata addresses are refused when saved, and when sent (a subscription saved where the
/// platform allowed it is not delivered by a server that does not).
async fn private_targets_are_refused_unless_allowed(backend: Backend) {
    let url = backend.url.clone();
    let strict =
        |app: sportello::app::Sportello| app.with_webhooks(WebhookClient::new(TargetPolicy::PublicOnly).unwrap());
    let s = TestServer::start_configured(
        backend,
        std::sync::Arc::new(sportello::holds::MemoryHolds::new()),
        TEST_NOW,
        strict,
    )
    .await;
    let admin = tenant_admin(&s).await;
    for target in [
        "http://127.0.0.1:9/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/",
        "http://10.0.0.7/",
    ] {
        let (status, refused) = subscribe(&s, &admin, json!({"url": target, "events": ["booking.created"]})).await;
        assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("url")), "{target}: {refused}");
    }
    let (status, refused) =
        subscribe(&s, &admin, json!({"url": "https://crm.ente.example/x", "events": ["booking.moved"]})).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (422, Some("events")), "{refused}");

    // Saved through a server that allows loopback, sent by one that does not: refused for good.
    let lenient = TestServer::start_with(
        Backend { name: "lenient", url, redis: None },
        std::sync::Arc::new(sportello::holds::MemoryHolds::new()),
        TEST_NOW,
    )
    .await;
    let lenient_admin = tenant_admin(&lenient).await;
    let (status, made) =
        subscribe(&lenient, &lenient_admin, json!({"url": "http://127.0.0.1:9/x", "events": ["booking.created"]}))
            .await;
    assert_eq!(status, 201, "{made}");
    book(&s, "2026-12-02T09:00:00+01:00", "anna@example.it").await;
    s.deliver_mail(&mailbox()).await;
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/deliveries")).await;
    let hook = log.as_array().unwrap().iter().find(|m| m["channel"] == "webhook").expect("the webhook message");
    assert_eq!(hook["state"], "failed", "{hook}");
    assert!(hook["last_error"].as_str().unwrap_or_default().contains("private"), "{hook}");
    // Sent again from the log: refused again, for the same reason.
    let retry = format!("/api/v1/admin/t/{TENANT}/deliveries/{}/retry", hook["id"]);
    assert_eq!(s.admin_send(&admin, "POST", &retry, None, None).await.0, 204);
    assert_eq!(s.admin_send(&admin, "POST", &retry, None, None).await.0, 404, "only a failed message");
    s.deliver_mail(&mailbox()).await;
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/deliveries")).await;
    let again = log.as_array().unwrap().iter().find(|m| m["channel"] == "webhook").unwrap();
    assert_eq!((again["state"].as_str(), again["attempts"].as_u64()), (Some("failed"), Some(1)), "{again}");
}

/// The pages: a webhook is added (its secret shown once), a bad address is said beside its
/// field, the secret is rotated, the webhook removed; the delivery log lists what was sent.
async fn the_webhooks_pages(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = tenant_admin(&s).await;
    let page = format!("/admin/t/{TENANT}/webhooks");
    let (status, body) =
        s.admin_form(&admin, &page, &[("url", "ftp://crm.ente.example/"), ("events", "booking.created")]).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("http:// or https://"), "{body}");
    let (status, body) = s
        .admin_form(
            &admin,
            &page,
            &[
                ("url", "https://crm.ente.example/hooks"),
                ("events", "booking.created"),
                ("events", "booking.cancelled"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let secret =
        body.split("id=\"new-secret\" readonly value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let again = s.http.get(format!("{}{page}", s.base)).header("cookie", admin.cookie()).send().await.unwrap();
    let again = again.text().await.unwrap();
    assert!(again.contains("https://crm.ente.example/hooks") && !again.contains(&secret), "shown once");
    assert!(again.contains("booking.created, booking.cancelled"), "{again}");
    let rotate = again
        .split("action=\"")
        .map(|r| r.split('"').next().unwrap())
        .find(|a| a.ends_with("/secret"))
        .unwrap()
        .to_owned();
    let (status, rotated) = s.admin_form(&admin, &rotate, &[]).await;
    assert_eq!(status, 200);
    let new_secret = rotated.split("id=\"new-secret\" readonly value=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    book(&s, "2026-12-02T09:00:00+01:00", "anna@example.it").await;
    // The worker queues the confirmation the booking's row owes (no mail is sent here).
    assert_eq!(s.app.queue_owed_mail().await.unwrap(), 1);
    let log = s
        .http
        .get(format!("{}/admin/t/{TENANT}/deliveries", s.base))
        .header("cookie", admin.cookie())
        .send()
        .await
        .unwrap();
    assert_eq!(log.status().as_u16(), 200);
    let log = log.text().await.unwrap();
    assert!(
        log.contains("booking.created") && log.contains("anna@example.it") && log.contains("confirmation"),
        "{log}"
    );
    let (_, audit) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/audit?action=deliveries.")).await;
    assert!(audit.to_string().contains("deliveries.viewed"), "looking at citizens' addresses is recorded: {audit}");

    let remove = rotate.replace("/secret", "/removal");
    let (status, _) = s.admin_form(&admin, &remove, &[]).await;
    assert!(status == 303 || status == 200, "{status}");
    let (_, listed) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/webhooks")).await;
    assert_eq!(listed, json!([]));
    // Its message not yet sent is not needed any more: skipped, not failed.
    let (_, log) = s.admin_get(&admin, &format!("/api/v1/admin/t/{TENANT}/deliveries")).await;
    let hook = log.as_array().unwrap().iter().find(|m| m["channel"] == "webhook").unwrap();
    assert_eq!(hook["state"], "skipped", "{hook}");
}

on_databases!(
    changes_at_once_keep_the_limit_and_every_secret,
    the_desk_tells_webhooks_who_came,
    the_webhooks_pages,
    events_arrive_signed_retried_and_rotated,
    personal_data_when_asked_and_gone_switches_off,
    private_targets_are_refused_unless_allowed,
);
