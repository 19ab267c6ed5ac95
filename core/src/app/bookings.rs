//! Confirming, finding, cancelling and moving bookings.
//!
//! Every write runs in one transaction whose conditional ledger update decides capacity,
//! whatever the hold store says.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::availability::Offer;
use super::booking_mail::reminder_at;
use super::{AppError, BookingEvent, BookingProof, Flow, Sportello, TenantSnapshot};
use crate::domain::booking::SummaryLine;
use crate::domain::slots::{Slot, units_between};
use crate::domain::{
    Booking, BookingCode, BookingDetails, BookingStatus, Channel, DetailsForm, JitsiRoom, Mode, ModeContact,
};
use crate::holds::{Acquired, Hold, HoldToken};
use crate::mail::Topic;
use crate::store::{Bookings, HoldClaims, IdempotencyKeys, Ledger, NewBooking, StoreError};

/// How often a transaction that hit a lock timeout, deadlock or code collision is retried.
const ATTEMPTS: usize = 4;

pub struct ConfirmRequest {
    pub hold_id: Uuid,
    /// The hold's secret: only whoever placed the hold may confirm it.
    pub hold_token: HoldToken,
    pub form: DetailsForm,
    /// The client's `Idempotency-Key` and a hash of the request it came with.
    pub idempotency: Option<(String, String)>,
    /// Who asks (an IP address), for the tenant's rate limit; `None` is not limited.
    pub client: Option<String>,
    /// How it came: the pages or the API (staff book through `book_for_citizen`).
    pub channel: Channel,
}

pub struct Confirmed {
    pub booking: Booking,
    /// True when this answers a retry of a request that already booked.
    pub replayed: bool,
    /// The tenant the booking was made in: answering must not need a lookup that could fail
    /// after the booking committed.
    pub tenant: Arc<TenantSnapshot>,
}

/// A booking after a change, with its tenant (see `Confirmed::tenant`).
pub struct Changed {
    pub booking: Booking,
    pub tenant: Arc<TenantSnapshot>,
}

/// Why one attempt at writing a booking did not commit.
enum WriteFailure {
    /// A unit of the slot has no free place.
    Full,
    /// The person already has as many upcoming bookings of the service as allowed.
    PersonLimit(u16),
    /// The hold became a booking in another transaction.
    HoldClaimed,
    /// The booking was cancelled or moved by another request meanwhile.
    Changed,
    Retry,
    Failed(StoreError),
    /// Something else went wrong in the transaction (composing its message).
    Other(AppError),
}

impl From<AppError> for WriteFailure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Store(e) => e.into(),
            other => Self::Other(other),
        }
    }
}

impl From<StoreError> for WriteFailure {
    fn from(e: StoreError) -> Self {
        if e.is_transient() { Self::Retry } else { Self::Failed(e) }
    }
}

impl Sportello {
    /// Turns a hold and the citizen's details into a confirmed booking.
    pub async fn confirm(&self, tenant_slug: &str, request: ConfirmRequest) -> Result<Confirmed, AppError> {
        let _busy = self.pressure.enter();
        let tenant = self.tenant(tenant_slug).await?;
        let slug = tenant.config.slug.clone();
        let confirmed = self.confirm_for(tenant, request).await;
        let outcome = confirmed.as_ref().map(|c| if c.replayed { "replayed" } else { "confirmed" });
        self.flow_metrics.count(slug.as_str(), Flow::Booking, outcome);
        confirmed
    }

    async fn confirm_for(&self, tenant: Arc<TenantSnapshot>, request: ConfirmRequest) -> Result<Confirmed, AppError> {
        if let Some(booking) = self.replay(&tenant, request.idempotency.as_ref()).await? {
            self.drop_replayed_hold(&tenant, &request).await;
            return Ok(Confirmed { booking, replayed: true, tenant });
        }
        if let Some(client) = &request.client {
            let per_minute = tenant.config.limits.bookings_per_minute;
            self.throttle(&tenant, "bookings", client, per_minute, self.clock.now()).await?;
        }
        match self.confirm_once(&tenant, &request, None).await {
            Ok(booking) => Ok(Confirmed { booking, replayed: false, tenant }),
            Err(e @ (AppError::SlotTaken | AppError::HoldUnknown | AppError::HoldUsed(_) | AppError::Store(_))) => {
                // A concurrent twin of this request may have won: answer as it did. A key now
                // recorded for other details leaves the first answer standing (the hold is spent).
                match self.replay(&tenant, request.idempotency.as_ref()).await {
                    Ok(Some(booking)) => Ok(Confirmed { booking, replayed: true, tenant }),
                    Ok(None) | Err(AppError::IdempotencyMismatch) => Err(e),
                    Err(other) => Err(other),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub(in crate::app) async fn replay(
        &self,
        tenant: &TenantSnapshot,
        idempotency: Option<&(String, String)>,
    ) -> Result<Option<Booking>, AppError> {
        let Some((key, hash)) = idempotency else { return Ok(None) };
        match IdempotencyKeys::find(self.store.reader(), tenant.id, key).await? {
            None => Ok(None),
            Some((stored_hash, _)) if &stored_hash != hash => Err(AppError::IdempotencyMismatch),
            Some((_, booking_id)) => Ok(Bookings::by_id(self.store.reader(), tenant.id, booking_id).await?),
        }
    }

    /// Books the place of a hold; `booked_by` is the staff member who books for the citizen.
    pub(super) async fn confirm_once(
        &self,
        tenant: &Arc<TenantSnapshot>,
        request: &ConfirmRequest,
        booked_by: Option<i32>,
    ) -> Result<Booking, AppError> {
        let hold = self.owned_hold(tenant, request.hold_id, &request.hold_token).await?;
        let offer = Offer::resolve(tenant, &hold.offer())?;
        let channel = request.channel;
        let mut details = request
            .form
            .parse_for(offer.service, offer.mode, tenant.config.default_locale(), channel)
            .map_err(AppError::Invalid)?;
        if offer.mode == Mode::Jitsi {
            // A room of its own, named at random: nobody finds the call by trying names.
            details.contact = ModeContact::Room(JitsiRoom::generate(&mut rand::rng()));
        }
        let now = self.clock.now();
        let slot = self.held_slot(tenant, &offer, &hold, now, channel.by_staff()).await?;
        // The tenant's rule (a plugin) has the last word on the details, before anything is written.
        let summary = self.check_rules(tenant, offer.service, offer.office, offer.mode, &slot, &details).await?;
        let units = slot.units(tenant.config.grid_minutes);
        let booking = retry(|| async {
            let code = BookingCode::generate(&mut rand::rng());
            // Its webhook events are composed before the transaction, which then only writes them.
            let provisional = Booking {
                id: 0,
                code: code.clone(),
                status: BookingStatus::Confirmed,
                service: offer.service.slug.clone(),
                office: offer.office.slug.clone(),
                mode: offer.mode,
                start: slot.start,
                end: slot.end,
                timezone: offer.office.timezone,
                details: details.clone(),
                privacy_version: tenant.config.privacy_notice_version.clone(),
                summary: summary.clone(),
                channel,
                created_at: now,
                updated_at: now,
                revision: 0,
                anonymised_at: None,
            };
            let event = self.prepare_event((tenant.id, &tenant.config), &provisional, BookingEvent::Created, None);
            let tx = self.store.begin_write().await?;
            if let Some(max) = offer.service.max_active_bookings_per_person {
                let citizen = &details.citizen;
                Bookings::lock_person(tx.conn(), tenant.id, &offer.service.slug, citizen).await?;
                let held = Bookings::count_upcoming_for_person(tx.conn(), tenant.id, &offer.service.slug, citizen, now)
                    .await?;
                if held >= u64::from(max) {
                    return Err(WriteFailure::PersonLimit(max));
                }
            }
            let new = NewBooking {
                tenant: tenant.id,
                code: &code,
                service: &offer.service.slug,
                office: &offer.office.slug,
                mode: offer.mode,
                start: slot.start,
                end: slot.end,
                timezone: offer.office.timezone,
                details: &details,
                privacy_version: &tenant.config.privacy_notice_version,
                summary: &summary,
                channel,
                booked_by,
                // Its confirmation and reminder are owed by its row, queued later by the worker.
                owes_mail: self.mail.is_some() && details.citizen.email().is_some(),
                now,
            };
            let booking = match Bookings::insert(tx.conn(), new).await {
                // The random code is already taken in this tenant: draw another.
                Err(e) if e.is_unique_violation() => return Err(WriteFailure::Retry),
                other => other?,
            };
            if let Some((key, hash)) = &request.idempotency {
                IdempotencyKeys::record(tx.conn(), tenant.id, key, hash, booking.id, now).await?;
            }
            claim(&tx, tenant, &hold, booking.id, now).await?;
            self.write_event(&tx, booking.id, &event).await?;
            // Capacity last: the ledger rows are the hot spot of a click day, so they stay locked
            // only from this write to the commit. A full slot rolls the whole transaction back.
            if !Ledger::take(tx.conn(), tenant.id, offer.office.slug.as_str(), &units, slot.desks).await? {
                return Err(WriteFailure::Full);
            }
            tx.commit().await?;
            Ok(booking)
        })
        .await;
        let booking = self.settle_claim(tenant, &hold, &request.hold_token, booking).await?;
        Ok(booking)
    }

    /// After a write with a hold: drops the consumed hold, or turns a lost race for the hold
    /// into the answer its owner should see (which booking the hold became).
    async fn settle_claim<T>(
        &self,
        tenant: &TenantSnapshot,
        hold: &Hold,
        token: &HoldToken,
        written: Result<T, AppError>,
    ) -> Result<T, AppError> {
        match written {
            Ok(value) => {
                self.consume_hold(tenant, hold).await;
                Ok(value)
            }
            Err(AppError::HoldUsed(None)) => match self.spent_hold(tenant, hold.id, token).await {
                Ok(Some(spent)) => Err(spent),
                _ => Err(AppError::HoldUsed(None)),
            },
            Err(e) => Err(e),
        }
    }

    /// The slot a hold names, still bookable now (by staff: see `SlotQuery::by_staff`); an
    /// expired hold is renewed if there is room.
    async fn held_slot(
        &self,
        tenant: &TenantSnapshot,
        offer: &Offer<'_>,
        hold: &Hold,
        now: DateTime<Utc>,
        by_staff: bool,
    ) -> Result<Slot, AppError> {
        // The configuration may have changed since the hold (a closure, a shorter horizon).
        let slot = offer.slots_for(tenant, now, by_staff).find(hold.start).ok_or(AppError::SlotTaken)?;
        if !hold.is_live(now) {
            let renewed = Hold { expires_at: now + tenant.config.hold_length(), ..hold.clone() };
            // Renewing the hold being confirmed is not a new hold: no per-client limit.
            if self.acquire(tenant, &slot, &renewed, None, now).await? != Acquired::Placed {
                return Err(AppError::SlotTaken);
            }
        }
        Ok(slot)
    }

    /// A replay's hold may still be counted: its booking committed on an instance that died (or
    /// lost Redis) before dropping it. Its owner asking again drops it, so that the place is not
    /// counted twice until it expires.
    async fn drop_replayed_hold(&self, tenant: &TenantSnapshot, request: &ConfirmRequest) {
        if let Ok(hold) = self.owned_hold(tenant, request.hold_id, &request.hold_token).await {
            self.consume_hold(tenant, &hold).await;
        }
    }

    /// Drops a consumed hold. Failing to is harmless (it expires), so it is only logged.
    async fn consume_hold(&self, tenant: &TenantSnapshot, hold: &Hold) {
        if let Err(e) = self.holds.consume(hold).await {
            tracing::warn!(tenant = %tenant.config.slug, error = %e, "could not release a consumed hold");
        }
    }

    /// Checks the citizen's details against the service and mode of a hold, and the service's
    /// rule, without booking; returns what the rule reported.
    pub async fn check_details(
        &self,
        tenant: &Arc<TenantSnapshot>,
        hold: &Hold,
        form: &DetailsForm,
    ) -> Result<(BookingDetails, Vec<SummaryLine>), AppError> {
        let offer = Offer::resolve(tenant, &hold.offer())?;
        let details =
            form.parse(offer.service, offer.mode, tenant.config.default_locale()).map_err(AppError::Invalid)?;
        let slot = Slot {
            local_date: hold.start.with_timezone(&offer.office.timezone).date_naive(),
            start: hold.start,
            end: hold.end,
            desks: 0,
        };
        let summary = self.check_rules(tenant, offer.service, offer.office, offer.mode, &slot, &details).await?;
        Ok((details, summary))
    }

    /// Cancels a booking its citizen proved to be theirs.
    pub async fn cancel(&self, tenant_slug: &str, proof: &BookingProof<'_>) -> Result<Changed, AppError> {
        let (tenant, booking) = self.find_booking(tenant_slug, proof).await?;
        self.cancel_proven(tenant, booking).await
    }

    /// Cancels the booking a one-click cancel link names (from its e-mail).
    pub async fn cancel_by_link(&self, tenant_slug: &str, token: &str) -> Result<Changed, AppError> {
        let (tenant, booking) = self.booking_by_link(tenant_slug, token, super::LinkPurpose::Cancel).await?;
        self.cancel_proven(tenant, booking).await
    }

    /// Cancels a booking whose owner has proved who they are.
    async fn cancel_proven(&self, tenant: Arc<TenantSnapshot>, booking: Booking) -> Result<Changed, AppError> {
        self.cancel_booking(tenant, booking, None).await
    }

    /// Cancels a confirmed booking still to come, by its citizen or (with the reason the citizen
    /// is told) by the public body; the e-mail, the event and the place given back go with it.
    pub(super) async fn cancel_booking(
        &self,
        tenant: Arc<TenantSnapshot>,
        booking: Booking,
        by_office: Option<&str>,
    ) -> Result<Changed, AppError> {
        let now = self.clock.now();
        ensure_changeable(&booking, now)?;
        let units = units_between(booking.start, booking.end, tenant.config.grid_minutes);
        let cancelled = Booking { status: BookingStatus::Cancelled, ..booking.changed(now) };
        let topic = Topic::Cancelled { by_office: by_office.is_some(), reason: by_office.map(str::to_owned) };
        let message = self.prepare_mail((tenant.id, &tenant.config), &cancelled, &topic)?;
        let event = self.prepare_event((tenant.id, &tenant.config), &cancelled, BookingEvent::Cancelled, None);
        retry(|| async {
            let tx = self.store.begin_write().await?;
            let written = match by_office {
                Some(reason) => {
                    let when = (booking.start, booking.end);
                    Bookings::cancel_with_reason(tx.conn(), tenant.id, booking.id, when, reason, now).await?
                }
                None => {
                    let statuses = (BookingStatus::Confirmed, BookingStatus::Cancelled);
                    Bookings::change_status(tx.conn(), tenant.id, booking.id, statuses.0, statuses.1, now).await?
                }
            };
            if !written {
                return Err(WriteFailure::Changed);
            }
            Ledger::release(tx.conn(), tenant.id, booking.office.as_str(), &units).await?;
            self.write_mail(&tx, booking.id, message.as_slice()).await?;
            self.write_event(&tx, booking.id, &event).await?;
            self.drop_reminder(&tx, &tenant, booking.id).await?;
            tx.commit().await?;
            self.full_units.forget(tenant.id, booking.office.as_str(), &units);
            Ok(())
        })
        .await?;
        // Answered from what was written: a read after the commit could fail and disguise it.
        Ok(Changed { booking: cancelled, tenant })
    }

    /// Moves a booking to the slot of `hold_id` (same service, office and mode), atomically:
    /// the old place is given back only if the new one is taken.
    pub async fn reschedule(
        &self,
        tenant_slug: &str,
        proof: &BookingProof<'_>,
        hold_id: Uuid,
        hold_token: &HoldToken,
    ) -> Result<Changed, AppError> {
        let _busy = self.pressure.enter();
        let (tenant, booking) = self.find_booking(tenant_slug, proof).await?;
        let now = self.clock.now();
        ensure_changeable(&booking, now)?;
        let hold = self.owned_hold(&tenant, hold_id, hold_token).await?;
        if (&hold.service, &hold.office, hold.mode) != (&booking.service, &booking.office, booking.mode) {
            return Err(AppError::field(
                "hold_id",
                "different_offer",
                "Choose a new time for the same service, office and mode.",
            ));
        }
        let offer = Offer::resolve(&tenant, &hold.offer())?;
        let slot = self.held_slot(&tenant, &offer, &hold, now, false).await?;
        let grid = tenant.config.grid_minutes;
        let (old_units, new_units) = (units_between(booking.start, booking.end, grid), slot.units(grid));
        let office = booking.office.as_str();
        let moved = Booking { start: slot.start, end: slot.end, ..booking.changed(now) };
        let topic = Topic::Rescheduled { previous: booking.start };
        let message = self.prepare_mail((tenant.id, &tenant.config), &moved, &topic)?;
        let reminder = reminder_at(&tenant.config, moved.start, now);
        let event =
            self.prepare_event((tenant.id, &tenant.config), &moved, BookingEvent::Rescheduled, Some(booking.start));
        let written = retry(|| async {
            let tx = self.store.begin_write().await?;
            // The booking must still be where it was read: a concurrent move or cancel wins.
            if !Bookings::reschedule(
                tx.conn(),
                tenant.id,
                booking.id,
                (booking.start, booking.end),
                (slot.start, slot.end),
                now,
            )
            .await?
            {
                return Err(WriteFailure::Changed);
            }
            claim(&tx, &tenant, &hold, booking.id, now).await?;
            self.drop_reminder(&tx, &tenant, booking.id).await?;
            // A booking whose confirmation has not gone yet is confirmed at its new time, once.
            if !self.follow_move(&tx, tenant.id, booking.id, reminder).await? {
                self.write_mail(&tx, booking.id, message.as_slice()).await?;
            }
            self.write_event(&tx, booking.id, &event).await?;
            Ledger::release(tx.conn(), tenant.id, office, &old_units).await?;
            if !Ledger::take(tx.conn(), tenant.id, office, &new_units, slot.desks).await? {
                return Err(WriteFailure::Full);
            }
            tx.commit().await?;
            self.full_units.forget(tenant.id, office, &old_units);
            Ok(())
        })
        .await;
        self.settle_claim(&tenant, &hold, hold_token, written).await?;
        Ok(Changed { booking: moved, tenant })
    }

    /// Counts a tenant's bookings in a status (for audits, benchmarks and tests).
    pub async fn count_bookings(&self, tenant_slug: &str, status: BookingStatus) -> Result<u64, AppError> {
        let tenant = self.tenant(tenant_slug).await?;
        Ok(Bookings::count_with_status(self.store.reader(), tenant.id, status).await?)
    }
}

/// Records, in the write's transaction, that `hold` became `booking_id`: a second write with
/// the same hold fails here and rolls back.
async fn claim(
    tx: &crate::store::WriteTx,
    tenant: &TenantSnapshot,
    hold: &Hold,
    booking_id: i32,
    now: DateTime<Utc>,
) -> Result<(), WriteFailure> {
    match HoldClaims::claim(tx.conn(), tenant.id, hold.id, &hold.owner, booking_id, now).await {
        Err(e) if e.is_unique_violation() => Err(WriteFailure::HoldClaimed),
        other => Ok(other?),
    }
}

fn ensure_changeable(booking: &Booking, now: DateTime<Utc>) -> Result<(), AppError> {
    if booking.status.is_changeable() && booking.start > now { Ok(()) } else { Err(AppError::NotChangeable) }
}

/// Runs a write attempt until it commits, is full, or fails for good.
async fn retry<T, F, Fut>(mut attempt: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WriteFailure>>,
{
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(WriteFailure::Full) => return Err(AppError::SlotTaken),
            Err(WriteFailure::PersonLimit(max)) => return Err(AppError::BookingLimit(max)),
            Err(WriteFailure::HoldClaimed) => return Err(AppError::HoldUsed(None)),
            Err(WriteFailure::Changed) => return Err(AppError::NotChangeable),
            Err(WriteFailure::Failed(e)) => return Err(e.into()),
            Err(WriteFailure::Other(e)) => return Err(e),
            Err(WriteFailure::Retry) => {}
        }
    }
    Err(AppError::Busy)
}
