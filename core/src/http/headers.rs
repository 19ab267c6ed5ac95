//! The headers every answer carries: what a browser may do with a page, and that nothing is cached
//! unless said; the request's id written where a person reads it.

use poem::{Endpoint, IntoResponse, Request, Response};

use super::request_id::{RequestId, with_request_id};

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
pub(super) async fn security_headers<E: Endpoint>(next: E, req: Request, plain_http: bool) -> poem::Result<Response> {
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
