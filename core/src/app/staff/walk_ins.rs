//! Walk-ins and phone bookings: staff book for a citizen through the citizen's own path — a hold,
//! then the booking transaction whose ledger update decides — so the same capacity, per-person
//! and plugin rules apply and nothing can oversell. Only the minimum notice does not apply, a
//! walk-in "now" may take the slot under way, and the citizen may have no e-mail address.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use super::StaffSession;
use super::audit::Actor;
use super::desk::DeskBooking;
use crate::app::availability::{AvailableSlot, Offer};
use crate::app::{AppError, ConfirmRequest, Flow, Sportello, TenantSnapshot};
use crate::domain::{Booking, Channel, DetailsForm, OfferKey, Office};
use crate::holds::{Acquired, HoldToken};
use crate::store::{Desk, DeskRecord};

/// When the citizen is to be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// A walk-in: the slot under way if it has room, else the next free one today.
    Now,
    /// The slot starting then (a phone booking, or a walk-in coming back later).
    At(DateTime<Utc>),
}

/// What staff book for a citizen.
pub struct StaffBooking {
    pub offer: OfferKey,
    pub when: When,
    /// `counter` or `phone`.
    pub channel: Channel,
    pub form: DetailsForm,
    /// The client's `Idempotency-Key` and a hash of the request it came with.
    pub idempotency: Option<(String, String)>,
}

/// A booking staff made, as the desk shows it.
pub struct StaffBooked {
    pub booking: DeskBooking,
    /// True when this answers a retry of a request that already booked.
    pub replayed: bool,
}

impl Sportello {
    /// Books for a citizen at the counter or on the phone, at an office the staff member works at.
    /// Audited: it records who booked for whom.
    pub async fn book_for_citizen(
        &self,
        session: &StaffSession,
        slug: &str,
        request: StaffBooking,
    ) -> Result<StaffBooked, AppError> {
        let _busy = self.pressure.enter();
        let (tenant, _) = self.desk_office(session, slug, request.offer.office.as_str()).await?;
        let booked = self.book_at_desk(session, Arc::clone(&tenant), request).await;
        let outcome = booked.as_ref().map(|b| if b.replayed { "replayed" } else { "confirmed" });
        self.flow_metrics.count(tenant.config.slug.as_str(), Flow::Booking, outcome);
        booked
    }

    async fn book_at_desk(
        &self,
        session: &StaffSession,
        tenant: Arc<TenantSnapshot>,
        request: StaffBooking,
    ) -> Result<StaffBooked, AppError> {
        if !request.channel.by_staff() {
            return Err(AppError::field("channel", "not_staff_channel", "Use 'counter' or 'phone'."));
        }
        if let Some(booking) = self.replay(&tenant, request.idempotency.as_ref()).await? {
            return self.replayed_at_desk(&tenant, booking).await;
        }
        let offer = Offer::resolve(&tenant, &request.offer)?;
        // The details first: a form with mistakes takes no place, not even for a moment.
        request
            .form
            .parse_for(offer.service, offer.mode, tenant.config.default_locale(), request.channel)
            .map_err(AppError::Invalid)?;
        let now = self.clock.now();
        let query = offer.slots_for(&tenant, now, true);
        let candidates = match request.when {
            When::At(start) => vec![query.find(start).ok_or_else(|| {
                AppError::field("start", "not_a_slot", "This time is not a slot of this service, office and mode.")
            })?],
            When::Now => query.slots_on(query.today()),
        };
        let token = HoldToken::generate(&mut rand::rng());
        for slot in candidates {
            let hold = offer.hold(&tenant, &slot, (Uuid::new_v4(), &token), None, now);
            if self.acquire(&tenant, &slot, &hold, None, now).await? != Acquired::Placed {
                continue;
            }
            let confirm = ConfirmRequest {
                hold_id: hold.id,
                hold_token: token.clone(),
                form: request.form.clone(),
                idempotency: request.idempotency.clone(),
                client: None,
                channel: request.channel,
            };
            let written = self.confirm_once(&tenant, &confirm, Some(session.member.id)).await;
            if written.is_err() {
                // Given back at once: a refused booking leaves no place hidden behind a hold.
                if let Err(e) = self.holds.release(tenant.id, hold.id).await {
                    tracing::warn!(error = %e, "could not release a staff hold");
                }
            }
            match written {
                Ok(booking) => {
                    let detail = json!({ "booking": booking.code.to_string(), "channel": request.channel.code() });
                    self.audit(Some(tenant.id), &Actor::of(session), "booking.created", detail).await?;
                    let tz = offer.office.timezone;
                    let booking = self.desk_view(&tenant.config, booking, DeskRecord::default(), tz);
                    return Ok(StaffBooked { booking, replayed: false });
                }
                // Taken by someone else between the count and the booking: the next one, for now.
                Err(AppError::SlotTaken) if request.when == When::Now => continue,
                Err(e @ (AppError::SlotTaken | AppError::Store(_))) => {
                    // A concurrent twin of this request may have won: answer as it did.
                    return match self.replay(&tenant, request.idempotency.as_ref()).await {
                        Ok(Some(booking)) => self.replayed_at_desk(&tenant, booking).await,
                        Ok(None) | Err(AppError::IdempotencyMismatch) => Err(e),
                        Err(other) => Err(other),
                    };
                }
                Err(e) => return Err(e),
            }
        }
        Err(match request.when {
            When::Now => AppError::NothingFreeToday,
            When::At(_) => AppError::SlotTaken,
        })
    }

    /// An office the staff member works at, with its tenant (nothing personal: not audited).
    pub async fn desk_office(
        &self,
        session: &StaffSession,
        slug: &str,
        office: &str,
    ) -> Result<(Arc<TenantSnapshot>, Office), AppError> {
        let (tenant, offices) = self.desk_of(session, slug).await?;
        let office = offices.into_iter().find(|o| o.slug.as_str() == office).ok_or(AppError::NotFound("office"))?;
        Ok((tenant, office))
    }

    /// The free times of an office's day for staff booking a citizen (slots under way included,
    /// no minimum notice), at an office the staff member works at.
    pub async fn staff_free_times(
        &self,
        session: &StaffSession,
        slug: &str,
        offer: &OfferKey,
        date: NaiveDate,
    ) -> Result<Vec<AvailableSlot>, AppError> {
        let (tenant, _) = self.desk_office(session, slug, offer.office.as_str()).await?;
        let offer = Offer::resolve(&tenant, offer)?;
        let query = offer.slots_for(&tenant, self.clock.now(), true);
        let days = self.free_days(&tenant, &query, (date, date)).await?;
        Ok(days.into_iter().flat_map(|d| d.slots).collect())
    }

    /// The booking a repeated request made earlier, as the desk sees it now.
    async fn replayed_at_desk(&self, tenant: &TenantSnapshot, booking: Booking) -> Result<StaffBooked, AppError> {
        let (booking, record) =
            Desk::by_code(self.store.reader(), tenant.id, &booking.code).await?.ok_or(AppError::NotFound("booking"))?;
        let tz = tenant.config.timezone_of(booking.office.as_str());
        Ok(StaffBooked { booking: self.desk_view(&tenant.config, booking, record, tz), replayed: true })
    }
}
