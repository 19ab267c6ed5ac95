//! An office's calendar feed at its secret address, for calendar programs: the calendar, or a
//! bare status (not found for any wrong part of the address; unavailable when the database is away).

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Response, handler};

use super::Web;
use crate::outcome::Outcome;

#[handler]
pub async fn office_feed(
    web: Data<&Arc<Web>>,
    Path((tenant, office, file)): Path<(String, String, String)>,
) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or_default();
    match web.app.office_calendar(&tenant, &office, token).await {
        Ok(ics) => Response::builder()
            .content_type("text/calendar; charset=utf-8")
            .header("Cache-Control", "private, no-store")
            .header("X-Robots-Tag", "noindex")
            .body(ics),
        Err(error) => {
            let outcome = Outcome::of(&error);
            let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Response::builder().status(status).content_type("text/plain; charset=utf-8").body(outcome.title)
        }
    }
}
