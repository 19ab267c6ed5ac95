//! HTTP: the public API (poem-openapi), health endpoints, problem JSON.
//!
//! Invariant: only this module knows poem. Handlers parse input into domain values, call one
//! use case, and map its result; `problem.rs` is the only place errors become responses.

mod admin;
mod citizen_rights;
mod compress;
mod dto;
mod headers;
mod latency;
mod metrics;
mod open_data;
mod patience;
mod problem;
mod public;
mod request_id;

use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::web::{Json, Path};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, get, handler};
use poem_openapi::OpenApiService;

use crate::app::Sportello;
use crate::holds::HoldHealth;
use crate::web::{TranslationError, Web, WebOptions};
pub use patience::Patience;
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
        .around(move |next, req| limit_body(next, req, options.patience.body))
        .around(move |next, req| limit_time(next, req, options.patience.answer))
        .around(move |next, req| answer_errors(next, req, page_state_for_errors.clone()))
        .around(move |next, req| headers::security_headers(next, req, options.plain_http))
        .around(compress::gzip_text)
        .around(log_request))
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
    if matches!(status, StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT) {
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
async fn limit_body<E: Endpoint>(next: E, mut req: Request, patience: Duration) -> poem::Result<E::Output> {
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
    let body = tokio::time::timeout(patience, req.take_body().into_bytes_limit(limit))
        .await
        .map_err(|_| patience::body_too_slow(patience))?
        .map_err(|_| too_large())?;
    req.set_body(Body::from(body));
    next.call(req).await
}

/// Answers "unavailable" when the answer takes longer than `limit`; the work is dropped (a
/// transaction in progress rolls back). Beside `/readyz`, the one such answer `outcome.rs` does not
/// decide: no use case failed, the client has waited long enough.
async fn limit_time<E: Endpoint>(next: E, req: Request, limit: Duration) -> poem::Result<Response> {
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(answer) => answer.map(IntoResponse::into_response),
        Err(_) => {
            tracing::warn!(seconds = limit.as_secs(), "an answer took too long and was given up");
            Err(poem::Error::from_string("The answer took too long: try again.", StatusCode::SERVICE_UNAVAILABLE))
        }
    }
}

/// Logs method, path, status and latency. Never the query string: it may carry a booking's token; nor the
/// secret of an invitation link, which would let whoever reads the log redeem it.
async fn log_request<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    use tracing::Instrument;
    let id = request_id::of(&req);
    req.extensions_mut().insert(request_id::RequestId(id.clone()));
    let (method, path, started) = (req.method().clone(), loggable(req.uri().path()), Instant::now());
    // Every line logged while answering carries the request's id.
    let span = tracing::info_span!("request", id = %id);
    let mut response = next.get_response(req).instrument(span.clone()).await;
    let (status, took) = (response.status().as_u16(), started.elapsed());
    latency::record(latency::family(&path, status), took);
    span.in_scope(|| tracing::info!(%method, %path, status, ms = took.as_millis() as u64, "request"));
    if let Ok(value) = poem::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
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
    use super::loggable;

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
