//! The citizens' pages, driven as a browser without JavaScript would: links and forms only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use serde_json::Value;
use sportello_tests::{Backend, TestServer, on_both_backends};

/// A citizen's browser: follows redirects and keeps cookies (a hold's secret lives in one).
fn browser() -> reqwest::Client {
    sportello::webhooks::install_tls_provider();
    reqwest::Client::builder().cookie_store(true).build().expect("client")
}

/// Decodes the few entities Handlebars writes into attributes.
fn unescape(text: &str) -> String {
    text.replace("&#x3D;", "=").replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", "\"")
}

/// The value of `attr` in the first tag that contains `marker`.
fn attribute(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let value = tag.split(&format!("{attr}=\"")).nth(1)?.split('"').next()?;
    Some(unescape(value))
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String, String) {
    let response = client.get(url).send().await.expect("GET");
    let final_url = response.url().to_string();
    (response.status().as_u16(), final_url, response.text().await.expect("body"))
}

async fn post(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let response = client.post(url).form(form).send().await.expect("POST");
    let final_url = response.url().to_string();
    (response.status().as_u16(), final_url, response.text().await.expect("body"))
}

const DETAILS: [(&str, &str); 5] = [
    ("first_name", "Lucia"),
    ("last_name", "Verdi"),
    ("email", "lucia.verdi@example.it"),
    ("phone", "333 222 1111"),
    ("privacy_accepted", "yes"),
];

/// Steps 1–3: service, office and mode, day, time; returns the details page (URL, HTML).
async fn reach_details(s: &TestServer, client: &reqwest::Client, start: &str) -> (String, String) {
    let (status, _, services) = get(client, &format!("{}/t/prova/", s.base)).await;
    assert_eq!(status, 200);
    assert!(
        services.contains("Passo 1 di 5 · <span class=\"step-name\">Servizio</span>")
            && services.contains(r#"<html lang="it">"#),
        "{services}"
    );
    let service = attribute(&services, ">Visita<", "href").expect("service link");
    let (_, _, offices) = get(client, &format!("{}{service}", s.base)).await;
    assert!(offices.contains("Passo 2 di 5") && offices.contains("Sportello piccolo"), "{offices}");
    let action = attribute(&offices, "<form method=\"get\"", "action").expect("office form");
    let (status, calendar_url, calendar) = get(client, &format!("{}{action}?choice=sede:in_person", s.base)).await;
    assert_eq!(status, 200, "{calendar}");
    assert!(
        calendar.contains("Passo 3 di 5 · <span class=\"step-name\">Data e ora</span>")
            && calendar.contains("dicembre 2026"),
        "{calendar}"
    );
    assert!(calendar.contains(">mercoledì 2 dicembre 2026: "), "{calendar}");
    let day = attribute(&calendar, "2026-12-02#times", "href").expect("day link");
    let (_, _, day_page) = get(client, &format!("{}{day}", s.base)).await;
    assert!(day_page.contains("Orari liberi di mercoledì 2 dicembre 2026"), "{calendar_url}: {day_page}");
    assert!(day_page.contains(&format!("value=\"{start}\"")), "{day_page}");
    let hold_action = attribute(&day_page, "id=\"times\"", "action").expect("hold form");
    let (status, details_url, details) = post(
        client,
        &format!("{}{hold_action}", s.base),
        &[("service", "visita"), ("office", "sede"), ("mode", "in_person"), ("start", start)],
    )
    .await;
    assert_eq!(status, 200, "{details}");
    assert!(details_url.contains("/t/prova/details/"), "{details_url}");
    let (status, _, _) = get(&browser(), &details_url).await;
    assert_eq!(status, 410, "another browser that learns the URL cannot use the hold");
    assert!(details.contains("Passo 4 di 5") && details.contains("fino alle 07:10"), "{details}");
    (details_url, details)
}

async fn book_without_javascript(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    let start = "2026-12-02T08:00:00+01:00";
    let (details_url, _) = reach_details(&s, &client, start).await;

    // Errors keep what was typed, say what is wrong next to the field and in a summary.
    let (status, _, with_errors) = post(
        &client,
        &details_url,
        &[("first_name", "Lucia"), ("last_name", "Verdi"), ("email", "not-an-email"), ("phone", "")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        with_errors.contains("class=\"error-summary\"") && with_errors.contains("href=\"#f-email\""),
        "{with_errors}"
    );
    assert!(
        with_errors.contains("Email: Scrivi un indirizzo email valido"),
        "the summary names the field: {with_errors}"
    );
    assert!(
        with_errors.contains("value=\"Verdi\"") && with_errors.contains("value=\"not-an-email\""),
        "typed values are kept"
    );
    assert!(with_errors.contains("aria-invalid=\"true\" aria-describedby=\"f-email-error\""), "{with_errors}");

    // Review (a page of its own: the form was sent once, and redirected), then confirm. A field
    // the form does not have is not kept.
    let mut sent = DETAILS.to_vec();
    sent.push(("injected", "<b>nope</b>"));
    let (status, review_url, review) = post(&client, &details_url, &sent).await;
    assert!(!review.contains("nope"), "{review}");
    assert_eq!(status, 200, "{review}");
    assert!(review_url.contains("/t/prova/review/"), "{review_url}");
    assert!(review.contains("Verifica i dati") && review.contains("lucia.verdi@example.it"), "{review}");
    assert!(!review.contains("type=\"hidden\""), "the details travel no more: {review}");
    let (_, _, reloaded) = get(&client, &review_url).await;
    assert!(reloaded.contains("lucia.verdi@example.it"), "reload shows the review again: {reloaded}");
    let confirm_action = attribute(&review, "/confirm/", "action");
    let confirm_url = format!("{}{}", s.base, confirm_action.expect("confirm form"));
    let (status, receipt_url, confirmed) = post(&client, &confirm_url, &[]).await;
    assert_eq!(status, 200, "{confirmed}");
    assert!(confirmed.contains("Appuntamento confermato"), "{confirmed}");
    assert!(receipt_url.contains("/t/prova/booked/") && !receipt_url.contains("lucia"), "{receipt_url}");
    let code =
        confirmed.split("id=\"booking-code\">").nth(1).and_then(|r| r.split('<').next()).expect("code").to_owned();
    // A receipt: the code as a QR code for the counter, calendar entries that say what the
    // citizen needs, and a way back to the booking without retyping anything.
    assert!(confirmed.contains(r#"class="qr-code" role="img""#) && confirmed.contains("<svg"), "{confirmed}");
    let google = attribute(&confirmed, "calendar.google.com", "href").expect("Google link");
    assert!(google.contains("Comune+di+Prova") && google.contains(&code), "a full title and the code: {google}");
    assert!(attribute(&confirmed, "calendar.google.com", "target").as_deref() == Some("_blank"));
    let linked = attribute(&confirmed, "Sposta o annulla questa prenotazione", "href").expect("manage link");
    let (status, _, booking_page) = get(&browser(), &format!("{}{linked}", s.base)).await;
    assert!(status == 200 && booking_page.contains(&code), "no retyping: {booking_page}");
    // Back and reload after booking show the receipt, never a form to send again.
    for url in [&review_url, &details_url, &receipt_url] {
        let (status, landed, page) = get(&client, url).await;
        assert_eq!(status, 200, "{url}: {page}");
        assert!(landed.contains("/booked/") && page.contains(&code), "{url} → {landed}");
    }
    assert_eq!(get(&browser(), &receipt_url).await.0, 410, "another browser does not see the receipt");
    // The calendar entry's link carries a signed token, not the e-mail address.
    let ics = attribute(&confirmed, "/calendar.ics", "href").expect("calendar link");
    assert!(ics.starts_with("/t/prova/b/") && !unescape(&confirmed).contains("email="), "{ics}");
    assert!(confirmed.contains("calendar.google.com"), "{confirmed}");
    let calendar = client.get(format!("{}{ics}", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(calendar.contains("BEGIN:VCALENDAR") && calendar.contains("UID:"), "{calendar}");

    // Pressing confirm again does not book twice.
    let (_, _, again) = post(&client, &confirm_url, &[]).await;
    assert!(again.contains(&code), "the same booking: {again}");
    // Nor does sending the details again, edited: the citizen is shown the booking that exists.
    let mut edited = DETAILS;
    edited[0] = ("first_name", "Lucilla");
    let (status, _, shown) = post(&client, &details_url, &edited).await;
    assert_eq!(status, 200, "{shown}");
    assert!(shown.contains("Appuntamento confermato") && shown.contains(&code), "{shown}");
    let (_, booking) = s.booking("prova", &code, "lucia.verdi@example.it").await;
    assert_eq!(
        (booking["status"].as_str(), booking["start"].as_str(), booking["citizen"]["first_name"].as_str()),
        (Some("confirmed"), Some("2026-12-02T08:00:00+01:00"), Some("Lucia"))
    );
    assert_eq!(s.remaining("prova", "visita", "sede", "2026-12-02T08:00:00+01:00").await, Some(2));
}

async fn manage_reschedule_and_cancel(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    let (details_url, _) = reach_details(&s, &client, "2026-12-02T08:30:00+01:00").await;
    post(&client, &details_url, &DETAILS).await;
    let confirm_url = details_url.replace("/details/", "/confirm/");
    let (_, _, confirmed) = post(&client, &confirm_url, &DETAILS).await;
    let code =
        confirmed.split("id=\"booking-code\">").nth(1).and_then(|r| r.split('<').next()).expect("code").to_owned();

    let manage = format!("{}/t/prova/booking", s.base);
    let (status, _, not_found) = post(&client, &manage, &[("code", &code), ("email", "someone@example.it")]).await;
    assert_eq!(status, 404);
    assert!(not_found.contains("Nessuna prenotazione"), "{not_found}");
    let (status, _, page) = post(&client, &manage, &[("code", &code), ("email", "lucia.verdi@example.it")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("confermata") && page.contains("Sposta l&#x27;appuntamento"), "{page}");
    // From here the forms carry the booking's manage token: the e-mail is not echoed into the page.
    assert!(!page.contains("lucia.verdi") && !page.contains("name=\"email\""), "{page}");
    let token = page.split("name=\"token\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("token");
    let proof = [("code", code.as_str()), ("token", token)];

    // Reschedule to 10:00 the same day: the month's free days, then that day's times.
    let reschedule = format!("{manage}/reschedule");
    let (_, _, month) = post(&client, &reschedule, &proof).await;
    assert!(month.contains("dicembre 2026"), "{month}");
    assert!(month.contains("name=\"day\" value=\"2026-12-02\""), "{month}");
    assert!(!month.contains("name=\"start\""), "no times before a day is chosen");
    assert!(!month.contains("lucia.verdi%40") && !month.contains("email="), "the e-mail never goes in a URL");
    assert!(!month.contains("value=\"2027-01\""), "no next month: bookings close within December");
    let day = [proof[0], proof[1], ("month", "2026-12"), ("day", "2026-12-02")];
    let (_, _, choices) = post(&client, &reschedule, &day).await;
    let new_start = "2026-12-02T10:00:00+01:00";
    assert!(choices.contains(&format!("value=\"{new_start}\"")), "{choices}");
    // Choosing the time shows the move first; nothing moves until the citizen says so.
    let (_, _, asked) =
        post(&client, &reschedule, &[proof[0], proof[1], ("confirmed", "yes"), ("start", new_start)]).await;
    assert!(asked.contains("Controlla lo spostamento") && asked.contains("mercoledì 2 dicembre 2026 10:00"), "{asked}");
    let (_, booking) = s.booking("prova", &code, "lucia.verdi@example.it").await;
    assert_eq!(booking["start"], Value::from("2026-12-02T08:30:00+01:00"), "not moved yet");
    let (_, _, moved) = post(&client, &reschedule, &[proof[0], proof[1], ("start", new_start), ("move", "yes")]).await;
    assert!(moved.contains("Appuntamento spostato"), "{moved}");
    let (_, booking) = s.booking("prova", &code, "lucia.verdi@example.it").await;
    assert_eq!(booking["start"], Value::from(new_start));

    // Cancel asks first, then cancels.
    let cancel = format!("{manage}/cancel");
    let (_, _, question) = post(&client, &cancel, &proof).await;
    assert!(question.contains("Vuoi davvero annullare"), "{question}");
    let (_, booking) = s.booking("prova", &code, "lucia.verdi@example.it").await;
    assert_eq!(booking["status"], "confirmed", "asking is not cancelling");
    // A token of another booking does not prove this one.
    let (status, _, _) = post(&client, &cancel, &[("code", "ZZZZ-ZZZZ"), ("token", token), ("confirmed", "yes")]).await;
    assert_eq!(status, 404);
    let (_, _, done) = post(&client, &cancel, &[proof[0], proof[1], ("confirmed", "yes")]).await;
    assert!(done.contains("Appuntamento annullato"), "{done}");
    // The calendar entry is said to go, and the updated file marks it cancelled.
    let ics = attribute(&done, "/calendar.ics", "href").expect("the cancelled event");
    let cancelled = client.get(format!("{}{ics}", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(cancelled.contains("STATUS:CANCELLED") && !cancelled.contains("BEGIN:VALARM"), "{cancelled}");
    let (_, booking) = s.booking("prova", &code, "lucia.verdi@example.it").await;
    assert_eq!(booking["status"], "cancelled");
}

async fn languages_and_friendly_errors(backend: Backend) {
    let s = TestServer::start(backend).await;
    // Without a cookie store: each request states its own cookies.
    let client = reqwest::Client::new();
    let response = client.get(format!("{}/t/prova/?lang=en", s.base)).send().await.unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("lang=en;") && cookie.contains("SameSite=Lax"), "{cookie}");
    let english = response.text().await.unwrap();
    assert!(
        english.contains(r#"<html lang="en">"#)
            && english.contains("Choose a service")
            && english.contains("Step 1 of 5")
    );
    let (_, _, remembered) = {
        let response =
            client.get(format!("{}/t/prova/s/visita", s.base)).header("Cookie", "lang=en").send().await.unwrap();
        (response.status().as_u16(), String::new(), response.text().await.unwrap())
    };
    assert!(remembered.contains("Choose office and mode"), "the cookie keeps the choice");
    let accepted =
        client.get(format!("{}/t/prova/", s.base)).header("Accept-Language", "en-GB,en;q=0.9").send().await.unwrap();
    assert!(accepted.text().await.unwrap().contains(r#"<html lang="en">"#));

    let (status, _, unknown) = get(&client, &format!("{}/t/nessuno/", s.base)).await;
    assert_eq!(status, 404);
    assert!(unknown.contains("Pagina non trovata") && unknown.contains(r#"<html lang="it">"#), "{unknown}");
    let (status, _, inactive) = get(&client, &format!("{}/t/prova/s/sospeso", s.base)).await;
    assert_eq!(status, 409);
    assert!(inactive.contains("Servizio non prenotabile"), "{inactive}");
    let (status, _, gone) =
        get(&client, &format!("{}/t/prova/details/6f1c3a52-9a53-4d2f-8f59-2f6d1c0e7b11", s.base)).await;
    assert_eq!(status, 410);
    assert!(gone.contains("non è più riservato"), "{gone}");
    // A month past the horizon: say when bookings close, and point to an office with free places.
    let (_, _, dead_end) =
        get(&client, &format!("{}/t/prova/s/visita/o/piccolo/m/in_person?month=2027-01", s.base)).await;
    assert!(dead_end.contains("Si può prenotare fino al giovedì 31 dicembre 2026"), "{dead_end}");
    assert_eq!(
        attribute(&dead_end, "Prova Sede", "href").as_deref(),
        Some("/t/prova/s/visita/o/sede/m/in_person"),
        "{dead_end}"
    );
    // An office that does not offer the chosen mode is offered saying so, not silently.
    let (_, _, skype) = get(&client, &format!("{}/t/prova/s/visita/o/sede/m/skype?month=2027-01", s.base)).await;
    assert!(skype.contains("Prova Sportello piccolo (In presenza: non offre la modalità scelta)"), "{skype}");
    let (status, _, no_choice) = get(&client, &format!("{}/t/prova/s/visita/choose", s.base)).await;
    assert_eq!(status, 422);
    assert!(no_choice.contains("Scegli un ufficio e una modalità"), "{no_choice}");
    // What the router and the HTTP server refuse is an error page too, never an empty body.
    for (url, status) in [
        (format!("{}/static/missing.css", s.base), 404),
        (format!("{}/nowhere", s.base), 404),
        (format!("{}/t/prova/?q={}", s.base, "x".repeat(10_000)), 414),
    ] {
        let (answered, _, page) = get(&client, &url).await;
        assert_eq!(answered, status, "{url}");
        assert!(page.contains("<html lang=\"it\">") && page.contains("<h1>"), "{url}: {page}");
    }
}

/// The database goes away: pages say the service is unavailable (503 with Retry-After) and
/// count it, instead of "choose a time" or "not found".
async fn database_outage_is_said_as_such(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    s.app.store().clone().close().await.expect("close the pool");
    let calendar = format!("{}/t/prova/s/visita/o/sede/m/in_person?month=2026-12&day=2026-12-02", s.base);
    let hold =
        [("service", "visita"), ("office", "sede"), ("mode", "in_person"), ("start", "2026-12-02T08:00:00+01:00")];
    let manage = [("code", "ABCD-2345"), ("email", "lucia.verdi@example.it")];
    let pages = [
        client.get(&calendar).send().await.unwrap(),
        client.post(format!("{}/t/prova/hold", s.base)).form(&hold).send().await.unwrap(),
        client.post(format!("{}/t/prova/booking", s.base)).form(&manage).send().await.unwrap(),
    ];
    for page in pages {
        let url = page.url().to_string();
        assert_eq!(page.status(), 503, "{url}");
        assert!(page.headers().get("retry-after").is_some(), "{url}");
        // The request's code, to quote when calling the office, is the one in the server's log.
        let id = page.headers()["x-request-id"].to_str().unwrap().to_owned();
        let html = page.text().await.unwrap();
        assert!(html.contains("Servizio momentaneamente non disponibile"), "{url}: {html}");
        assert!(
            html.contains(&format!("Codice della richiesta, da citare se ci contatti: <code>{id}</code>")),
            "{html}"
        );
    }
    let (status, problem) = {
        let api = client.get(format!("{}/api/v1/t/prova/services", s.base)).header("x-request-id", "lb-7f3a-01");
        let response = api.send().await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "lb-7f3a-01", "a proxy's id is kept");
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    assert_eq!((status, problem["request_id"].as_str()), (503, Some("lb-7f3a-01")), "{problem}");
    let metrics = client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    let counted = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sportello_faults_total{kind=\"unavailable\"} "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(counted.is_some_and(|n| n >= 3), "{metrics}");
}

/// A tenant's templates are part of its stored configuration: applied with the pack, checked to
/// compile, and seen by every instance without a restart.
async fn tenant_template_override(backend: Backend) {
    let url = backend.url.clone();
    let s = TestServer::start(backend).await;
    let second = TestServer::start(Backend { name: "second instance", url, redis: None }).await;
    let (_, _, before) = get(&browser(), &format!("{}/t/prova/", second.base)).await;
    assert!(before.contains("Scegli il servizio"), "{before}");

    let pack = s.tenants_dir.join("prova");
    let templates = pack.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("services.hbs"), "{{#> layout}}<h1>Benvenuti al Comune di Prova</h1>{{/layout}}")
        .unwrap();
    let (_, _, unapplied) = get(&browser(), &format!("{}/t/prova/", s.base)).await;
    assert!(unapplied.contains("Scegli il servizio"), "a file on disk changes nothing until it is applied");
    let report = s.app.apply_pack(&pack).await.expect("apply the template");
    assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
    let (_, _, page) = get(&browser(), &format!("{}/t/prova/", s.base)).await;
    assert!(page.contains("Benvenuti al Comune di Prova") && page.contains("Vai al contenuto"), "{page}");
    let (_, _, other) = get(&browser(), &format!("{}/t/altro/", s.base)).await;
    assert!(other.contains("Scegli il servizio"), "another tenant keeps the default");
    // The other instance notices the new configuration version within two seconds.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let (_, _, elsewhere) = get(&browser(), &format!("{}/t/prova/", second.base)).await;
    assert!(elsewhere.contains("Benvenuti al Comune di Prova"), "{elsewhere}");

    // A template that does not compile is refused, and the applied one stays.
    std::fs::write(templates.join("services.hbs"), "{{#if}}broken").unwrap();
    let refused = s.app.apply_pack(&pack).await.expect_err("a broken template");
    assert!(refused.to_string().contains("services.hbs"), "{refused}");
    let (_, _, still) = get(&browser(), &format!("{}/t/prova/", s.base)).await;
    assert!(still.contains("Benvenuti al Comune di Prova"), "{still}");
}

async fn expired_hold_offers_the_next_free_time(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    // `piccolo` has one desk: hold 08:00 on 2 December through the pages.
    let hold_url = format!("{}/t/prova/hold", s.base);
    let first =
        [("service", "visita"), ("office", "piccolo"), ("mode", "in_person"), ("start", "2026-12-02T08:00:00+01:00")];
    let (_, details_url, _) = post(&client, &hold_url, &first).await;
    assert!(details_url.contains("/details/"), "{details_url}");
    let (_, review_url, review) = post(&client, &details_url, &DETAILS).await;
    assert!(review.contains("Il posto è riservato fino alle 07:10"), "{review}");
    // The citizen is slow; the hold lapses (and the review says so), and someone else books the place.
    s.clock.advance(chrono::TimeDelta::minutes(15));
    let (_, _, lapsed) = get(&client, &review_url).await;
    assert!(lapsed.contains("Il posto era riservato fino alle 07:10: conferma ora"), "{lapsed}");
    let (_, hold) = s.hold("prova", "visita", "piccolo", "in_person", "2026-12-02T08:00:00+01:00").await;
    assert_eq!(s.book("prova", &hold, "quick@example.it").await.0, 201);
    let (status, _, page) = post(&client, &details_url.replace("/details/", "/confirm/"), &DETAILS).await;
    assert_eq!(status, 409);
    assert!(page.contains("L&#x27;orario non è più disponibile"), "{page}");
    assert!(page.contains("Prenota il prossimo orario libero: martedì 1 dicembre 2026 08:00"), "{page}");
    let start = attribute(&page, "name=\"start\"", "value").expect("next time");
    let next = [("service", "visita"), ("office", "piccolo"), ("mode", "in_person"), ("start", start.as_str())];
    let (_, next_details, _) = post(&client, &hold_url, &next).await;
    assert!(next_details.contains("/details/"), "one click holds the next time: {next_details}");
}

/// A browser books one thing at a time: another choice of time (after Back) gives the earlier place
/// back and keeps what was typed; the same time again is the same hold; "release" gives the place
/// back at once. Where a client may hold two places, a third choice still books.
async fn one_hold_per_booking_in_progress(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    let hold_url = format!("{}/t/limitato/hold", s.base);
    let at = |start| [("service", "visita"), ("office", "sede"), ("mode", "in_person"), ("start", start)];
    let times = ["2026-12-02T08:00:00+01:00", "2026-12-02T08:30:00+01:00", "2026-12-02T09:00:00+01:00"];
    let free = async |start| s.remaining("limitato", "visita", "sede", start).await;

    let (_, first, _) = post(&client, &hold_url, &at(times[0])).await;
    assert!(first.contains("/t/limitato/details/"), "{first}");
    let (_, review, _) = post(&client, &first, &DETAILS).await;
    assert!(review.contains("/review/"), "{review}");
    assert_eq!(free(times[0]).await, Some(4));
    // Back twice, another time: the first place is free again and what was typed follows.
    let (_, second, page) = post(&client, &hold_url, &at(times[1])).await;
    assert!(second.contains("/details/") && second != first, "{second}");
    assert!(page.contains("value=\"lucia.verdi@example.it\""), "{page}");
    assert_eq!((free(times[0]).await, free(times[1]).await), (Some(5), Some(4)));
    assert_eq!(get(&client, &first).await.0, 410, "the replaced hold is gone");
    // The same time again is the same hold, not a second place.
    let (_, again, _) = post(&client, &hold_url, &at(times[1])).await;
    assert_eq!(again, second);
    assert_eq!(free(times[1]).await, Some(4));
    // A third choice, tapped twice at once, is one hold; it books.
    let third_time = at(times[2]);
    let ((_, third, _), (_, twice, _)) =
        tokio::join!(post(&client, &hold_url, &third_time), post(&client, &hold_url, &third_time));
    assert_eq!(third, twice);
    assert_eq!(free(times[2]).await, Some(4), "one place for a double tap");
    let (_, review, _) = post(&client, &third, &DETAILS).await;
    let (status, receipt, _) = post(&client, &review.replace("/review/", "/confirm/"), &[]).await;
    assert!(status == 200 && receipt.contains("/booked/"), "{status} {receipt}");
    assert_eq!((free(times[1]).await, free(times[2]).await), (Some(5), Some(4)));
}

/// "Release this time" gives the place back at once and returns to that day's times; what was
/// typed goes with it, and the next booking in that browser starts with an empty form.
async fn releasing_a_time(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    let hold_url = format!("{}/t/prova/hold", s.base);
    let at = |start| [("service", "visita"), ("office", "sede"), ("mode", "in_person"), ("start", start)];
    let start = "2026-12-02T08:00:00+01:00";
    let (_, details, _) = post(&client, &hold_url, &at(start)).await;
    let (_, review, _) = post(&client, &details, &DETAILS).await;
    assert_eq!(s.remaining("prova", "visita", "sede", start).await, Some(2));
    let release = attribute(&get(&client, &review).await.2, "/release/", "action").expect("release form");
    let (status, landed, day) = post(&client, &format!("{}{release}", s.base), &[]).await;
    assert_eq!(status, 200, "{day}");
    assert!(landed.contains("/s/visita/o/sede/m/in_person?month=2026-12&day=2026-12-02"), "{landed}");
    assert!(day.contains("Orari liberi di mercoledì 2 dicembre 2026"), "{day}");
    assert_eq!(s.remaining("prova", "visita", "sede", start).await, Some(3));
    assert_eq!(get(&client, &details).await.0, 410);
    let (_, fresh, form) = post(&client, &hold_url, &at(start)).await;
    assert!(fresh.contains("/details/") && fresh != details, "{fresh}");
    assert!(!form.contains("lucia.verdi"), "{form}");
}

/// Step 3 is a month grid that opens on the first free time, bookable in one tap, and says times
/// rather than desk-places; when the current month has nothing left it opens on the next.
async fn step_three_opens_on_the_first_free_time(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    let url = format!("{}/t/prova/s/visita/o/sede/m/in_person", s.base);
    let (_, _, page) = get(&client, &url).await;
    assert!(page.contains(r#"<th scope="col"><abbr title="lunedì">lun</abbr></th>"#), "{page}");
    // December 2026 begins on a Tuesday: Monday's cell is empty.
    let first_week = page.split("<tbody>").nth(1).and_then(|b| b.split("</tr>").next()).expect("a week");
    assert_eq!(first_week.matches("<td>").count(), 7, "{first_week}");
    assert!(first_week.contains(r#"<td></td><td><a href"#), "{first_week}");
    assert!(page.contains(">mercoledì 2 dicembre 2026: 8 orari liberi</span>"), "{page}");
    assert!(!page.contains("posti liberi"), "times, not desk-places");
    assert!(page.contains("Primo orario libero: <strong>martedì 1 dicembre 2026 08:00</strong>"), "{page}");
    let start = attribute(&page, "name=\"start\"", "value").expect("the first free time's form");
    assert_eq!(start, "2026-12-01T08:00:00+01:00");
    let hold = [("service", "visita"), ("office", "sede"), ("mode", "in_person"), ("start", start.as_str())];
    let (_, details, _) = post(&client, &format!("{}/t/prova/hold", s.base), &hold).await;
    assert!(details.contains("/details/"), "one tap holds it: {details}");
    // Step 2 offers the first free time of any office and mode, saying which, one tap away.
    let (_, _, offices) = get(&client, &format!("{}/t/prova/s/visita", s.base)).await;
    let offered = offices.split("class=\"first-free\"").nth(1).expect("the first free time on step 2");
    assert!(offered.contains("martedì 1 dicembre 2026 08:00</strong> · Sede · In presenza"), "{offered}");
    // A day's link leads to its times, in view.
    let day = attribute(&page, "2026-12-02#times", "href").expect("day link");
    assert!(day.ends_with("?month=2026-12&day=2026-12-02#times"), "{day}");

    // A service with one office and one mode skips step 2, and Back from step 3 skips it too.
    let (_, landed, only) = get(&client, &format!("{}/t/limitato/s/visita", s.base)).await;
    assert!(landed.ends_with("/t/limitato/s/visita/o/sede/m/in_person"), "{landed}");
    assert!(only.contains(r#"<p><a class="back-link" href="/t/limitato/">Indietro</a></p>"#), "{only}");

    // The last day of December after closing time: nothing is left this month (1 January is a holiday).
    s.clock.advance(chrono::TimeDelta::days(30) + chrono::TimeDelta::hours(6));
    let (_, _, later) = get(&client, &url).await;
    assert!(later.contains("<h2 id=\"month-heading\">gennaio 2027</h2>"), "{later}");
    assert!(later.contains("Primo orario libero: <strong>sabato 2 gennaio 2027 08:00"), "{later}");
    assert!(later.contains("rel=\"prev\""), "December stays reachable");
}

/// The details form asks for one phone (ticked for WhatsApp), says "required" for what is missing,
/// suggests the address meant, and refuses a text that is too long instead of cutting it.
async fn the_details_form_helps(backend: Backend) {
    let s = TestServer::start(backend).await;
    let client = browser();
    let hold =
        [("service", "visita"), ("office", "sede"), ("mode", "whatsapp"), ("start", "2026-12-02T09:00:00+01:00")];
    let (_, details_url, form) = post(&client, &format!("{}/t/prova/hold", s.base), &hold).await;
    assert!(form.contains(r#"name="whatsapp_same" value="yes" checked"#), "ticked at first: {form}");
    assert!(form.contains(r#"data-unless-ticked="f-whatsapp_same""#), "{form}");
    assert!(!form.contains("maxlength"), "nothing is cut silently: {form}");

    let mut typed: Vec<(&str, String)> =
        [("first_name", "Lucia"), ("last_name", "Verdi"), ("email", ""), ("phone", "06 1234 5678")]
            .map(|(k, v)| (k, v.to_owned()))
            .to_vec();
    typed.extend([("whatsapp_same", "yes".to_owned()), ("privacy_accepted", "yes".to_owned())]);
    typed.push(("details", "x".repeat(201)));
    let send = async |fields: &Vec<(&str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post(&client, &details_url, &fields).await
    };
    let (status, _, page) = send(&typed).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Scrivi il tuo indirizzo email, ad esempio nome@esempio.it"),
        "required, not invalid: {page}"
    );
    assert!(page.contains("Per la videochiamata WhatsApp serve un numero di cellulare"), "on the phone: {page}");
    assert!(page.contains("Il testo è troppo lungo") && page.contains(&"x".repeat(201)), "refused, kept whole");

    // A mistyped provider: asked once, with the fix one tap away.
    typed[2].1 = "lucia@gmial.con".to_owned();
    typed[3].1 = "347 111 2222".to_owned();
    typed.retain(|(k, _)| *k != "details");
    let (status, _, hinted) = send(&typed).await;
    assert_eq!(status, 200, "{hinted}");
    assert!(hinted.contains("forse intendevi lucia@gmail.com?"), "{hinted}");
    let mut fixed = typed.clone();
    fixed.push(("email_fix", "lucia@gmail.com".to_owned()));
    let (_, review_url, review) = send(&fixed).await;
    assert!(review_url.contains("/review/"), "{review_url}");
    assert!(review.contains("lucia@gmail.com"), "{review}");
    assert!(!review.contains("Via Roma 1") && review.contains("<dt>Come</dt>"), "a call says how, not where: {review}");
    assert!(
        review.contains("Contatto per la videochiamata</dt><dd>347 111 2222</dd>"),
        "the phone is the WhatsApp number: {review}"
    );
    // Kept as typed: the second press goes on.
    let mut kept = typed.clone();
    kept.push(("email_checked", "lucia@gmial.con".to_owned()));
    let (_, _, review) = send(&kept).await;
    assert!(review.contains("lucia@gmial.con") && review.contains("Verifica i dati"), "{review}");
}

/// A service that checks answers first (the consortium's pagoPA notices): the notice and its
/// holder's fiscal code are checked before any place is held, the notice's details show only to
/// its holder, and the details form starts with what passed.
async fn a_service_checks_its_answers_before_the_calendar(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.app.apply_all_packs(&sportello_tests::demo_packs_dir()).await.expect("the demo packs");
    let client = browser();
    let base = format!("{}/t/cbtoscananord", s.base);
    let (_, _, services) = get(&client, &format!("{base}/")).await;
    assert!(services.contains(r#"href="/t/cbtoscananord/s/avvisi-pagamento/check""#), "{services}");
    // Neither the calendar nor a hold is reached without the check.
    let calendar = format!("{base}/s/avvisi-pagamento/o/sede-viareggio/m/in_person");
    let (_, landed, check) = get(&client, &calendar).await;
    assert!(landed.ends_with("/s/avvisi-pagamento/check"), "{landed}");
    assert!(check.contains("Passo 2 di 6 · <span class=\"step-name\">Verifica</span>"), "{check}");
    let start = "2026-12-02T08:30:00+01:00";
    let hold = [("service", "avvisi-pagamento"), ("office", "sede-viareggio"), ("mode", "in_person"), ("start", start)];
    let (_, landed, _) = post(&client, &format!("{base}/hold"), &hold).await;
    assert!(landed.ends_with("/check"), "{landed}");
    assert_eq!(s.remaining("cbtoscananord", "avvisi-pagamento", "sede-viareggio", start).await, Some(3));

    let check_url = format!("{base}/s/avvisi-pagamento/check");
    let answers = |code| [("answers.notice_number", "3020 0000 0001 2345 59"), ("fiscal_code", code)];
    let (status, _, refused) = post(&client, &check_url, &answers("BNCGNN80A01H501T")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("Questo avviso non è intestato al codice fiscale che hai scritto"), "{refused}");
    assert!(!refused.contains("123,45"), "nothing of the notice to a stranger");
    let (status, _, refused) = post(&client, &check_url, &answers("RSSMRA85T10A562X")).await;
    assert_eq!(status, 422);
    assert!(refused.contains("Il codice fiscale non è valido"), "{refused}");

    let (status, landed, offices) = post(&client, &check_url, &answers("rssmra85t10a562s")).await;
    assert_eq!(status, 200, "{offices}");
    assert!(landed.ends_with("/s/avvisi-pagamento"), "{landed}");
    assert!(offices.contains("Passo 3 di 6") && offices.contains("Dati verificati."), "{offices}");
    assert!(offices.contains("<dd>€ 123,45</dd>"), "what the rule found: {offices}");
    let (_, _, calendar_page) = get(&client, &calendar).await;
    assert!(calendar_page.contains("Passo 4 di 6") && calendar_page.contains("Dati verificati."), "{calendar_page}");
    let (_, details_url, details) = post(&client, &format!("{base}/hold"), &hold).await;
    assert!(details_url.contains("/details/"), "{details_url}");
    assert!(details.contains(r#"value="302000000001234559""#), "the checked notice, normalised: {details}");
    assert!(details.contains(r#"value="RSSMRA85T10A562S""#), "{details}");
    let mut form: Vec<(&str, &str)> = DETAILS.to_vec();
    form.extend([
        ("answers.notice_number", "302000000001234559"),
        ("fiscal_code", "RSSMRA85T10A562S"),
        ("reason", "chiarimenti"),
    ]);
    let (_, review_url, review) = post(&client, &details_url, &form).await;
    assert!(review_url.contains("/review/") && review.contains("€ 123,45"), "{review}");
    assert!(!review.contains("checked"), "the check's marks are not answers: {review}");
    // Back to another time keeps the check: no second trip through it.
    let later = [("start", "2026-12-02T09:00:00+01:00"), hold[0], hold[1], hold[2]];
    let (_, moved, _) = post(&client, &format!("{base}/hold"), &later).await;
    assert!(moved.contains("/details/"), "{moved}");
    let (_, review_url, _) = post(&client, &moved, &form).await;
    let (status, receipt, _) = post(&client, &review_url.replace("/review/", "/confirm/"), &[]).await;
    assert!(status == 200 && receipt.contains("/booked/"), "{status} {receipt}");
}

on_both_backends!(
    a_service_checks_its_answers_before_the_calendar,
    the_details_form_helps,
    step_three_opens_on_the_first_free_time,
    one_hold_per_booking_in_progress,
    releasing_a_time,
    database_outage_is_said_as_such,
    expired_hold_offers_the_next_free_time,
    book_without_javascript,
    manage_reschedule_and_cancel,
    languages_and_friendly_errors,
    tenant_template_override
);

/// Pages travel gzipped to browsers that accept it, and as they are to those that do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_gzipped_when_accepted() {
    use std::io::Read;

    let s = TestServer::start(Backend::sqlite()).await;
    let url = format!("{}/t/prova/", s.base);
    let plain = browser().get(&url).send().await.unwrap();
    assert_eq!(plain.headers().get("content-encoding"), None);
    assert_eq!(plain.headers().get("vary").map(|v| v.to_str().unwrap()), Some("accept-encoding"));
    let html = plain.text().await.unwrap();
    assert!(html.starts_with("<!doctype html>") && html.len() > 1024, "{} bytes", html.len());

    let gzipped = browser().get(&url).header("Accept-Encoding", "gzip, deflate, br").send().await.unwrap();
    assert_eq!(gzipped.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    let bytes = gzipped.bytes().await.unwrap();
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut decoded).unwrap();
    assert_eq!(decoded, html);
    assert!(bytes.len() * 2 < html.len(), "{} bytes gzipped for {} of HTML", bytes.len(), html.len());

    let refused = browser().get(&url).header("Accept-Encoding", "gzip;q=0, identity").send().await.unwrap();
    assert_eq!(refused.headers().get("content-encoding"), None);
}

/// The installation's home lists the public bodies that take bookings, in the visitor's language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_lists_the_public_bodies() {
    let s = TestServer::start(Backend::sqlite()).await;
    let (status, _, html) = get(&browser(), &format!("{}/", s.base)).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"it\""), "Italian by default");
    assert!(html.contains("Prenota un appuntamento"));
    for tenant in ["prova", "altro", "limitato"] {
        assert!(html.contains(&format!("href=\"/t/{tenant}/\"")), "{tenant} is listed");
    }
    let (_, _, english) = get(&browser(), &format!("{}/?lang=en", s.base)).await;
    assert!(english.contains("Choose the public body you want to book with."));
}

/// Every answer says what a browser may do with it: pages allow only their own scripts and
/// styles (none inline) and no framing; nothing is sniffed or sent as a referrer elsewhere; an
/// answer with personal data is never cached, while a body's colour comes as its own stylesheet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let s = TestServer::start(Backend::sqlite()).await;
    let header = |response: &reqwest::Response, name: &str| {
        response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    for path in ["/t/prova/", "/admin/login", "/t/prova/booking", "/no-such-page"] {
        let response = browser().get(format!("{}{path}", s.base)).send().await.unwrap();
        let policy = header(&response, "content-security-policy");
        for directive in ["script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
        assert!(header(&response, "permissions-policy").contains("camera=()"), "{path}");
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("<style") && !html.contains("style=\""), "{path}: no inline style");
    }
    let admin = browser().get(format!("{}/admin/login", s.base)).send().await.unwrap();
    assert_eq!(header(&admin, "referrer-policy"), "no-referrer", "staff pages keep their stricter policy");
    // Not `--plain-http`: served over HTTPS behind a proxy, so HTTPS only, and a Secure language cookie.
    let english = browser().get(format!("{}/t/prova/?lang=en", s.base)).send().await.unwrap();
    assert_eq!(header(&english, "strict-transport-security"), "max-age=31536000");
    assert!(header(&english, "set-cookie").ends_with("; Secure"), "{}", header(&english, "set-cookie"));

    let (status, hold) = s.hold("prova", "visita", "sede", "in_person", "2026-12-02T09:00:00+01:00").await;
    assert_eq!(status, 201, "{hold}");
    let booked =
        s.http.post(s.url("prova", "/bookings")).json(&sportello_tests::citizen_booking(&hold, "h@example.it"));
    let booked = booked.send().await.unwrap();
    assert_eq!((booked.status().as_u16(), header(&booked, "cache-control")), (201, "no-store".to_owned()));
    let code = booked.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    let seen =
        s.http.get(s.url("prova", &format!("/bookings/{code}"))).header("Booking-Email", "h@example.it").send().await;
    let seen = seen.unwrap();
    assert_eq!((seen.status().as_u16(), header(&seen, "cache-control")), (200, "no-store".to_owned()));
    assert_eq!(header(&seen, "referrer-policy"), "same-origin");

    let (_, _, page) = get(&browser(), &format!("{}/t/prova/", s.base)).await;
    let theme = attribute(&page, "rel=\"stylesheet\" href=\"/t/prova/theme.css", "href").unwrap();
    let css = browser().get(format!("{}{theme}", s.base)).send().await.unwrap();
    assert!(header(&css, "content-type").starts_with("text/css"));
    assert!(header(&css, "cache-control").contains("immutable"));
    assert!(css.text().await.unwrap().contains("--sportello-primary: #"));
    let docs = browser().get(format!("{}/api/docs/", s.base)).send().await.unwrap();
    assert_eq!(docs.status().as_u16(), 200);
    assert_eq!(header(&docs, "content-security-policy"), "", "the interactive docs run their own inline script");
}

/// Every answer names its request: a proxy's plain `X-Request-Id` is kept, anything else replaced;
/// problem bodies carry it; an ordinary error page does not show it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_names_its_request() {
    let s = TestServer::start(Backend::sqlite()).await;
    let asked = |id: &'static str| {
        let request = browser().get(s.url("prova", "/bookings/ABCD-2345")).header("Booking-Email", "x@example.it");
        async move { request.header("x-request-id", id).send().await.unwrap() }
    };
    let kept = asked("req_42-ab").await;
    assert_eq!(kept.headers()["x-request-id"], "req_42-ab");
    let problem: Value = kept.json().await.unwrap();
    assert_eq!((problem["status"].as_u64(), problem["request_id"].as_str()), (Some(404), Some("req_42-ab")));
    let replaced = asked("two words <script>").await;
    let id = replaced.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let (status, _, page) = get(&browser(), &format!("{}/t/prova/no-such-page", s.base)).await;
    assert_eq!(status, 404);
    assert!(!page.contains("<code>") && page.contains("<!--request-id:"), "only a server error shows it");
}

/// `/metrics` times answers by route family — the area and the resource, never a tenant, a code or
/// a made-up path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_timed_by_route_family() {
    let s = TestServer::start(Backend::sqlite()).await;
    assert_eq!(browser().get(s.url("prova", "/services")).send().await.unwrap().status(), 200);
    let made_up = format!("{}/api/v1/t/prova/zz-made-up-{}", s.base, uuid::Uuid::new_v4().simple());
    assert_eq!(browser().get(&made_up).send().await.unwrap().status(), 404);
    let metrics = browser().get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("# TYPE sportello_request_seconds histogram"), "{metrics}");
    let count = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sportello_request_seconds_count{route=\"api /t/:tenant/services\"} "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(count.is_some_and(|n| n >= 1), "{metrics}");
    assert!(metrics.contains("sportello_request_seconds_bucket{route=\"api /t/:tenant/services\",le=\"+Inf\"}"));
    assert!(metrics.contains("route=\"not_found\""));
    assert!(!metrics.contains("zz-made-up") && !metrics.contains("route=\"api /t/prova"), "{metrics}");
}
