//! An office's display board (`/t/{tenant}/board/{office}`), for a screen in the waiting room:
//! the latest call in big type and the earlier ones, ticket codes and desks only. It updates by
//! server push (`…/events`, Server-Sent Events, see `push.rs`): a call made on any instance shows
//! on every board within a second. Without JavaScript the page reloads itself.

use poem::web::Path;
use poem::web::sse::SSE;
use poem::{Request, handler};
use serde::Serialize;

use super::push::pushed;
use super::{Page, WebData};
use crate::app::{AppError, OfficeQueue};

#[derive(Serialize, PartialEq)]
struct CallView {
    ticket: String,
    desk: Option<String>,
    time: String,
}

#[derive(Serialize)]
struct BoardView {
    office_name: String,
    events_url: String,
    latest: Option<CallView>,
    earlier: Vec<CallView>,
}

fn calls(queue: &OfficeQueue) -> Vec<CallView> {
    queue
        .calls()
        .into_iter()
        .map(|c| CallView {
            ticket: c.ticket,
            desk: c.desk,
            time: c.at.with_timezone(&queue.office.timezone).format("%H:%M").to_string(),
        })
        .collect()
}

/// What a board's script receives: the calls, the latest first.
fn calls_json(queue: &OfficeQueue) -> String {
    serde_json::json!({ "calls": calls(queue) }).to_string()
}

#[handler]
pub async fn board_page(web: WebData<'_>, request: &Request, Path((tenant, office)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let queue = match web.app.office_queue(&tenant, &office).await {
        Ok(queue) => queue,
        Err(error) => return Ok(web.failure(&visit, &error, Some(visit.home()))),
    };
    let mut calls = calls(&queue).into_iter();
    let view = BoardView {
        office_name: queue.office.name.clone(),
        events_url: format!("/t/{tenant}/board/{office}/events"),
        latest: calls.next(),
        earlier: calls.collect(),
    };
    Ok(web.show(&visit, "board", &view))
}

#[handler]
pub async fn board_events(web: WebData<'_>, Path((tenant, office)): Path<(String, String)>) -> poem::Result<SSE> {
    web.app.office_queue(&tenant, &office).await.map_err(refused)?;
    Ok(pushed("calls", web.queues.follow(&web.app, &tenant, &office), calls_json))
}

/// A stream's refusal as a bare status (an event stream has no page to show).
pub(super) fn refused(error: AppError) -> poem::Error {
    poem::Error::from_status(crate::web::status_of(&crate::outcome::Outcome::of(&error)))
}
