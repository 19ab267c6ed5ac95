//! A body's colour as a stylesheet of its own, so that no page needs an inline style (the pages'
//! Content-Security-Policy allows none). Its address carries the colour: a new colour is a new
//! address, so the file may be cached for good.

use poem::http::StatusCode;
use poem::web::Path;
use poem::{Response, handler};

use super::WebData;

#[handler]
pub async fn theme_css(web: WebData<'_>, Path(tenant): Path<String>) -> Response {
    match web.app.tenant(&tenant).await {
        Ok(snapshot) => Response::builder()
            .content_type("text/css; charset=utf-8")
            .header("Cache-Control", "public, max-age=31536000, immutable")
            // The colour is checked as `#rrggbb` when the configuration is read: nothing else gets in.
            .body(format!(":root {{ --sportello-primary: {}; }}\n", snapshot.config.branding.primary_color)),
        Err(_) => Response::builder().status(StatusCode::NOT_FOUND).finish(),
    }
}

/// The address of `slug`'s stylesheet for `color`.
pub fn theme_url(slug: &str, color: &str) -> String {
    format!("/t/{slug}/theme.css?c={}", color.trim_start_matches('#'))
}
