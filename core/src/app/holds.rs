//! Placing and releasing holds.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::availability::Offer;
use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::slots::Slot;
use crate::holds::{Acquired, Hold};
use crate::store::Ledger;

/// What a citizen asks to hold.
pub struct HoldRequest<'a> {
    pub service: &'a str,
    pub office: &'a str,
    pub mode: &'a str,
    pub start: DateTime<Utc>,
    /// A client-chosen id, so that retries are idempotent; a fresh one otherwise.
    pub id: Option<Uuid>,
    /// Who asks (an IP address), for the tenant's anti-hoarding limits; `None` is not limited.
    pub client: Option<&'a str>,
}

impl Sportello {
    /// Keeps one place of the slot starting at `start` for the tenant's hold duration.
    /// A client may name the hold (`id`): asking again with the same id is the same hold, so a
    /// retried request never takes a second place.
    pub async fn place_hold(&self, tenant_slug: &str, request: HoldRequest<'_>) -> Result<Hold, AppError> {
        let HoldRequest { service, office, mode, start, id, client } = request;
        let tenant = self.tenant(tenant_slug).await?;
        let offer = Offer::resolve(&tenant, service, office, mode)?;
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
        let hold = Hold {
            id: id.unwrap_or_else(Uuid::new_v4),
            tenant: tenant.id,
            service: offer.service.slug.clone(),
            office: offer.office.slug.clone(),
            mode: offer.mode,
            start: slot.start,
            end: slot.end,
            units,
            expires_at: now + TimeDelta::minutes(i64::from(tenant.config.hold_minutes)),
            client: client.map(str::to_owned),
        };
        let max_per_client = (limits.holds_per_client > 0).then_some(limits.holds_per_client);
        match self.acquire(&tenant, &slot, &hold, max_per_client, now).await? {
            Acquired::Placed => Ok(hold),
            Acquired::Full => Err(AppError::SlotTaken),
            Acquired::ClientLimit => Err(AppError::TooManyHolds(limits.holds_per_client)),
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
        let key = format!("t{}:{kind}:{client}", tenant.id.0);
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
        let (from, to) = (slot.start.timestamp(), slot.end.timestamp());
        let booked = Ledger::usage(self.store.reader(), tenant.id, office, from, to).await?;
        let desks = u32::from(slot.desks);
        self.full_units.remember(tenant.id, office, booked.iter().filter(|(_, n)| **n >= desks).map(|(u, _)| *u));
        let free: HashMap<_, _> = hold
            .units
            .iter()
            .map(|u| (*u, u32::from(slot.desks).saturating_sub(booked.get(u).copied().unwrap_or(0))))
            .collect();
        Ok(self.holds.acquire(hold, &free, max_per_client, now).await?)
    }

    /// Gives the place back before the hold expires (the citizen changed their mind).
    pub async fn release_hold(&self, tenant_slug: &str, id: Uuid) -> Result<(), AppError> {
        let tenant = self.tenant(tenant_slug).await?;
        if self.holds.release(tenant.id, id).await? { Ok(()) } else { Err(AppError::NotFound("hold")) }
    }

    /// A hold of this tenant, live or recently expired, with its time zone for display.
    pub async fn hold(&self, tenant: &TenantSnapshot, id: Uuid) -> Result<Hold, AppError> {
        self.holds.get(tenant.id, id).await?.ok_or(AppError::HoldUnknown)
    }
}
