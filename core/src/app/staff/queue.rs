//! The counter queue: a ticket of the day at check-in, "call next" by the body's rule, and the
//! calls a display board shows (public: ticket codes and desks, nothing personal).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::StaffSession;
use crate::app::{AppError, Sportello, TenantSnapshot};
use crate::domain::queue::{Waiting, expected_wait, ticket_code};
use crate::domain::text::single_line;
use crate::domain::{Booking, BookingStatus, Channel, Office};
use crate::store::{Desk, Queue, TicketRow, WriteTx};

use super::desk::{DeskBooking, local_midnight};

/// The calls a board shows.
pub const BOARD_CALLS: usize = 8;

/// A desk's name as an operator gives it ("Sportello 3"): one line, up to 40 characters.
pub(super) fn desk_name(raw: &str) -> Result<String, AppError> {
    single_line(raw, 40).filter(|d| !d.is_empty()).ok_or_else(|| {
        AppError::field("desk", "invalid_desk", "Name the desk on one line, up to 40 characters (e.g. Sportello 3).")
    })
}

/// An office's queue of today: its tickets (nothing personal) as read at `now`. The display
/// board and every ticket's page are views of it, so one read serves them all.
#[derive(Clone, Debug)]
pub struct OfficeQueue {
    pub tenant: Arc<TenantSnapshot>,
    pub office: Office,
    pub rows: Vec<TicketRow>,
    pub now: DateTime<Utc>,
}

/// A call the display board shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub ticket: String,
    /// Where to go (a call from the API may name no desk).
    pub desk: Option<String>,
    pub at: DateTime<Utc>,
}

/// Where a ticket stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TicketState {
    /// Waiting: how many are called before it, and about how long that takes (once the day's
    /// services were timed).
    Waiting { ahead: usize, wait: Option<TimeDelta> },
    /// Called: to this desk.
    Called { desk: Option<String> },
    /// Served, gone, or withdrawn.
    Done,
}

/// A second "call next" from the same desk this soon is the same press.
const DOUBLE_PRESS: TimeDelta = TimeDelta::seconds(3);

/// Desks that called this recently count as open, for the estimate.
const RECENT: TimeDelta = TimeDelta::hours(1);

impl OfficeQueue {
    /// The day's calls, the latest first (at most `BOARD_CALLS`).
    pub fn calls(&self) -> Vec<Call> {
        let mut calls: Vec<(&TicketRow, DateTime<Utc>)> =
            self.rows.iter().filter_map(|r| Some((r, r.called_at?))).collect();
        calls.sort_by(|(a, at_a), (b, at_b)| at_b.cmp(at_a).then(b.booking.cmp(&a.booking)));
        calls
            .into_iter()
            .take(BOARD_CALLS)
            .map(|(r, at)| Call { ticket: r.ticket.clone(), desk: r.desk.clone(), at })
            .collect()
    }

    /// The ticket a citizen typed or scanned, as the day's tickets are written (`p003` is `P003`).
    pub fn find(&self, code: &str) -> Option<&TicketRow> {
        let code = code.trim();
        self.rows.iter().find(|r| r.ticket.eq_ignore_ascii_case(code))
    }

    /// Where `ticket` stands, by the call rule as it is now.
    pub fn state(&self, ticket: &TicketRow) -> TicketState {
        match ticket.status {
            BookingStatus::CheckedIn => {
                let waiting = self
                    .rows
                    .iter()
                    .filter(|r| r.status == BookingStatus::CheckedIn)
                    .filter_map(|r| {
                        let arrived = r.checked_in_at?;
                        let walk_in = self.tenant.config.queue.is_walk_in(r.at_counter, r.start, arrived);
                        Some(Waiting { booking: r.booking, walk_in, start: r.start, arrived })
                    })
                    .collect();
                let order = self.tenant.config.queue.call_order(waiting, self.now);
                let ahead = order.iter().position(|w| w.booking == ticket.booking).unwrap_or(order.len());
                let served: Vec<TimeDelta> = self
                    .rows
                    .iter()
                    .filter_map(|r| Some(r.completed_at? - r.called_at?))
                    .filter(|took| *took > TimeDelta::zero())
                    .collect();
                let mut desks: Vec<&str> = self
                    .rows
                    .iter()
                    .filter(|r| r.called_at.is_some_and(|at| self.now - at <= RECENT))
                    .filter_map(|r| r.desk.as_deref())
                    .collect();
                desks.sort_unstable();
                desks.dedup();
                TicketState::Waiting { ahead, wait: expected_wait(ahead, &served, desks.len()) }
            }
            BookingStatus::Called => TicketState::Called { desk: ticket.desk.clone() },
            _ => TicketState::Done,
        }
    }
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
        let walk_in = queue.is_walk_in(booking.channel == Channel::Counter, booking.start, self.clock.now());
        let prefix = if walk_in { queue.walk_in_prefix } else { queue.appointment_prefix };
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
        // A double press calls one citizen: a call this desk made a moment ago is the answer.
        let just_called = rows.iter().position(|(b, r)| {
            b.status == BookingStatus::Called
                && r.desk.as_deref() == Some(desk.as_str())
                && r.called_at.is_some_and(|at| now - at < DOUBLE_PRESS)
        });
        if let Some(at) = just_called {
            let (booking, record) = rows.swap_remove(at);
            return Ok(self.desk_view(&tenant.config, booking, record, tz));
        }
        let waiting = rows
            .iter()
            .filter(|(b, _)| b.status == BookingStatus::CheckedIn)
            .filter_map(|(b, r)| {
                let arrived = r.checked_in_at?;
                let walk_in = tenant.config.queue.is_walk_in(b.channel == Channel::Counter, b.start, arrived);
                Some(Waiting { booking: b.id, walk_in, start: b.start, arrived })
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

    /// An office's queue of today, as the display board and the tickets' pages read it: one
    /// query, nothing personal. Public.
    pub async fn office_queue(&self, slug: &str, office: &str) -> Result<OfficeQueue, AppError> {
        let tenant = self.tenant(slug).await?;
        let office = tenant.config.office(office).ok_or(AppError::NotFound("office"))?.clone();
        let now = self.clock.now();
        let today = now.with_timezone(&office.timezone).date_naive();
        let rows = Queue::tickets(self.store.reader(), tenant.id, office.slug.as_str(), today).await?;
        Ok(OfficeQueue { tenant, office, rows, now })
    }
}
