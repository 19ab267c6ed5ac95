//! Placing and releasing holds.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::availability::Offer;
use super::{AppError, Flow, Sportello, TenantSnapshot};
use crate::domain::OfferKey;
use crate::domain::slots::Slot;
use crate::holds::{Acquired, Hold, HoldToken};
use crate::store::{HoldClaims, Ledger};

/// How many times a hold is counted again when bookings keep changing its units meanwhile.
const COUNT_ATTEMPTS: usize = 4;

/// What a citizen asks to hold.
pub struct HoldRequest<'a> {
    pub offer: &'a OfferKey,
    pub start: DateTime<Utc>,
    /// A client-chosen id, so that retries are idempotent; a fresh one otherwise.
    pub id: Option<Uuid>,
    /// The client's own secret for the hold, so that a retry with the same id is recognised as
    /// its owner's; one is made otherwise.
    pub token: Option<HoldToken>,
    /// Who asks (an IP address), for the tenant's anti-hoarding limits; `None` is not limited.
    pub client: Option<&'a str>,
}

/// A hold just placed, with the secret that proves it is the caller's, and the tenant it was
/// placed in (so that answering needs no second lookup).
pub struct PlacedHold {
    pub hold: Hold,
    pub token: HoldToken,
    pub tenant: Arc<TenantSnapshot>,
}

impl PlacedHold {
    /// The office's time zone, to show the hold's times in.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.tenant.config.timezone_of(self.hold.office.as_str())
    }
}

impl Offer<'_> {
    /// A hold of `slot` named `id`, owned by whoever shows `token`, for the tenant's hold length.
    pub(super) fn hold(
        &self,
        tenant: &TenantSnapshot,
        slot: &Slot,
        (id, token): (Uuid, &HoldToken),
        client: Option<&str>,
        now: DateTime<Utc>,
    ) -> Hold {
        Hold {
            id,
            tenant: tenant.id,
            service: self.service.slug.clone(),
            office: self.office.slug.clone(),
            mode: self.mode,
            start: slot.start,
            end: slot.end,
            units: slot.units(tenant.config.grid_minutes),
            expires_at: now + tenant.config.hold_length(),
            client: client.map(str::to_owned),
            owner: token.digest(),
        }
    }
}

impl Sportello {
    /// Keeps one place of the slot starting at `start` for the tenant's hold duration.
    /// A client may name the hold (`id`): asking again with the same id is the same hold, so a
    /// retried request never takes a second place.
    pub async fn place_hold(&self, tenant_slug: &str, request: HoldRequest<'_>) -> Result<PlacedHold, AppError> {
        let _busy = self.pressure.enter();
        let tenant = self.tenant(tenant_slug).await?;
        let slug = tenant.config.slug.clone();
        let placed = self.hold_for(tenant, request).await;
        self.flow_metrics.count(slug.as_str(), Flow::Hold, placed.as_ref().map(|_| "placed"));
        placed
    }

    async fn hold_for(&self, tenant: Arc<TenantSnapshot>, request: HoldRequest<'_>) -> Result<PlacedHold, AppError> {
        let HoldRequest { offer, start, id, token, client } = request;
        let offer = Offer::resolve(&tenant, offer)?;
        let now = self.clock.now();
        let limits = tenant.config.limits;
        let slot = offer.slots(&tenant, now).find(start).ok_or_else(|| {
            AppError::field("start", "not_a_slot", "This time is not a bookable slot of this service, office and mode.")
        })?;
        let units = slot.units(tenant.config.grid_minutes);
        // A slot known to be sold out is refused before anything costs: no token, no I/O.
        if self.full_units.any(tenant.id, offer.office.slug.as_str(), &units) {
            return Err(AppError::SlotTaken);
        }
        if let Some(client) = client {
            self.throttle(&tenant, "holds", client, limits.holds_per_minute, now).await?;
        }
        let token = token.unwrap_or_else(|| HoldToken::generate(&mut rand::rng()));
        let hold = offer.hold(&tenant, &slot, (id.unwrap_or_else(Uuid::new_v4), &token), client, now);
        let max_per_client = (limits.holds_per_client > 0).then_some(limits.holds_per_client);
        match self.acquire(&tenant, &slot, &hold, max_per_client, now).await? {
            // A client-chosen id that already became a booking is spent: checked once the place is
            // had, so that the many refused holds of a click day cost no extra read.
            Acquired::Placed
                if id.is_some() && HoldClaims::find(self.store.reader(), tenant.id, hold.id).await?.is_some() =>
            {
                self.holds.release(tenant.id, hold.id).await?;
                Err(AppError::HoldIdTaken)
            }
            Acquired::Placed => Ok(PlacedHold { hold, token, tenant }),
            Acquired::Full => Err(AppError::SlotTaken),
            Acquired::ClientLimit => Err(AppError::TooManyHolds(limits.holds_per_client)),
            Acquired::NotOwner => Err(AppError::HoldIdTaken),
        }
    }

    /// Spends a token of `client`'s `kind` bucket, or answers how long to wait.
    pub(super) async fn throttle(
        &self,
        tenant: &TenantSnapshot,
        kind: &str,
        client: &str,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let key = format!("t{}:{kind}:{client}", tenant.id.get());
        match self.holds.throttle(&key, per_minute, now).await? {
            None => Ok(()),
            Some(retry_after) => Err(AppError::RateLimited { retry_after }),
        }
    }

    /// Places `hold` on `slot` if its units have room after confirmed bookings and live holds.
    pub(super) async fn acquire(
        &self,
        tenant: &TenantSnapshot,
        slot: &Slot,
        hold: &Hold,
        max_per_client: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Acquired, AppError> {
        let office = hold.office.as_str();
        if self.full_units.any(tenant.id, office, &hold.units) {
            return Ok(Acquired::Full);
        }
        let desks = u32::from(slot.desks);
        let mut booked = Ledger::units(self.store.reader(), tenant.id, office, &hold.units).await?;
        for _ in 0..COUNT_ATTEMPTS {
            self.full_units.remember(
                tenant.id,
                office,
                booked.iter().filter(|(_, usage)| usage.used >= desks).map(|(unit, _)| *unit),
            );
            let free: HashMap<_, _> = hold
                .units
                .iter()
                .map(|u| (*u, desks.saturating_sub(booked.get(u).map_or(0, |usage| usage.used))))
                .collect();
            let acquired = self.holds.acquire(hold, &free, max_per_client, now).await?;
            // A refusal drops the hold an earlier count (or an earlier request under this id) placed:
            // the store does so, so that no place hides behind a citizen told 409.
            if acquired != Acquired::Placed {
                return Ok(acquired);
            }
            // A booking that committed after the ledger was read may have dropped its hold before
            // the hold store counted: then its place was counted by neither. Only when the ledger
            // stood still around the count is the hold certain to have its place.
            let after = Ledger::units(self.store.reader(), tenant.id, office, &hold.units).await?;
            if after == booked {
                return Ok(Acquired::Placed);
            }
            booked = after;
        }
        // The units keep changing: give the place up rather than promise one that may not exist.
        self.holds.release(tenant.id, hold.id).await?;
        Ok(Acquired::Full)
    }

    /// Gives the place back before the hold expires (the citizen changed their mind).
    pub async fn release_hold(&self, tenant_slug: &str, id: Uuid, token: &HoldToken) -> Result<(), AppError> {
        let tenant = self.tenant(tenant_slug).await?;
        let hold = self.owned_hold(&tenant, id, token).await?;
        if self.holds.release(tenant.id, hold.id).await? { Ok(()) } else { Err(AppError::NotFound("hold")) }
    }

    /// A hold of this tenant, live or recently expired, if `token` proves it is the caller's.
    /// A hold that already became a booking says which, to its owner.
    pub async fn owned_hold(&self, tenant: &TenantSnapshot, id: Uuid, token: &HoldToken) -> Result<Hold, AppError> {
        // The hold first, then its claim: a booking commits its claim before it drops the hold,
        // so a hold found gone because it was just booked is always found claimed.
        let hold = self.holds.get(tenant.id, id).await?;
        if let Some(found) = &hold {
            if !found.is_owned_by(token) {
                return Err(AppError::NotFound("hold"));
            }
            // A live hold needs no look at the claims: the write's own claim refuses a spent one.
            if found.is_live(self.clock.now()) {
                return Ok(found.clone());
            }
        }
        if let Some(spent) = self.spent_hold(tenant, id, token).await? {
            return Err(spent);
        }
        // Gone, or expired but unclaimed (a confirmation may still renew it).
        hold.ok_or(AppError::HoldUnknown)
    }

    /// What to answer for a hold that already became a booking: which booking, to its owner;
    /// `None` when the hold was never claimed.
    pub(super) async fn spent_hold(
        &self,
        tenant: &TenantSnapshot,
        id: Uuid,
        token: &HoldToken,
    ) -> Result<Option<AppError>, AppError> {
        let Some(claim) = HoldClaims::find(self.store.reader(), tenant.id, id).await? else { return Ok(None) };
        if claim.owner != Some(token.digest()) {
            return Ok(Some(AppError::NotFound("hold")));
        }
        let booking = crate::store::Bookings::by_id(self.store.reader(), tenant.id, claim.booking_id).await?;
        Ok(Some(AppError::HoldUsed(booking.map(|b| b.code))))
    }
}
