//! The counter queue: a ticket of the day at check-in, "call next" by the body's rule, and the
//! calls a display board shows (public: ticket codes and desks, nothing personal).

use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta};

use super::StaffSession;
use crate::app::{AppError, Sportello, TenantSnapshot};
use crate::domain::queue::{Waiting, ticket_code};
use crate::domain::text::single_line;
use crate::domain::{Booking, BookingStatus, Channel};
use crate::store::{Call, Desk, Queue, WriteTx};

use super::desk::{DeskBooking, local_midnight};

/// The calls a board shows.
pub const BOARD_CALLS: u64 = 8;

/// A desk's name as an operator gives it ("Sportello 3"): one line, up to 40 characters.
pub(super) fn desk_name(raw: &str) -> Result<String, AppError> {
    single_line(raw, 40).filter(|d| !d.is_empty()).ok_or_else(|| {
        AppError::field("desk", "invalid_desk", "Name the desk on one line, up to 40 characters (e.g. Sportello 3).")
    })
}

/// What a display board shows.
pub struct Board {
    pub tenant: Arc<TenantSnapshot>,
    pub office_name: String,
    pub timezone: chrono_tz::Tz,
    /// The day's calls, the latest first.
    pub calls: Vec<Call>,
}

impl Sportello {
    /// Gives `booking` the next ticket of its kind at its office today, inside the check-in's
    /// transaction: walk-ins (booked at the counter) and appointments count apart.
    pub(super) async fn give_ticket(
        &self,
        tx: &WriteTx,
        tenant: &TenantSnapshot,
        booking: &Booking,
        day: NaiveDate,
    ) -> Result<String, AppError> {
        let queue = &tenant.config.queue;
        let prefix = if booking.channel == Channel::Counter { queue.walk_in_prefix } else { queue.appointment_prefix };
        let office = booking.office.as_str();
        Queue::lock_office_day(tx.conn(), tenant.id, office, day).await?;
        let number = Queue::last_number(tx.conn(), tenant.id, office, day, prefix).await? + 1;
        let code = ticket_code(prefix, number);
        Queue::give_ticket(tx.conn(), tenant.id, booking.id, (day, number, &code)).await?;
        Ok(code)
    }

    /// Calls the next waiting citizen of `office` to `desk`, by the body's rule; two operators
    /// calling at once never get the same one (each call is a compare-and-set on the status).
    pub async fn call_next(
        &self,
        session: &StaffSession,
        slug: &str,
        office: &str,
        desk: &str,
    ) -> Result<DeskBooking, AppError> {
        let (tenant, office) = self.desk_office(session, slug, office).await?;
        let desk = desk_name(desk)?;
        let tz = office.timezone;
        let now = self.clock.now();
        let today = now.with_timezone(&tz).date_naive();
        let day = (local_midnight(today, tz)?, local_midnight(today + TimeDelta::days(1), tz)?);
        let mut rows = Desk::between(self.store.reader(), tenant.id, office.slug.as_str(), day).await?;
        let waiting = rows
            .iter()
            .filter(|(b, _)| b.status == BookingStatus::CheckedIn)
            .filter_map(|(b, r)| {
                let arrived = r.checked_in_at?;
                Some(Waiting { booking: b.id, walk_in: b.channel == Channel::Counter, start: b.start, arrived })
            })
            .collect();
        for next in tenant.config.queue.call_order(waiting, now) {
            let Some(at) = rows.iter().position(|(b, _)| b.id == next.booking) else { continue };
            let (booking, record) = rows.swap_remove(at);
            let action = (crate::domain::desk::DeskAction::Call, Some(desk.as_str()));
            match self.step_booking(session, &tenant, (booking, record, tz), action).await {
                // Another operator called this one first: the next.
                Err(AppError::NotChangeable) => continue,
                called => return called,
            }
        }
        Err(AppError::NobodyWaiting)
    }

    /// An office's board: its latest calls of today. Public, for a screen at the entrance.
    pub async fn board(&self, slug: &str, office: &str) -> Result<Board, AppError> {
        let tenant = self.tenant(slug).await?;
        let office = tenant.config.office(office).ok_or(AppError::NotFound("office"))?;
        let today = self.clock.now().with_timezone(&office.timezone).date_naive();
        let calls = Queue::last_calls(self.store.reader(), tenant.id, office.slug.as_str(), today, BOARD_CALLS).await?;
        let (office_name, timezone) = (office.name.clone(), office.timezone);
        Ok(Board { tenant, office_name, timezone, calls })
    }
}
