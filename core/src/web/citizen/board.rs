//! An office's display board (`/t/{tenant}/board/{office}`), for a screen in the waiting room:
//! the latest call in big type and the earlier ones, ticket codes and desks only. It updates by
//! server push (`…/events`, Server-Sent Events): every connection looks at the office's calls
//! a few times a second, so a call made on any instance shows on every board within a second;
//! without JavaScript the page reloads itself.

use std::time::Duration;

use poem::web::Path;
use poem::web::sse::{Event, SSE};
use poem::{Request, handler};
use serde::Serialize;

use super::{Page, WebData};
use crate::app::{AppError, Board, Sportello};

/// How often a board's connection looks for new calls.
const POLL: Duration = Duration::from_millis(400);

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

fn calls(board: &Board) -> Vec<CallView> {
    board
        .calls
        .iter()
        .map(|c| CallView {
            ticket: c.ticket.clone(),
            desk: c.desk.clone(),
            time: c.at.with_timezone(&board.timezone).format("%H:%M").to_string(),
        })
        .collect()
}

/// What a board's script receives: the calls, the latest first.
fn calls_json(board: &Board) -> String {
    serde_json::json!({ "calls": calls(board) }).to_string()
}

#[handler]
pub async fn board_page(web: WebData<'_>, request: &Request, Path((tenant, office)): Path<(String, String)>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let board = match web.app.board(&tenant, &office).await {
        Ok(board) => board,
        Err(error) => return Ok(web.failure(&visit, &error, Some(visit.home()))),
    };
    let mut calls = calls(&board).into_iter();
    let view = BoardView {
        office_name: board.office_name.clone(),
        events_url: format!("/t/{tenant}/board/{office}/events"),
        latest: calls.next(),
        earlier: calls.collect(),
    };
    Ok(web.show(&visit, "board", &view))
}

#[handler]
pub async fn board_events(web: WebData<'_>, Path((tenant, office)): Path<(String, String)>) -> poem::Result<SSE> {
    let refused = |e: AppError| poem::Error::from_status(super::status_of(&crate::outcome::Outcome::of(&e)));
    let board = web.app.board(&tenant, &office).await.map_err(refused)?;
    let first = calls_json(&board);
    let state = (web.app.clone(), tenant, office, first.clone(), Some(first));
    let stream = futures::stream::unfold(state, |(app, tenant, office, shown, pending)| async move {
        if let Some(json) = pending {
            return Some((Event::message(json).event_type("calls"), (app, tenant, office, shown, None)));
        }
        let json = next_change(&app, (&tenant, &office), &shown).await?;
        Some((Event::message(json.clone()).event_type("calls"), (app, tenant, office, json, None)))
    });
    Ok(SSE::new(stream).keep_alive(Duration::from_secs(15)))
}

/// Waits until the office's calls differ from `shown`; `None` ends the stream (the office or its
/// body is gone). A failed look (the database busy) is tried again.
async fn next_change(app: &Sportello, (tenant, office): (&str, &str), shown: &str) -> Option<String> {
    loop {
        tokio::time::sleep(POLL).await;
        match app.board(tenant, office).await {
            Ok(board) => {
                let json = calls_json(&board);
                if json != shown {
                    return Some(json);
                }
            }
            Err(AppError::Store(_) | AppError::Busy) => continue,
            Err(_) => return None,
        }
    }
}
