//! The links in a citizen's e-mails, which carry a signed token instead of the e-mail address:
//! the booking's page (`/t/{tenant}/b/{token}`), its calendar entry, and the one-click cancel
//! (`/t/{tenant}/cancel/{token}`): opening it (GET) only asks, so that mail scanners which open
//! every link cancel nothing; the button (POST) cancels.

use poem::web::Path;
use poem::{Request, Response, handler};

use super::views::BookingView;
use super::{Page, Visit, WebData, stop};
use crate::app::{AppError, LinkPurpose};
use crate::calendar::{CalendarUse, booking_calendar};
use crate::domain::Booking;
use crate::web::Web;

impl Web {
    /// The tenant's visit and the booking `token` names for `purpose`, or the page that says why
    /// not (not valid, expired).
    async fn linked(
        &self,
        request: &Request,
        tenant: &str,
        token: &str,
        purpose: LinkPurpose,
    ) -> Page<(Visit, Booking)> {
        let visit = self.visit(request, tenant).await?;
        match self.app.booking_by_link(tenant, token, purpose).await {
            Ok((_, booking)) => Ok((visit, booking)),
            Err(error) => Err(stop(self.failure(&visit, &error, Some(visit.home())))),
        }
    }
}

/// The booking's page, as after a search by code and e-mail.
#[handler]
pub async fn linked_booking(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, token)): Path<(String, String)>,
) -> Page {
    let (visit, booking) = web.linked(request, &tenant, &token, LinkPurpose::Manage).await?;
    Ok(web.show(&visit, "booking", &web.booking_view(&visit, &booking)))
}

/// The booking's calendar entry, for a manage link's holder.
#[handler]
pub async fn linked_calendar(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, token)): Path<(String, String)>,
) -> Page {
    let (visit, booking) = web.linked(request, &tenant, &token, LinkPurpose::Manage).await?;
    let ics = booking_calendar(&visit.tenant.config, &booking, CalendarUse::Download);
    Ok(Response::builder()
        .content_type("text/calendar; charset=utf-8")
        .header("Content-Disposition", format!("attachment; filename=\"{}.ics\"", booking.code.as_str()))
        .header("Cache-Control", "no-store")
        .body(ics))
}

/// One-click cancel, first step: the booking and one button.
#[handler]
pub async fn cancel_link_page(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, token)): Path<(String, String)>,
) -> Page {
    let (visit, booking) = web.linked(request, &tenant, &token, LinkPurpose::Cancel).await?;
    if !booking.status.is_changeable() {
        return Ok(web.failure(&visit, &AppError::NotChangeable, Some(visit.home())));
    }
    // The cancel link's holder may cancel, not manage: the page carries no manage token.
    let view = BookingView {
        ask_cancel: true,
        cancel_action: format!("/t/{tenant}/cancel/{token}"),
        token: String::new(),
        ..web.booking_view(&visit, &booking)
    };
    Ok(web.show(&visit, "booking", &view))
}

/// One-click cancel, second step: cancelled (once: a second press says it is no longer possible).
#[handler]
pub async fn cancel_by_link(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, token)): Path<(String, String)>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    Ok(match web.app.cancel_by_link(&tenant, &token).await {
        Ok(cancelled) => web.show(&visit, "cancelled", &web.booking_view(&visit, &cancelled.booking)),
        Err(error) => web.failure(&visit, &error, Some(visit.home())),
    })
}
