//! The accessibility statement: a body's admin publishes it in AgID's model from the admin pages,
//! citizens read it from every footer, in Italian and English; without one the footer still leads
//! to a page that says where to report a problem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use sportello::domain::Role;
use sportello_tests::{Backend, TestServer, on_databases};

use super::admin::TENANT;

/// A citizen page of the test body in `lang`.
async fn citizen_page(s: &TestServer, path: &str, lang: &str) -> (u16, String) {
    let url = format!("{}/t/{TENANT}{path}", s.base);
    let page = s.http.get(url).header("accept-language", lang).send().await.unwrap();
    (page.status().as_u16(), page.text().await.unwrap())
}

async fn a_body_publishes_its_accessibility_statement(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff("admin@prova.example.it", Role::TenantAdmin, Some(TENANT), &[]).await;
    let operator = s.staff("operatore@prova.example.it", Role::Operator, Some(TENANT), &["sede"]).await;

    // None yet: every footer leads to a page that says so, and how to complain.
    let (_, services) = citizen_page(&s, "/", "it").await;
    assert!(services.contains(&format!("href=\"/t/{TENANT}/accessibility\"")), "{services}");
    let (status, page) = citizen_page(&s, "/accessibility", "it").await;
    assert_eq!(status, 200);
    assert!(page.contains("non ha ancora pubblicato") && page.contains("form.agid.gov.it"), "{page}");

    let path = format!("/admin/t/{TENANT}/accessibility");
    let statement = |conformance: &'static str, non_accessible: &'static str| {
        vec![
            ("version", "1"),
            ("conformance", conformance),
            ("non_accessible_it", non_accessible),
            ("non_accessible_en", ""),
            ("prepared_on", "2026-09-30"),
            ("reviewed_on", "2026-11-20"),
            ("method", "third_party"),
            ("feedback_email", "accessibilita@prova.example.it"),
        ]
    };
    // Partial conformance says what is not accessible; the form keeps what was typed.
    let (status, refused) = s.admin_form(&admin, &path, &statement("partial", "")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("f-non_accessible-error") && refused.contains("accessibilita@prova.example.it"));
    let mut bad_date = statement("full", "");
    bad_date[4] = ("prepared_on", "30/09/2026");
    let (status, refused) = s.admin_form(&admin, &path, &bad_date).await;
    assert_eq!(status, 422);
    assert!(refused.contains("id=\"f-prepared_on-error\""), "{refused}");
    // An operator may not publish it.
    let (status, _) = s.admin_form(&operator, &path, &statement("full", "")).await;
    assert_eq!(status, 403);

    let said = "Le ricevute in PDF non sono ancora accessibili.\n\nLe stiamo rifacendo entro marzo 2027.";
    let (status, saved) = s.admin_form(&admin, &path, &statement("partial", said)).await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("accessibility statement changed"), "the history names it: {saved}");

    let (status, page) = citizen_page(&s, "/accessibility", "it").await;
    assert_eq!(status, 200);
    for text in [
        "parzialmente conformi",
        "<p>Le ricevute in PDF non sono ancora accessibili.</p>",
        "<p>Le stiamo rifacendo entro marzo 2027.</p>",
        "30 settembre 2026",
        "valutazione effettuata da terzi",
        "20 novembre 2026",
        "mailto:accessibilita@prova.example.it",
        "Difensore civico per il digitale",
    ] {
        assert!(page.contains(text), "{text}: {page}");
    }
    let (_, english) = citizen_page(&s, "/accessibility?lang=en", "en").await;
    assert!(english.contains("partially comply") && english.contains("30 September 2026"), "{english}");
    // Written in Italian only: shown in Italian, marked as such for screen readers.
    assert!(english.contains("<div lang=\"it\">\n<p>Le ricevute in PDF"), "{english}");

    // Withdrawn: back to "not published yet".
    let (status, _) = s.admin_form(&admin, &path, &[("version", "2"), ("conformance", "")]).await;
    assert_eq!(status, 200);
    let (_, page) = citizen_page(&s, "/accessibility", "it").await;
    assert!(page.contains("non ha ancora pubblicato"), "{page}");
}

on_databases!(a_body_publishes_its_accessibility_statement);
