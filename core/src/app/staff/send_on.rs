//! Sending a citizen at the counter on to another service's queue: their visit for this service
//! is served, and a walk-in for the other one is booked now — through the same hold-and-book path,
//! so that service's capacity decides — and checked in with a new ticket.

use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use super::desk::DeskBooking;
use super::walk_ins::{StaffBooking, When};
use crate::app::{AppError, Sportello};
use crate::domain::desk::DeskAction;
use crate::domain::{BookingStatus, Channel, DetailsForm, Mode, OfferKey};
use crate::store::Desk;

impl Sportello {
    /// Sends the citizen of booking `code` (arrived or called, today) on to `service` at the same
    /// office; the new booking, checked in. Served first, as a compare-and-set: of two operators
    /// pressing at once, one sends the citizen on and the other is told it changed. When the other
    /// service has no place today, or asks for what this booking does not hold, the first visit
    /// is taken back to where it was and nothing else changes.
    pub async fn send_on(
        &self,
        session: &StaffSession,
        slug: &str,
        code: &str,
        service: &str,
    ) -> Result<DeskBooking, AppError> {
        let (tenant, booking, record, tz) = self.desk_find(session, slug, code).await?;
        if !matches!(booking.status, BookingStatus::CheckedIn | BookingStatus::Called) {
            return Err(AppError::field(
                "service",
                "not_at_counter",
                "Only a citizen at the counter (arrived or called) can be sent on.",
            ));
        }
        if booking.service.as_str() == service.trim() {
            return Err(AppError::field("service", "same_service", "Choose another service."));
        }
        let offer = OfferKey::parse(service.trim(), booking.office.as_str(), Mode::InPerson.code())
            .map_err(|_| AppError::field("service", "unknown_service", "There is no such service."))?;
        let citizen = &booking.details.citizen;
        let form = DetailsForm {
            first_name: citizen.first_name().to_owned(),
            last_name: citizen.last_name().to_owned(),
            email: citizen.email().map(ToString::to_string).unwrap_or_default(),
            phone: citizen.phone().map(ToString::to_string).unwrap_or_default(),
            fiscal_code: citizen.fiscal_code().map(ToString::to_string),
            privacy_accepted: true,
            locale: Some(booking.details.locale.code().to_owned()),
            ..DetailsForm::default()
        };
        let first = (booking.id, booking.status, booking.code.to_string());
        self.step_booking(session, &tenant, (booking, record, tz), (DeskAction::Complete, None)).await?;
        let walk_in = StaffBooking { offer, when: When::Now, channel: Channel::Counter, form, idempotency: None };
        let booked = match self.book_for_citizen(session, slug, walk_in).await {
            Ok(booked) => booked,
            Err(refused) => {
                let now = self.clock.now();
                let tx = self.store.begin_write().await?;
                Desk::undo(tx.conn(), tenant.id, first.0, (BookingStatus::Completed, first.1), now).await?;
                tx.commit().await?;
                return Err(refused);
            }
        };
        let code = booked.booking.booking.code.to_string();
        let checked_in = self.desk_step(session, slug, &code, (DeskAction::CheckIn, None)).await?;
        let detail =
            json!({ "booking": first.2, "to": code, "service": service.trim(), "ticket": checked_in.record.ticket });
        self.audit(Some(tenant.id), &Actor::of(session), "booking.sent_on", detail).await?;
        Ok(checked_in)
    }
}
