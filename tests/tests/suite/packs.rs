//! Applying tenant packs: idempotent, precise refusals that change nothing, and the demo packs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::path::Path;

use sportello::app::{AppError, StrandPolicy};
use sportello::domain::stranding::StrandReason;
use sportello_tests::packs::{prova, write_pack};
use sportello_tests::{Backend, TestServer, demo_packs_dir, on_both_backends};

async fn apply_is_idempotent_and_reports_changes(backend: Backend) {
    let s = TestServer::start(backend).await;
    let unchanged = s.app.apply_pack(&prova().write()).await.unwrap();
    assert!(!unchanged.created);
    assert!(unchanged.changes.is_empty(), "{:?}", unchanged.changes);

    let more_desks = prova().name("Comune di Prova 2").change_office("sede", |o| o.open(&["mon"], "08:00", "12:00", 4));
    let report = s.app.apply_pack(&more_desks.write()).await.unwrap();
    let said: Vec<String> = report.changes.iter().map(ToString::to_string).collect();
    assert_eq!(said, ["tenant settings changed", "office sede changed: hours"]);
    let (_, tenant) = s.get(&s.url("prova", "")).await;
    assert_eq!(tenant["name"], "Comune di Prova 2", "a new version is served at once");
}

async fn invalid_packs_change_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let broken = prova().toml().replacen("duration_minutes = 30", "duration_minutes = 25", 1);
    let dir = write_pack("prova", &broken);
    let error = s.app.apply_pack(&dir).await.unwrap_err().to_string();
    let manifest = dir.join("tenant.toml").display().to_string();
    assert!(
        error.contains(&manifest) && error.contains("services[0].duration_minutes") && error.contains("multiple"),
        "{error}"
    );
    let (_, services) = s.get(&s.url("prova", "/services")).await;
    assert_eq!(services[0]["duration_minutes"], 30, "the stored configuration is untouched");

    let misnamed = write_pack("other-name", &prova().toml());
    let error = s.app.apply_pack(&misnamed).await.unwrap_err().to_string();
    assert!(error.contains("folder name"), "{error}");
    let missing_logo = write_pack(
        "prova",
        &prova().toml().replace("primary_color = \"#123456\"", "primary_color = \"#123456\"\nlogo = \"logo.png\""),
    );
    let error = s.app.apply_pack(&missing_logo).await.unwrap_err().to_string();
    assert!(error.contains("branding.logo"), "{error}");
}

/// Removing a booked service needs a choice: without one nothing changes; kept, the booking stays.
async fn removing_a_booked_service_needs_a_choice(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (_, hold) = s.hold("prova", "lunga", "sede", "in_person", "2026-12-02T08:00:00+01:00").await;
    let (status, booking) = s.book("prova", &hold, "keep@example.it").await;
    assert_eq!(status, 201);
    let pack = prova().without_service("lunga").write();
    match s.app.apply_pack(&pack).await {
        Err(AppError::StrandsBookings(stranded)) => {
            assert_eq!(stranded.len(), 1);
            assert_eq!((stranded[0].service.as_str(), stranded[0].reason), ("lunga", StrandReason::ServiceRemoved));
        }
        other => panic!("expected the booking listed, got {other:?}"),
    }
    let (_, services) = s.get(&s.url("prova", "/services")).await;
    assert_eq!(services.as_array().unwrap().len(), 4);

    let report = s.app.apply_pack_with(&pack, &StrandPolicy::Keep).await.unwrap();
    assert_eq!(report.version, 2);
    let code = booking["code"].as_str().unwrap();
    let (_, kept) = s.booking("prova", code, "keep@example.it").await;
    assert_eq!(kept["status"], "confirmed", "{kept}");
}

async fn demo_packs_are_valid_and_bookable(backend: Backend) {
    let s = TestServer::start(backend).await;
    let reports = s.app.apply_all_packs(&demo_packs_dir()).await.unwrap();
    let slugs: Vec<&str> = reports.iter().map(|r| r.slug.as_str()).collect();
    assert_eq!(slugs, ["cbtoscananord", "comune-esempio"]);
    assert!(Path::new(&demo_packs_dir()).join("cbtoscananord/logo.svg").is_file());
    let logo = s.http.get(format!("{}/api/v1/t/cbtoscananord/logo", s.base)).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    for (tenant, service, office, mode) in [
        ("cbtoscananord", "avvisi-pagamento", "sede-viareggio", "whatsapp"),
        ("cbtoscananord", "concessioni", "ufficio-lucca", "teams"),
        ("comune-esempio", "carta-identita", "anagrafe", "in_person"),
    ] {
        let query = format!("/availability?service={service}&office={office}&mode={mode}");
        let (status, body) = s.get(&s.url(tenant, &query)).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body["days"].as_array().unwrap().is_empty(), "{tenant}/{service} has free slots");
    }
    let (_, services) = s.get(&s.url("comune-esempio", "/services")).await;
    assert_eq!(services[0]["horizon_days"], 180);
}

on_both_backends!(
    apply_is_idempotent_and_reports_changes,
    invalid_packs_change_nothing,
    removing_a_booked_service_needs_a_choice,
    demo_packs_are_valid_and_bookable,
);
