//! The operator's desk: an office's day (or week) of bookings, one booking opened with its
//! personal data (audited), and the counter's steps on it. An operator sees the offices assigned
//! to them only; a booking of another office is, to them, not there.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use crate::app::{AppError, BookingEvent, Sportello, TenantSnapshot};
use crate::domain::desk::{self, DeskAction, DeskRefusal, MAX_NOTE_CHARS};
use crate::domain::text::multi_line;
use crate::domain::{Booking, BookingCode, BookingStatus, Mode, ModeContact, Office, Role, Slug, TenantConfig};
use crate::store::{Desk, DeskRecord, Queue};

/// Days an agenda shows: one, or the week (Monday to Sunday) of the chosen day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    Day,
    Week,
}

/// What an agenda shows.
#[derive(Clone, Debug, Default)]
pub struct AgendaQuery {
    pub office: String,
    /// The day (in the office's zone); today by default.
    pub date: Option<NaiveDate>,
    pub week: bool,
    pub service: Option<String>,
    pub mode: Option<Mode>,
    pub status: Option<BookingStatus>,
    /// A booking code (any day), or part of a citizen's name (the shown days).
    pub search: Option<String>,
}

/// A booking as the desk sees it.
#[derive(Clone, Debug)]
pub struct DeskBooking {
    pub booking: Booking,
    pub record: DeskRecord,
    /// The desk steps it can take now, and whether its last one can be undone.
    pub actions: Vec<DeskAction>,
    pub undoable: bool,
    /// Still to come and confirmed: the office may cancel it (telling the citizen why).
    pub cancellable: bool,
    /// How to reach the citizen for the call: the WhatsApp phone, Skype name or Teams address, or
    /// the Jitsi room's address.
    pub contact: Option<String>,
}

pub struct Agenda {
    pub tenant: Arc<TenantSnapshot>,
    pub office: Office,
    /// The offices the viewer may open, by slug and name.
    pub offices: Vec<(Slug, String)>,
    pub first_day: NaiveDate,
    pub span: Span,
    pub today: NaiveDate,
    pub bookings: Vec<DeskBooking>,
    /// The search found this booking by its code (on whatever day).
    pub found_by_code: bool,
}

/// The staff's own words on a booking, or the cancellation reason, refused when too long.
fn staff_text(raw: &str, field: &'static str) -> Result<Option<String>, AppError> {
    multi_line(raw, MAX_NOTE_CHARS).map_err(|_| {
        AppError::field(
            field,
            "invalid_text",
            format!("Use at most {MAX_NOTE_CHARS} characters, without control characters."),
        )
    })
}

fn refused(refusal: DeskRefusal) -> AppError {
    AppError::DeskRefused(refusal)
}

impl Sportello {
    /// The tenant, and the offices `session` may see there (all for an admin).
    pub(super) async fn desk_of(
        &self,
        session: &StaffSession,
        slug: &str,
    ) -> Result<(Arc<TenantSnapshot>, Vec<Office>), AppError> {
        let tenant = self.tenant_for(session, slug, Role::Operator).await?;
        let role = session.member.may(tenant.id, Role::Operator)?;
        let own: Vec<&str> = session
            .member
            .tenant_grants()
            .filter(|(s, _, _)| *s == tenant.config.slug.as_str())
            .flat_map(|(_, _, offices)| offices.iter().map(Slug::as_str))
            .collect();
        let offices = tenant
            .config
            .offices
            .iter()
            .filter(|o| role > Role::Operator || own.contains(&o.slug.as_str()))
            .cloned()
            .collect();
        Ok((tenant, offices))
    }

    pub(super) fn desk_view(&self, config: &TenantConfig, booking: Booking, record: DeskRecord, tz: Tz) -> DeskBooking {
        let now = self.clock.now();
        let on_its_day = booking.start.with_timezone(&tz).date_naive() == now.with_timezone(&tz).date_naive();
        let actions = DeskAction::ALL
            .into_iter()
            .filter(|a| a.apply(booking.status, booking.start, on_its_day, now).is_ok())
            .collect();
        let undoable = desk::undo(booking.status, record.previous_status, record.status_changed_at, now).is_ok();
        let cancellable = booking.status.is_changeable() && booking.start > now;
        let contact = match &booking.details.contact {
            ModeContact::None => None,
            ModeContact::Phone(phone) => Some(phone.to_string()),
            ModeContact::Skype(name) => Some(name.to_string()),
            ModeContact::Email(address) => Some(address.to_string()),
            room @ ModeContact::Room(_) => config.call_link(booking.office.as_str(), room),
        };
        DeskBooking { booking, record, actions, undoable, cancellable, contact }
    }

    /// An office's agenda for a day or a week (anyone with a role there; operators their offices).
    /// Audited: it shows citizens' names and contacts.
    pub async fn agenda(&self, session: &StaffSession, slug: &str, query: &AgendaQuery) -> Result<Agenda, AppError> {
        let (tenant, offices) = self.desk_of(session, slug).await?;
        let office =
            offices.iter().find(|o| o.slug.as_str() == query.office).cloned().ok_or(AppError::NotFound("office"))?;
        let tz = office.timezone;
        let today = self.clock.now().with_timezone(&tz).date_naive();
        let day = query.date.unwrap_or(today);
        let (span, first_day, days) = match query.week {
            true => (Span::Week, day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday())), 7),
            false => (Span::Day, day, 1),
        };
        let code = query.search.as_deref().and_then(|s| BookingCode::parse(s.trim()));
        let rows = match &code {
            Some(code) => Desk::by_code(self.store.reader(), tenant.id, code)
                .await?
                .filter(|(b, _)| b.office == office.slug)
                .into_iter()
                .collect(),
            None => {
                let from = local_midnight(first_day, tz)?;
                let to = local_midnight(first_day + TimeDelta::days(days), tz)?;
                Desk::between(self.store.reader(), tenant.id, office.slug.as_str(), (from, to)).await?
            }
        };
        let name = query.search.as_deref().filter(|_| code.is_none()).map(|s| s.trim().to_lowercase());
        let bookings: Vec<DeskBooking> = rows
            .into_iter()
            .filter(|(b, _)| query.service.as_deref().is_none_or(|s| b.service.as_str() == s))
            .filter(|(b, _)| query.mode.is_none_or(|m| b.mode == m))
            .filter(|(b, _)| query.status.is_none_or(|s| b.status == s))
            .filter(|(b, _)| {
                name.as_deref().filter(|n| !n.is_empty()).is_none_or(|n| {
                    let citizen = &b.details.citizen;
                    format!("{} {}", citizen.first_name(), citizen.last_name()).to_lowercase().contains(n)
                })
            })
            .map(|(b, r)| self.desk_view(&tenant.config, b, r, tz))
            .collect();
        let detail = json!({ "office": office.slug.as_str(), "from": first_day.to_string(), "days": days,
                             "shown": bookings.len(), "search": query.search.is_some() });
        self.audit(Some(tenant.id), &Actor::of(session), "agenda.viewed", detail).await?;
        Ok(Agenda {
            offices: offices.iter().map(|o| (o.slug.clone(), o.name.clone())).collect(),
            tenant,
            office,
            first_day,
            span,
            today,
            bookings,
            found_by_code: code.is_some(),
        })
    }

    /// One booking with its personal data, for the desk; the opening is written to the audit log.
    pub async fn desk_booking(
        &self,
        session: &StaffSession,
        slug: &str,
        code: &str,
    ) -> Result<(Arc<TenantSnapshot>, DeskBooking), AppError> {
        let (tenant, booking, record, tz) = self.desk_find(session, slug, code).await?;
        let detail = json!({ "booking": booking.code.to_string() });
        self.audit(Some(tenant.id), &Actor::of(session), "booking.opened", detail).await?;
        let view = self.desk_view(&tenant.config, booking, record, tz);
        Ok((tenant, view))
    }

    pub(super) async fn desk_find(
        &self,
        session: &StaffSession,
        slug: &str,
        code: &str,
    ) -> Result<(Arc<TenantSnapshot>, Booking, DeskRecord, Tz), AppError> {
        let (tenant, offices) = self.desk_of(session, slug).await?;
        let code = BookingCode::parse(code.trim()).ok_or(AppError::NotFound("booking"))?;
        let (booking, record) =
            Desk::by_code(self.store.reader(), tenant.id, &code).await?.ok_or(AppError::NotFound("booking"))?;
        // Another office's booking is not there, for an operator of this one.
        let office = offices.iter().find(|o| o.slug == booking.office).ok_or(AppError::NotFound("booking"))?;
        let tz = office.timezone;
        Ok((tenant, booking, record, tz))
    }

    /// A step at the counter (checked in, called — to `desk`, when named —, served, no-show); two
    /// operators acting at once move a booking once, and the second is told it already changed.
    pub async fn desk_step(
        &self,
        session: &StaffSession,
        slug: &str,
        code: &str,
        (action, desk): (DeskAction, Option<&str>),
    ) -> Result<DeskBooking, AppError> {
        let (tenant, booking, record, tz) = self.desk_find(session, slug, code).await?;
        let desk = desk.map(super::queue::desk_name).transpose()?;
        self.step_booking(session, &tenant, (booking, record, tz), (action, desk.as_deref())).await
    }

    /// Takes `action` on a booking read at the desk: a compare-and-set on its status, with the
    /// ticket a check-in gives, the desk a call names, the webhook event and the audit entry, in
    /// one transaction.
    pub(super) async fn step_booking(
        &self,
        session: &StaffSession,
        tenant: &TenantSnapshot,
        (booking, record, tz): (Booking, DeskRecord, Tz),
        (action, desk): (DeskAction, Option<&str>),
    ) -> Result<DeskBooking, AppError> {
        let now = self.clock.now();
        let today = now.with_timezone(&tz).date_naive();
        let on_its_day = booking.start.with_timezone(&tz).date_naive() == today;
        let to = action.apply(booking.status, booking.start, on_its_day, now).map_err(refused)?;
        let stepped = Booking { status: to, ..booking.changed(now) };
        let event = match action {
            DeskAction::CheckIn => Some(BookingEvent::CheckedIn),
            DeskAction::Complete => Some(BookingEvent::Completed),
            DeskAction::NoShow => Some(BookingEvent::NoShow),
            DeskAction::Call => None,
        };
        let event = event.map(|e| self.prepare_event((tenant.id, &tenant.config), &stepped, e, None));
        // Check-ins at one office take turns drawing their number; should two ever draw the same
        // one, the unique index refuses the second, which draws again.
        for _ in 0..4 {
            let tx = self.store.begin_write().await?;
            if !Desk::step(tx.conn(), tenant.id, booking.id, (booking.status, to), now).await? {
                return Err(AppError::NotChangeable);
            }
            // A check-in undone and made again keeps its ticket: a number is never given twice.
            let ticket = match action {
                DeskAction::CheckIn if record.ticket.is_none() => {
                    match self.give_ticket(&tx, tenant, &booking, today).await {
                        Err(AppError::Store(e)) if e.is_unique_violation() => continue,
                        other => Some(other?),
                    }
                }
                _ => None,
            };
            if let (DeskAction::Call, Some(desk)) = (action, desk) {
                Queue::set_desk(tx.conn(), tenant.id, booking.id, desk).await?;
            }
            if let Some(event) = &event {
                self.write_event(&tx, booking.id, event).await?;
            }
            let detail = json!({ "booking": booking.code.to_string(), "from": booking.status.code(), "to": to.code(),
                                 "ticket": ticket.as_deref().or(record.ticket.as_deref()), "desk": desk });
            let name = format!("booking.{}", action.code());
            self.audit_in(&tx, Some(tenant.id), &Actor::of(session), &name, detail).await?;
            tx.commit().await?;
            let mut stamped = stamp(record, booking.status, to, now);
            stamped.ticket = ticket.or(stamped.ticket);
            stamped.desk = desk.map(str::to_owned).or(stamped.desk);
            return Ok(self.desk_view(&tenant.config, stepped, stamped, tz));
        }
        Err(AppError::Busy)
    }

    /// Undoes the last desk step of a booking, within `desk::UNDO_WINDOW`.
    pub async fn desk_undo(&self, session: &StaffSession, slug: &str, code: &str) -> Result<DeskBooking, AppError> {
        let (tenant, booking, record, tz) = self.desk_find(session, slug, code).await?;
        let now = self.clock.now();
        let previous =
            desk::undo(booking.status, record.previous_status, record.status_changed_at, now).map_err(refused)?;
        let tx = self.store.begin_write().await?;
        if !Desk::undo(tx.conn(), tenant.id, booking.id, (booking.status, previous), now).await? {
            return Err(AppError::NotChangeable);
        }
        let detail =
            json!({ "booking": booking.code.to_string(), "from": booking.status.code(), "to": previous.code() });
        self.audit_in(&tx, Some(tenant.id), &Actor::of(session), "booking.undone", detail).await?;
        tx.commit().await?;
        let (booking, record) =
            Desk::by_code(self.store.reader(), tenant.id, &booking.code).await?.ok_or(AppError::NotFound("booking"))?;
        Ok(self.desk_view(&tenant.config, booking, record, tz))
    }

    /// Sets the staff's internal note on a booking (empty clears it); never shown to the citizen.
    pub async fn desk_note(&self, session: &StaffSession, slug: &str, code: &str, note: &str) -> Result<(), AppError> {
        let (tenant, booking, _, _) = self.desk_find(session, slug, code).await?;
        let note = staff_text(note, "note")?;
        let tx = self.store.begin_write().await?;
        Desk::note(tx.conn(), tenant.id, booking.id, note.as_deref(), self.clock.now()).await?;
        let detail = json!({ "booking": booking.code.to_string(), "cleared": note.is_none() });
        self.audit_in(&tx, Some(tenant.id), &Actor::of(session), "booking.noted", detail).await?;
        Ok(tx.commit().await?)
    }

    /// Cancels a booking on the office's side; the citizen is told, with the reason.
    pub async fn desk_cancel(
        &self,
        session: &StaffSession,
        slug: &str,
        code: &str,
        reason: &str,
    ) -> Result<DeskBooking, AppError> {
        let (tenant, booking, record, tz) = self.desk_find(session, slug, code).await?;
        let reason = crate::domain::text::single_line(reason, 300).filter(|r| !r.is_empty()).ok_or_else(|| {
            AppError::field("reason", "cancel_reason_required", "Say why, on one line (the citizen will read it).")
        })?;
        let changed = self.cancel_booking(tenant.clone(), booking, Some(&reason)).await?;
        // The reason stays on the booking (anonymised with it), not in the append-only log: free
        // text about a citizen would outlive the retention period there.
        let detail = json!({ "booking": changed.booking.code.to_string() });
        self.audit(Some(tenant.id), &Actor::of(session), "booking.cancelled", detail).await?;
        Ok(self.desk_view(&tenant.config, changed.booking, record, tz))
    }
}

/// Midnight of `day` in `tz` (the first instant of the day, around a DST change too).
pub(crate) fn local_midnight(day: NaiveDate, tz: Tz) -> Result<DateTime<Utc>, AppError> {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).ok_or_else(|| AppError::Internal("midnight".into()))?;
    tz.from_local_datetime(&midnight)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(midnight + TimeDelta::hours(1))).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::Internal(format!("no midnight on {day} in {tz}")))
}

/// The record after moving from `from` to `to` at `now`, as the store wrote it.
fn stamp(mut record: DeskRecord, from: BookingStatus, to: BookingStatus, now: DateTime<Utc>) -> DeskRecord {
    match to {
        BookingStatus::CheckedIn => record.checked_in_at = Some(now),
        BookingStatus::Called => record.called_at = Some(now),
        BookingStatus::Completed => record.completed_at = Some(now),
        _ => {}
    }
    record.previous_status = Some(from);
    record.status_changed_at = Some(now);
    record
}
