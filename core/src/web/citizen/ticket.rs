//! A citizen's ticket on their phone (`/t/{tenant}/board/{office}/ticket/{ticket}`, the QR code on
//! the desk's ticket): how many are before them and about how long, or which desk to go to,
//! updated by server push. A ticket code says nothing of its holder, so the page is public.

use poem::web::Path;
use poem::web::sse::SSE;
use poem::{Request, handler};
use serde::Serialize;

use super::board::refused;
use super::push::pushed;
use super::{Page, WebData};
use crate::app::{AppError, OfficeQueue, TicketState};
use crate::domain::Locale;
use crate::web::Web;

#[derive(Serialize)]
struct TicketView {
    ticket: String,
    office_name: String,
    state: &'static str,
    text: String,
    events_url: String,
    board_url: String,
    /// The page's own address as a QR code: a printed slip takes the phone here.
    qr_svg: Option<String>,
}

impl Web {
    /// What ticket `code`'s state says, in `locale`: its class and its sentence (a ticket no
    /// longer there — its check-in undone — is no longer in the queue).
    fn ticket_text(&self, locale: Locale, queue: &OfficeQueue, code: &str) -> (&'static str, String) {
        let state = queue.find(code).map_or(TicketState::Done, |ticket| queue.state(ticket));
        match &state {
            TicketState::Waiting { ahead, wait } => {
                let ahead_text = self.render.text(locale, "ticket-waiting", &[("ahead", ahead.to_string())]);
                let wait_text = wait.map(|w| {
                    let minutes = (w.num_seconds() + 59) / 60;
                    self.render.text(locale, "ticket-wait", &[("minutes", minutes.to_string())])
                });
                ("waiting", wait_text.map_or_else(|| ahead_text.clone(), |w| format!("{ahead_text} {w}")))
            }
            TicketState::Called { desk: Some(desk) } => {
                ("called", self.render.text(locale, "ticket-called", &[("desk", desk.clone())]))
            }
            TicketState::Called { desk: None } => ("called", self.render.text(locale, "ticket-called-now", &[])),
            TicketState::Done => ("done", self.render.text(locale, "ticket-done", &[])),
        }
    }
}

#[handler]
pub async fn ticket_page(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office, ticket)): Path<(String, String, String)>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let (queue, code) = match ticket_of(&web, (&tenant, &office), &ticket).await {
        Ok(found) => found,
        Err(error) => return Ok(web.failure(&visit, &error, Some(visit.home()))),
    };
    let (state, text) = web.ticket_text(visit.locale, &queue, &code);
    let board_url = format!("/t/{tenant}/board/{office}");
    let own = web.app.public_address(&format!("{board_url}/ticket/{code}"));
    let view = TicketView {
        qr_svg: crate::app::qr_svg(&own, 160).ok(),
        events_url: format!("{board_url}/ticket/{code}/events?lang={}", visit.locale.code()),
        ticket: code,
        office_name: queue.office.name.clone(),
        state,
        text,
        board_url,
    };
    Ok(web.show(&visit, "ticket", &view))
}

#[handler]
pub async fn ticket_events(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office, ticket)): Path<(String, String, String)>,
) -> poem::Result<SSE> {
    let visit = web.visit(request, &tenant).await?;
    let (_, code) = ticket_of(&web, (&tenant, &office), &ticket).await.map_err(refused)?;
    let (web, locale) = (web.0.clone(), visit.locale);
    let follower = web.queues.follow(&web.app, &tenant, &office);
    Ok(pushed("ticket", follower, move |queue| {
        let (state, text) = web.ticket_text(locale, queue, &code);
        serde_json::json!({ "state": state, "text": text }).to_string()
    }))
}

/// The office's queue and the ticket as it is written there; not found when there is no such
/// ticket today.
async fn ticket_of(web: &Web, (tenant, office): (&str, &str), ticket: &str) -> Result<(OfficeQueue, String), AppError> {
    let queue = web.app.office_queue(tenant, office).await?;
    let code = queue.find(ticket).map(|t| t.ticket.clone()).ok_or(AppError::NotFound("ticket"))?;
    Ok((queue, code))
}
