//! HTTP: the public API (poem-openapi), health endpoints, problem JSON.
//!
//! Invariant: only this module knows poem. Handlers parse input into domain values, call one
//! use case, and map its result; `problem.rs` is the only place errors become responses.

mod admin;
mod citizen_rights;
mod compress;
mod dto;
mod metrics;
mod open_data;
mod problem;
mod public;

use std::sync::Arc;
use std::time::Instant;

use poem::http::StatusCode;
use poem::web::{Json, Path};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, get, handler};
use poem_openapi::OpenApiService;

use crate::app::Sportello;
use crate::holds::HoldHealth;
use crate::web::{TranslationError, Web, WebOptions};
use problem::{ProblemResponse, from_framework_error};
pub use public::HttpOptions;
use public::PublicApi;

/// Request bodies above these are refused with 413 before they are read: a citizen's, a staff
/// member's (a large tenant's configuration text), and a logo upload (its cap and a form's
/// envelope).
const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_ADMIN_BODY_BYTES: usize = 1024 * 1024;
const MAX_LOGO_BODY_BYTES: usize = crate::packs::MAX_LOGO_BYTES + 16 * 1024;
/// A compressed pack archive: never more than it unpacks to.
const MAX_PACK_BODY_BYTES: usize = crate::packs::MAX_ARCHIVE_BYTES as usize + 16 * 1024;
/// A dataset (the larger of a dataset and a plugin module) and a form's envelope.
const MAX_FILE_BODY_BYTES: usize = crate::packs::MAX_DATASET_BYTES + 16 * 1024;

fn body_limit(path: &str) -> usize {
    let admin = path.starts_with("/admin/") || path.starts_with("/api/v1/admin/");
    let mut segments = path.rsplit('/');
    let (last, before) = (segments.next().unwrap_or_default(), segments.next().unwrap_or_default());
    match (admin, last, before) {
        (false, _, _) => MAX_BODY_BYTES,
        (true, "logo", _) => MAX_LOGO_BODY_BYTES,
        (true, "pack", _) => MAX_PACK_BODY_BYTES,
        (true, "datasets" | "plugins", _) | (true, _, "datasets" | "plugins") => MAX_FILE_BODY_BYTES,
        (true, _, _) => MAX_ADMIN_BODY_BYTES,
    }
}

/// Every route of the server.
pub fn routes(app: Sportello, options: HttpOptions, web: WebOptions) -> Result<impl Endpoint, TranslationError> {
    let (pages, page_state) = crate::web::routes(app.clone(), web, options.trust_forwarded_for, options.plain_http)?;
    let page_state_for_errors = page_state.clone();
    let admin = || admin::AdminApi { app: app.clone(), options };
    let apis = (
        PublicApi { app: app.clone(), options },
        open_data::OpenDataApi { app: app.clone() },
        citizen_rights::CitizenRightsApi { app: app.clone(), options },
        admin(),
        admin::PartsApi { admin: admin() },
        admin::SettingsApi { admin: admin() },
        admin::StaffApi { admin: admin() },
        admin::ApiKeysApi { admin: admin() },
        admin::PacksApi { admin: admin() },
        admin::WebhooksApi { admin: admin() },
        admin::FeedsApi { admin: admin() },
        admin::DeskApi { admin: admin() },
        admin::StatisticsApi { admin: admin() },
    );
    let api = OpenApiService::new(apis, "Sportello", env!("CARGO_PKG_VERSION"))
        .description("Appointment booking for public bodies. Errors are RFC 9457 problem details.")
        .server("/api/v1");
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    Ok(pages
        .nest("/api/v1", api)
        .at("/api/v1/openapi.json", spec)
        .nest("/api/docs", docs)
        .at("/api/v1/t/:tenant/logo", get(logo))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics::metrics))
        .data(app)
        .data(page_state.clone())
        .around(limit_body)
        .around(move |next, req| answer_errors(next, req, page_state_for_errors.clone()))
        .around(move |next, req| security_headers(next, req, options.plain_http))
        .around(compress::gzip_text)
        .around(log_request))
}

/// What a page may load and run: its own scripts, styles, images and fonts (and `data:` images,
/// which the design system's stylesheet uses), no inline script or style, no plugin, no framing,
/// forms posted only to itself.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
     object-src 'none'";

/// Headers every answer carries unless its handler chose otherwise: no content sniffing, no
/// referrer beyond the site, no powerful browser features; pages get `PAGE_POLICY` (the API's
/// interactive docs, a third-party page with inline scripts, keep their own); and what says
/// nothing about caching is not cached, so no answer with personal data stays in a cache.
///
/// Served over HTTPS (behind a proxy: every deployment but `plain_http`), browsers are told to
/// keep to HTTPS for a year (HSTS; a browser ignores it over plain HTTP).
async fn security_headers<E: Endpoint>(next: E, req: Request, plain_http: bool) -> poem::Result<Response> {
    use poem::http::HeaderValue;
    let path = req.uri().path();
    let docs = path.starts_with("/api/docs");
    let described = docs || path == "/api/v1/openapi.json";
    let id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let mut response = next.call(req).await?.into_response();
    response = with_request_id(response, &id).await;
    // The API's description changes only with a release: browsers may keep it a while.
    if described {
        response.headers_mut().entry("cache-control").or_insert(HeaderValue::from_static("public, max-age=300"));
    }
    let is_page = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let headers = response.headers_mut();
    let defaults = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"),
        ("cache-control", "no-store"),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    if !plain_http {
        headers.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000"));
    }
    if is_page && !docs {
        headers.insert("content-security-policy", HeaderValue::from_static(PAGE_POLICY));
    }
    Ok(response)
}

/// The longest request target served; hyper's own limit is higher and answers with an empty body.
const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes served, for the same reason.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Answers every error the router or framework raises (unknown route, bad JSON or form, too
/// large): problem JSON for the API, the error page in the visitor's language for pages.
async fn answer_errors<E: Endpoint>(next: E, req: Request, pages: Arc<Web>) -> poem::Result<Response> {
    let path = req.uri().path();
    let is_page = !(path.starts_with("/api/") || matches!(path, "/metrics" | "/healthz" | "/readyz"));
    // What the error page needs to pick a language, kept before the request is handed on.
    let asker = is_page.then(|| language_of(&req));
    let header_bytes: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    let refused = if req.uri().to_string().len() > MAX_URI_BYTES {
        Some(StatusCode::URI_TOO_LONG)
    } else if header_bytes > MAX_HEADER_BYTES {
        Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
    } else {
        None
    };
    let result = match refused {
        Some(status) => Err(poem::Error::from_status(status)),
        None => next.call(req).await.map(IntoResponse::into_response),
    };
    let err = match result {
        Ok(response) => return Ok(response),
        Err(err) if err.is_from_response() => return Ok(err.into_response()),
        Err(err) => err,
    };
    let status = err.status();
    let mut response = match asker {
        Some(asker) => pages.status_page(&asker, status),
        None => {
            let problem = from_framework_error(&err);
            Response::builder()
                .status(status)
                .content_type("application/problem+json")
                .body(poem_openapi::types::ToJSON::to_json_string(&problem))
        }
    };
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is left unread, so this connection cannot carry another request.
        response.headers_mut().insert("Connection", poem::http::HeaderValue::from_static("close"));
    }
    Ok(response)
}

/// A copy of the parts of `req` that choose a page's language.
fn language_of(req: &Request) -> Request {
    let mut copy = Request::builder().uri(req.uri().clone());
    for name in ["cookie", "accept-language"] {
        if let Some(value) = req.headers().get(name) {
            copy = copy.header(name, value.clone());
        }
    }
    copy.finish()
}

/// Large uploads read at once, at most: each may hold tens of MiB in memory until it is checked.
static LARGE_UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Reads at most the path's limit of a body, with or without `Content-Length`, and refuses more.
/// A body above the staff's usual limit needs credentials, and waits its turn among few.
async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<E::Output> {
    let credentials = req.header("authorization").is_some() || req.header("cookie").is_some();
    let limit = match body_limit(req.uri().path()) {
        large if large > MAX_ADMIN_BODY_BYTES && !credentials => MAX_ADMIN_BODY_BYTES,
        limit => limit,
    };
    let _turn = match limit > MAX_ADMIN_BODY_BYTES {
        true => Some(LARGE_UPLOADS.try_acquire().map_err(|_| {
            poem::Error::from_string("Other uploads are being read: try again shortly.", StatusCode::TOO_MANY_REQUESTS)
        })?),
        false => None,
    };
    let too_large = || {
        let text = format!("The request body is larger than {} KiB.", limit / 1024);
        poem::Error::from_string(text, StatusCode::PAYLOAD_TOO_LARGE)
    };
    let declared = req.header("content-length").and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let body = req.take_body().into_bytes_limit(limit).await.map_err(|_| too_large())?;
    req.set_body(Body::from(body));
    next.call(req).await
}

/// Logs method, path, status and latency. Never the query string: it may carry a booking's token; nor the
/// secret of an invitation link, which would let whoever reads the log redeem it.
async fn log_request<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    use tracing::Instrument;
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let (method, path, started) = (req.method().clone(), loggable(req.uri().path()), Instant::now());
    // Every line logged while answering carries the request's id.
    let span = tracing::info_span!("request", id = %id);
    let mut response = next.get_response(req).instrument(span.clone()).await;
    span.in_scope(|| {
        let (status, ms) = (response.status().as_u16(), started.elapsed().as_millis() as u64);
        tracing::info!(%method, %path, status, ms, "request");
    });
    if let Ok(value) = poem::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// The id of one request, in its log lines, its `X-Request-Id` answer header, its problem body
/// and its error page: what a citizen's "error code" leads to.
#[derive(Clone, Debug)]
struct RequestId(String);

/// A proxy's `X-Request-Id` when it is a plain token (letters, digits, `-`, `_`; up to 64), so
/// that its logs and ours line up; otherwise one made here.
fn request_id(req: &Request) -> String {
    let plain = |v: &&str| {
        (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match req.header("x-request-id").filter(plain) {
        Some(given) => given.to_owned(),
        None => format!("{:016x}", rand::random::<u64>()),
    }
}

/// `response` with the request's id written into it where a person will read it: the
/// `request_id` of a problem body, and the marked place of a server-error page.
async fn with_request_id(response: Response, id: &str) -> Response {
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let problem = kind.starts_with("application/problem+json");
    let error_page = kind.starts_with("text/html") && response.status().is_server_error();
    if !problem && !error_page {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = body.into_bytes().await else { return Response::from_parts(parts, Body::empty()) };
    let body = if problem {
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(mut object)) => {
                object.insert("request_id".to_owned(), serde_json::Value::from(id));
                Body::from(serde_json::Value::Object(object).to_string())
            }
            _ => Body::from(bytes),
        }
    } else {
        Body::from(show_request_id(&String::from_utf8_lossy(&bytes), id))
    };
    let mut response = Response::from_parts(parts, body);
    response.headers_mut().remove("content-length");
    response
}

/// Where an error page may show the request's id (`error.hbs`), with its label in the page's
/// language: `<!--request-id:Label-->`, shown only on a server error (a comment elsewhere).
const REQUEST_ID_MARK: &str = "<!--request-id:";

fn show_request_id(page: &str, id: &str) -> String {
    let Some(start) = page.find(REQUEST_ID_MARK) else { return page.to_owned() };
    let label_at = start + REQUEST_ID_MARK.len();
    let Some(length) = page.get(label_at..).and_then(|rest| rest.find("-->")) else { return page.to_owned() };
    let label = page.get(label_at..label_at + length).unwrap_or_default();
    let after = page.get(label_at + length + 3..).unwrap_or_default();
    format!("{}<p class=\"meta\">{label} <code>{id}</code></p>{after}", page.get(..start).unwrap_or_default())
}

/// `path` with the secret segment of an invitation or booking link replaced.
fn loggable(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').collect();
    // `/t/{tenant}/b/{token}` and `/t/{tenant}/cancel/{token}` carry a booking link's token,
    // `/t/{tenant}/feeds/{office}/{token}.ics` an office feed's.
    let tenant_page = segments.get(1) == Some(&"t");
    let secret_after = match segments.get(3) {
        Some(&"b" | &"cancel") if tenant_page => Some(3),
        Some(&"feeds") if tenant_page => Some(4),
        _ => segments.iter().position(|s| *s == "invitation" || *s == "invitations"),
    };
    if let Some(secret) = secret_after.and_then(|i| segments.get_mut(i + 1)).filter(|s| !s.is_empty()) {
        *secret = ":token";
    }
    segments.join("/")
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(app: poem::web::Data<&Sportello>) -> Response {
    let (database, holds) = app.check_ready().await;
    // Degraded holds still serve (the database decides capacity), so they do not make us unready.
    let ready = database.is_ok();
    let (holds_status, holds_detail) = match holds {
        HoldHealth::Ok => ("ok", None),
        HoldHealth::Degraded(detail) => ("degraded", Some(detail)),
    };
    // A backlog is information, not unreadiness: the messages wait safely in the database.
    let outbox = match app.outbox_backlog().await {
        Ok(backlog) => serde_json::json!({
            "waiting": backlog.waiting,
            "oldest_seconds": backlog.oldest.map(|at| (chrono::Utc::now() - at).num_seconds().max(0)),
            "failed": backlog.failed,
        }),
        Err(_) => serde_json::Value::Null,
    };
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": { "database": if ready { "ok" } else { "unavailable" }, "holds": holds_status },
        "detail": { "holds": holds_detail },
        "outbox": outbox,
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    Json(body).with_status(status).into_response()
}

#[handler]
async fn logo(app: poem::web::Data<&Sportello>, Path(tenant): Path<String>) -> poem::Result<Response> {
    // Only a missing tenant or logo is a 404; an outage is said as one.
    let snapshot =
        app.tenant(&tenant).await.map_err(|e| poem::Error::from_response(ProblemResponse::from(e).into_response()))?;
    let (bytes, content_type) = snapshot.logo.clone().ok_or_else(|| poem::Error::from_status(StatusCode::NOT_FOUND))?;
    Ok(Response::builder()
        .content_type(content_type)
        .header("Cache-Control", "public, max-age=3600")
        .header("X-Content-Type-Options", "nosniff")
        // An SVG opened on its own is a document: it may run nothing and fetch nothing.
        .header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::{loggable, show_request_id};

    #[test]
    fn a_server_error_page_shows_the_request_id_where_marked() {
        let page = "<main><h1>Errore</h1><!--request-id:Codice:--></main>";
        assert_eq!(
            show_request_id(page, "ab12"),
            "<main><h1>Errore</h1><p class=\"meta\">Codice: <code>ab12</code></p></main>"
        );
        assert_eq!(show_request_id("<p>no mark</p>", "ab12"), "<p>no mark</p>");
        assert_eq!(show_request_id("<!--request-id:unclosed", "ab12"), "<!--request-id:unclosed");
    }

    #[test]
    fn invitation_secrets_stay_out_of_the_log() {
        let secret = "ab".repeat(32);
        assert_eq!(loggable(&format!("/admin/invitation/{secret}")), "/admin/invitation/:token");
        assert_eq!(
            loggable(&format!("/api/v1/admin/invitations/{secret}/acceptance")),
            "/api/v1/admin/invitations/:token/acceptance"
        );
        assert_eq!(loggable("/api/v1/admin/invitations"), "/api/v1/admin/invitations");
        assert_eq!(loggable("/t/prova/b/abc.def/calendar.ics"), "/t/prova/b/:token/calendar.ics");
        assert_eq!(loggable("/t/prova/cancel/abc.def"), "/t/prova/cancel/:token");
        assert_eq!(loggable("/t/prova/feeds/sede/0123abcd.ics"), "/t/prova/feeds/sede/:token");
        assert_eq!(loggable("/t/prova/booking/cancel"), "/t/prova/booking/cancel");
        assert_eq!(loggable("/t/prova/booking"), "/t/prova/booking");
    }
}
